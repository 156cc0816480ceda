"""Salesforce errors translated once, from a table keyed on HTTP status, errorCode and message.

Salesforce reuses some codes for situations that call for opposite actions (REQUEST_LIMIT_EXCEEDED
is both "too many concurrent long requests, retry shortly" and "the daily budget is spent, stop"),
so a rule may also name a message fragment. The first matching rule wins; rules are ordered from
most to least specific. Messages we raise carry codes and fields, never response bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
import requests
from simple_salesforce.exceptions import SalesforceError

from connectors.errors import (
    AuthenticationError,
    BudgetExhaustedError,
    ConfigurationError,
    ConnectorError,
    RateLimitedError,
    RetryableError,
    StreamError,
)


class SessionExpiredError(AuthenticationError):
    """INVALID_SESSION_ID: the access token expired; the client logs in again and retries once."""

    code = "INVALID_SESSION_ID"


class QueryTimeoutError(StreamError):
    """QUERY_TIMEOUT: the reader narrows its time window and retries the halves."""

    code = "QUERY_TIMEOUT"


class BulkNotSupportedError(ConfigurationError):
    """Bulk API 2.0 refuses this object or query; the reader falls back to REST."""

    code = "bulk_not_supported"


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table: ``None`` matches anything; ``message`` is a case-insensitive fragment."""

    status: int | None
    code: str | None
    message: str | None
    make: Callable[[str, str], ConnectorError]  # (errorCode, message) -> error


def _retry(code: str, message: str) -> ConnectorError:
    return RetryableError(f"Salesforce {code}: {message}", code=code)


def _rate(code: str, message: str) -> ConnectorError:
    return RateLimitedError(f"Salesforce {code}: {message}", code=code)


def _budget(code: str, message: str) -> ConnectorError:
    return BudgetExhaustedError(f"Salesforce daily API budget exhausted ({code}: {message})")


def _config(code: str, message: str) -> ConnectorError:
    return ConfigurationError(f"Salesforce {code}: {message}", code=code)


def _auth(code: str, message: str) -> ConnectorError:
    return AuthenticationError(f"Salesforce login refused ({code}): {message}", code=code)


def _stream(code: str, message: str) -> ConnectorError:
    return StreamError(f"Salesforce {code}: {message}", code=code)


def _of(cls: type[ConnectorError]) -> Callable[[str, str], ConnectorError]:
    return lambda code, message: cls(f"Salesforce {code}: {message}")


