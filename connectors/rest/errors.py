"""HTTP failures translated once, from a table keyed on status.

429 is a rate limit and 503 a retryable outage, both with the server's Retry-After (seconds or an
HTTP date, measured against the response's own Date header); 401/403 are authentication; 400, 404,
409 and 422 about one record become RecordErrors; other 5xx are retryable. Messages carry the
status and a vendor error code when the body has a short one, never the body itself.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from connectors.errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectorError,
    RateLimitedError,
    RecordError,
    RetryableError,
    StreamError,
)

RECORD_STATUSES = frozenset({400, 404, 409, 422})
"""Statuses that, in answer to a write of one record, are about that record."""

STATUS_TABLE: dict[int, type[ConnectorError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    407: ConfigurationError,  # proxy authentication: the deployment, not the API
    408: RetryableError,
    425: RetryableError,
    429: RateLimitedError,
    500: RetryableError,
    502: RetryableError,
    503: RetryableError,
    504: RetryableError,
}
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


def retry_after(response: requests.Response) -> float | None:
    """Seconds the server asks us to wait: ``Retry-After: 120`` or an HTTP date (RFC 9110 10.2.3)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = _server_now(response)
    return max(0.0, (when - now).total_seconds())


def _server_now(response: requests.Response) -> datetime:
    """The response's Date header (the server's clock, which Retry-After dates are relative to)."""
    try:
        return parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC)


def vendor_code(response: requests.Response) -> str | None:
    """A short error code from a JSON error body (``code``, ``error.code`` or ``error``), if it has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    candidates: list[Any] = []
    if isinstance(body, dict):
        error = body.get("error")
        candidates = [body.get("code"), error.get("code") if isinstance(error, dict) else error]
    return next((c for c in candidates if isinstance(c, str) and _CODE.match(c)), None)


def status_error(response: requests.Response, action: str) -> ConnectorError:
    """The error for a failed response outside a record's write (a page, a token, a batch)."""
    status = response.status_code
    cls = STATUS_TABLE.get(status) or (RetryableError if status >= 500 else
                                       ConfigurationError if status in (400, 404, 405, 410) else StreamError)
    message = f"{action}: HTTP {status} {response.reason or ''}".rstrip()
    code = vendor_code(response)
    if code:
        message += f" ({code})"
    if issubclass(cls, RetryableError):
        return cls(message, retry_after=retry_after(response))
    return cls(message)


def record_error(response: requests.Response, key: str | None, payload: Any) -> RecordError:
    """The error for one record's rejected write (400/404/409/422)."""
    code = vendor_code(response) or f"http_{response.status_code}"
    return RecordError(code, f"HTTP {response.status_code} {response.reason or ''}".rstrip(), key=key,
                       payload=payload)


def transport_error(exc: requests.RequestException, action: str) -> ConnectorError:
    """Connection failures are retryable; a TLS failure is the deployment's to fix."""
    if isinstance(exc, requests.exceptions.SSLError):
        return ConfigurationError(f"{action}: TLS failed ({type(exc).__name__})")
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return RetryableError(f"{action}: {type(exc).__name__}")
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return ConfigurationError(f"{action}: invalid URL")
    return StreamError(f"{action}: {type(exc).__name__}")
