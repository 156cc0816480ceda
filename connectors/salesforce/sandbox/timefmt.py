"""Date and time text in the sandbox: one canonical stored form per type, so SQLite compares them as text.

Stored and returned by REST exactly as Salesforce returns them:
datetime ``2024-01-01T00:00:00.000+0000`` (always UTC, milliseconds), date ``2024-01-01``,
time ``10:30:00.000Z``. Fixed-width UTC text orders the same as the instants it names, so indexes
and range filters work on the text directly and pages need no per-value conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

Clock = Callable[[], float]
"""Seconds since the epoch; injected so tests control session expiry, date literals and timestamps."""


def format_datetime(dt: datetime) -> str:
    """Canonical text of an aware (or UTC-naive) datetime."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def from_epoch(seconds: float) -> str:
    return format_datetime(datetime.fromtimestamp(seconds, UTC))


def normalize_datetime(text: str) -> str:
    """Any ISO 8601 datetime a client sends (``Z``, ``+00:00``, ``+0000``, 0-9 fraction digits) -> canonical.

    A value without an offset is taken as UTC; a bare date as its midnight.
    """
    text = text.strip()
    if len(text) > 26 and "." in text:
        # Python accepts at most 6 fraction digits reliably: cut nanoseconds before parsing.
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[: min(digits, 6)] + rest[digits:]
        text = f"{head}.{rest}"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return format_datetime(dt)


def normalize_date(text: str) -> str:
    """``YYYY-MM-DD`` (a datetime's date part is accepted, as the API does)."""
    text = text.strip()
    if len(text) > 10 and text[10] in "T ":
        text = text[:10]
    return date.fromisoformat(text).isoformat()


def normalize_time(text: str) -> str:
    """``HH:MM:SS.sssZ``."""
    t = time.fromisoformat(text.strip().rstrip("Z"))
    return t.strftime("%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def datetime_of(text: str) -> datetime:
    """Canonical text -> aware datetime."""
    return datetime.fromisoformat(text)