API_RULES: tuple[Rule, ...] = (
    Rule(401, "INVALID_SESSION_ID", None, _of(SessionExpiredError)),
    Rule(None, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit", _budget),  # the 24-hour API budget
    Rule(None, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn", _rate),  # >25 long requests in flight
    Rule(None, "REQUEST_LIMIT_EXCEEDED", None, _rate),  # other concurrency limits clear by themselves
    Rule(None, "QUERY_TIMEOUT", None, _of(QueryTimeoutError)),
    Rule(None, "INVALIDENTITY", "not supported by the Bulk API", _of(BulkNotSupportedError)),
    Rule(None, "INVALID_FIELD", "compound data not supported in Bulk", _of(BulkNotSupportedError)),
    Rule(None, "API_ERROR", "does not support query", _of(BulkNotSupportedError)),
    Rule(None, "MALFORMED_QUERY", None, _config),
    Rule(None, "INVALID_FIELD", None, _config),
    Rule(None, "INVALID_TYPE", None, _config),
    Rule(None, "INSUFFICIENT_ACCESS", None, _config),
    Rule(None, "API_DISABLED_FOR_ORG", None, _config),
    Rule(None, "NOT_FOUND", None, _stream),
    Rule(None, "INVALID_QUERY_LOCATOR", None, _stream),  # the cursor expired: resume from the stored cursor
    Rule(None, "UNABLE_TO_LOCK_ROW", None, _retry),  # another transaction holds the row for a moment
    Rule(None, "SERVER_UNAVAILABLE", None, _retry),
    Rule(412, "JOB_NOT_COMPLETE", None, _retry),
    Rule(401, None, None, _of(SessionExpiredError)),
    Rule(429, None, None, _rate),
    Rule(503, None, None, _retry),
    Rule(500, None, None, _retry),
    Rule(502, None, None, _retry),
    Rule(504, None, None, _retry),
    Rule(400, None, None, _stream),
    Rule(403, None, None, _config),
    Rule(404, None, None, _stream),
)

LOGIN_RULES: tuple[Rule, ...] = (
    Rule(None, "invalid_grant", None, _auth),  # bad credentials, expired refresh token, unapproved app
    Rule(None, "invalid_client_id", None, _auth),
    Rule(None, "invalid_client", None, _auth),
    Rule(None, "unsupported_grant_type", None, _config),
    Rule(400, None, None, _auth),
    Rule(401, None, None, _auth),
    Rule(403, None, None, _auth),
    Rule(429, None, None, _rate),
)

_TRANSPORT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def lookup(rules: tuple[Rule, ...], status: int, code: str, message: str) -> Rule | None:
    """The first rule matching the status, the vendor code and (where given) a message fragment."""
    lowered = message.lower()
    for rule in rules:
        if rule.status is not None and rule.status != status:
            continue
        if rule.code is not None and rule.code != code:
            continue
        if rule.message is not None and rule.message.lower() not in lowered:
            continue
        return rule
    return None


def error_body(content: bytes | str | list[Any] | dict[str, Any] | None) -> tuple[str, str]:
    """(errorCode, message) from a REST error array, an OAuth error object or a Bulk 1.0 error."""
    data: Any = content
    if isinstance(content, bytes | str):
        try:
            data = orjson.loads(content) if content else None
        except orjson.JSONDecodeError:
            return "", ""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict):
        return "", ""
    code = data.get("errorCode") or data.get("error") or data.get("exceptionCode") or data.get("statusCode") or ""
    message = data.get("message") or data.get("error_description") or data.get("exceptionMessage") or ""
    return str(code), str(message)[:300]


def from_response(response: requests.Response, *, login: bool = False) -> ConnectorError:
    """Translate an error response (status >= 300) into the connector error the caller must act on."""
    code, message = error_body(response.content)
    rules = LOGIN_RULES if login else API_RULES
    rule = lookup(rules, response.status_code, code, message)
    if rule is None:
        status = response.status_code
        rule = Rule(None, None, None, _retry if status >= 500 else _stream)
    error = rule.make(code or f"HTTP_{response.status_code}", message or response.reason or "")
    if isinstance(error, RetryableError):
        error.retry_after = retry_after(response.headers.get("Retry-After"))
    return error


def from_sf_error(exc: SalesforceError) -> ConnectorError:
    """Translate simple-salesforce's exception (raised by the calls made through it) with the same table."""
    code, message = error_body(exc.content)
    rule = lookup(API_RULES, exc.status, code, message) or Rule(
        None, None, None, _retry if exc.status >= 500 else _stream)
    return rule.make(code or f"HTTP_{exc.status}", message or type(exc).__name__)


def from_transport(exc: requests.RequestException) -> ConnectorError:
    """A failure below HTTP: dropped connections are retried, a TLS verification failure is configuration."""
    if isinstance(exc, requests.exceptions.SSLError):
        return ConfigurationError(f"TLS verification failed ({type(exc).__name__}); set ca_bundle", code="tls")
    if isinstance(exc, _TRANSPORT):
        return RetryableError(f"connection failed: {type(exc).__name__}", code="connection")
    return ConfigurationError(f"request failed: {type(exc).__name__}", code="request")


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def item_error_code(errors: list[dict[str, Any]]) -> tuple[str, str, tuple[str, ...]]:
    """(statusCode, message, fields) of the first error of a collection SaveResult item."""
    first = errors[0] if errors else {}
    code = str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN_ERROR")
    return code, str(first.get("message") or ""), tuple(first.get("fields") or ())
