"""SOQL built only through simple-salesforce's format_soql (values quoted and escaped there).

The one addition is datetimes: simple-salesforce drops the milliseconds, which would move a closed
lower bound on SystemModstamp up to a second back and re-read records we already emitted. Field and
object names cannot be quoted in SOQL, so they are checked against the identifier grammar instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from simple_salesforce.format import SoqlFormatter

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")


class _Formatter(SoqlFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        if not format_spec and isinstance(value, datetime):
            return soql_datetime(value)
        return super().format_field(value, format_spec)


def format_soql(query: str, *args: Any, **kwargs: Any) -> str:
    """simple_salesforce.format_soql, with millisecond-precise UTC datetime literals."""
    return _Formatter().vformat(query, args, kwargs)


def soql_datetime(value: datetime) -> str:
    """A SOQL datetime literal (unquoted, UTC, milliseconds); naive values are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def ident(name: str) -> str:
    """``name`` if it is a valid SOQL identifier (field, relationship path or object), else ValueError."""
    if not _IDENT.match(name):
        raise ValueError(f"not a SOQL identifier: {name!r}")
    return name


def where_window(cursor_field: str, start: datetime | None, end: datetime | None,
                 extra: Iterable[str] = ()) -> str:
    """`` WHERE f >= start AND f < end`` (closed lower, open upper bound), or '' when unbounded."""
    parts = list(extra)
    if start is not None:
        parts.append(format_soql("{:literal} >= {}", ident(cursor_field), start))
    if end is not None:
        parts.append(format_soql("{:literal} < {}", ident(cursor_field), end))
    return " WHERE " + " AND ".join(parts) if parts else ""


def key_range(start: str | int | None, end: str | int | None, key: str = "Id") -> list[str]:
    """Conditions of a half-open key range ``[start, end)`` (PK-chunk style partitions)."""
    parts = []
    if start is not None:
        parts.append(format_soql("{:literal} >= {}", ident(key), str(start)))
    if end is not None:
        parts.append(format_soql("{:literal} < {}", ident(key), str(end)))
    return parts


def select(obj: str, fields: Sequence[str], cursor_field: str | None = None, start: datetime | None = None,
           end: datetime | None = None, *, ordered: bool = True, limit: int | None = None,
           conditions: Sequence[str] = ()) -> str:
    """The read query of one window, ordered by (cursor, Id) so a cursor can resume inside it.

    Bulk API 2.0 refuses ORDER BY and LIMIT, so bulk reads pass ``ordered=False``. ``conditions``
    are extra clauses already built by this module (``key_range``).
    """
    query = format_soql("SELECT {:literal} FROM {:literal}", ", ".join(ident(f) for f in fields), ident(obj))
    if cursor_field is None:
        start = end = None
    query += where_window(cursor_field or "Id", start, end, conditions)
    if ordered:
        order = [ident(cursor_field), "Id"] if cursor_field else ["Id"]
        query += format_soql(" ORDER BY {:literal}", ", ".join(f"{f} ASC" for f in order))
    if limit is not None:
        query += format_soql(" LIMIT {}", int(limit))
    return query


def count(obj: str, cursor_field: str | None = None, start: datetime | None = None,
          end: datetime | None = None, conditions: Sequence[str] = ()) -> str:
    """``SELECT COUNT() FROM obj [WHERE window]``: how the reader picks REST or Bulk."""
    if cursor_field is None:
        start = end = None
    return format_soql("SELECT COUNT() FROM {:literal}", ident(obj)) + where_window(
        cursor_field or "Id", start, end, conditions)


def id_in(obj: str, fields: Sequence[str], ids: Sequence[str]) -> str:
    """Records by Id (at most a few hundred ids: the GET URL must stay under ~16 KB)."""
    return format_soql("SELECT {:literal} FROM {:literal} WHERE Id IN {}",
                       ", ".join(ident(f) for f in fields), ident(obj), list(ids))
