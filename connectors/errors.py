"""Errors a connector raises, sorted by what the caller should do about them.

Vendor errors are translated once, in each connector's own errors module, from a table keyed on
HTTP status and vendor error code, with ``raise ... from exc``. Messages carry record ids, field
names and codes, never field values or response bodies: they end up in logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ConnectorError(Exception):
    """Base of every connector error; ``code`` is a stable machine-readable reason."""

    code: str = "connector_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigurationError(ConnectorError):
    """The user must fix the configuration (wrong object, bad query, missing table). Never retried; exit 2."""

    code = "configuration"


class AuthenticationError(ConnectorError):
    """Credentials were refused or have expired beyond what a refresh can fix."""

    code = "authentication"


class RetryableError(ConnectorError):
    """A transient fault: retrying the same request later may succeed.

    ``retry_after`` (seconds) is the server's own hint (Retry-After header); policies honour it.
    """

    code = "retryable"

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class RateLimitedError(RetryableError):
    """The server asked us to slow down (HTTP 429, concurrent-request limits). Never a success."""

    code = "rate_limited"


class BudgetExhaustedError(ConnectorError):
    """The API budget is spent (or the configured share of it): stop on purpose; the run is partial (exit 3)."""

    code = "budget_exhausted"

    def __init__(self, message: str, *, used: int | None = None, limit: int | None = None) -> None:
        super().__init__(message)
        self.used = used
        self.limit = limit


class StreamError(ConnectorError):
    """This stream cannot go on (after retries); other streams of the run continue."""

    code = "stream_failed"


@dataclass(slots=True)
class RecordError(Exception):
    """One record could not be read or written; it goes to quarantine and the rest goes on.

    ``code`` is the vendor's or our stable code (REQUIRED_FIELD_MISSING, bad_csv_line...),
    ``fields`` the native fields involved, ``line`` the source line for file input and
    ``payload`` the raw record or line, kept for quarantine and never logged.
    """

    code: str
    message: str
    fields: tuple[str, ...] = ()
    key: str | None = None
    line: int | None = None
    payload: Any = field(default=None, repr=False)

    def __str__(self) -> str:
        where = f" line {self.line}" if self.line is not None else ""
        fields = f" fields {','.join(self.fields)}" if self.fields else ""
        return f"{self.code}{where}{fields}: {self.message}"
