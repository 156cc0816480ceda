"""The stream table of the SQL connector: configured or reflected tables, their keys and cursors.

A ``TableStream`` joins a stream's settings to its reflected table once, so readers and writers
work with SQLAlchemy columns (quoted by SQLAlchemy) and never with names from config directly.
Keys travel as strings (tombstones, deletes, key ranges, cursors): one column is ``str(value)``,
a composite key is a JSON array of strings; ``coerce`` turns them back into column values.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy import types as sqltypes

from connectors.base import FieldSpec, FieldType, StreamSpec
from connectors.errors import ConfigurationError
from connectors.sql.config import SqlStreamConfig

# Ordered: the first match wins (Enum and Text are Strings, Float is a Numeric, JSONB is a JSON).
TYPE_TABLE: tuple[tuple[type[sqltypes.TypeEngine[Any]], FieldType], ...] = (
    (sqltypes.Boolean, "boolean"),
    (sqltypes.Enum, "picklist"),
    (sqltypes.Integer, "integer"),
    (sqltypes.Numeric, "decimal"),
    (sqltypes.DateTime, "datetime"),
    (sqltypes.Date, "date"),
    (sqltypes.Time, "time"),
    (sqltypes.JSON, "json"),
    (sqltypes.Uuid, "id"),
    (sqltypes.LargeBinary, "base64"),
    (sqltypes.Text, "text"),
    (sqltypes.String, "string"),
)


def field_type(column: Column[Any]) -> FieldType:
    for sql_type, ours in TYPE_TABLE:
        if isinstance(column.type, sql_type):
            return "text" if ours == "string" and getattr(column.type, "length", None) is None else ours
    return "string"


def _python_type(column: Column[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "t", "yes", "y"):
        return True
    if lowered in ("0", "false", "f", "no", "n"):
        return False
    raise ValueError("not a boolean")


_FROM_TEXT: dict[type, Callable[[str], Any]] = {
    int: int, float: float, Decimal: Decimal, bool: _parse_bool, uuid.UUID: uuid.UUID,
    datetime: datetime.fromisoformat, date: date.fromisoformat, time: time.fromisoformat,
}
_WRITE_COERCED = (datetime, date, time, bool, uuid.UUID)  # drivers or SQLite's bind processors refuse text


def coerce(column: Column[Any], value: Any) -> Any:
    """A value for ``column`` from its text form (keys and cursors travel as text); ValueError if bad."""
    if not isinstance(value, str):
        return value
    parse = _FROM_TEXT.get(_python_type(column) or str)
    return parse(value) if parse else value


def write_coercer(column: Column[Any]) -> Callable[[Any], Any] | None:
    """How text bound for ``column`` is turned into its Python type on write, when the driver needs it."""
    python_type = _python_type(column)
    if python_type not in _WRITE_COERCED:
        return None
    return lambda value: coerce(column, value)


def jsonable(value: Any) -> Any:
    """A JSON-safe form of a key or cursor value (cursors are stored as JSON)."""
    if value is None or isinstance(value, (str, int, bool, float)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class TableStream:
    """One stream resolved against its table."""

    name: str
    table: Table
    key: tuple[Column[Any], ...]
    updated_at: Column[Any] | None
    soft_delete: Column[Any] | None
    deleted_value: Any
    key_sweep: bool

    @property
    def order(self) -> tuple[Column[Any], ...]:
        """Read order: cursor column first, key as tie-breaker."""
        return ((self.updated_at,) if self.updated_at is not None else ()) + self.key

    def key_of(self, values: Sequence[Any]) -> str:
        if len(self.key) == 1:
            return str(values[0])
        return json.dumps([str(v) for v in values])

    def parse_key(self, key: str) -> tuple[Any, ...]:
        """Column values of a key string; ValueError when it does not fit the key columns."""
        parts = [key] if len(self.key) == 1 else json.loads(key)
        if not isinstance(parts, list) or len(parts) != len(self.key):
            raise ValueError("key does not match the primary key columns")
        return tuple(coerce(column, part) for column, part in zip(self.key, parts, strict=True))

    def is_deleted(self, value: Any) -> bool:
        wanted = self.deleted_value
        return value == wanted or (value is not None and str(value).strip() == str(wanted))

    def spec(self) -> StreamSpec:
        unique = unique_columns(self.table)
        fields = tuple(
            FieldSpec(
                name=c.name, type=field_type(c), nullable=bool(c.nullable) and not c.primary_key,
                length=getattr(c.type, "length", None), external_id=c.name in unique,
                picklist_values=tuple(c.type.enums) if isinstance(c.type, sqltypes.Enum) else None,
                restricted=isinstance(c.type, sqltypes.Enum), writable=c.computed is None,
            )
            for c in self.table.columns
        )
        return StreamSpec(name=self.name, primary_key=tuple(c.name for c in self.key),
                          cursor_field=self.updated_at.name if self.updated_at is not None else None,
                          fields=fields, supports_deletes=self.soft_delete is not None or self.key_sweep)


def unique_columns(table: Table) -> set[str]:
    """Single columns with a unique constraint or index: usable as upsert keys (external ids)."""
    found = {c.name for c in table.columns if c.unique}
    for index in table.indexes:
        if index.unique and len(index.columns) == 1:
            found |= {c.name for c in index.columns}
    for constraint in table.constraints:
        columns = getattr(constraint, "columns", ())
        if type(constraint).__name__ == "UniqueConstraint" and len(columns) == 1:
            found |= {c.name for c in columns}
    return found


def resolve(name: str, settings: SqlStreamConfig, table: Table) -> TableStream:
    """Join settings to the reflected table; unknown columns or a missing key are config errors."""
    key_names = settings.primary_key or tuple(c.name for c in table.primary_key.columns)
    if not key_names:
        raise ConfigurationError(f"sql stream {name!r}: table {table.name!r} has no primary key; set primary_key")

    def column(col: str | None, what: str) -> Column[Any] | None:
        if col is None:
            return None
        if col not in table.c:
            raise ConfigurationError(f"sql stream {name!r}: {what} column {col!r} not in table {table.name!r}")
        return table.c[col]

    key = tuple(c for c in (column(k, "primary key") for k in key_names) if c is not None)
    soft_delete = column(settings.soft_delete_column, "soft-delete")
    deleted_value = settings.deleted_value
    if soft_delete is not None:
        try:
            deleted_value = coerce(soft_delete, deleted_value)
        except ValueError as exc:
            raise ConfigurationError(f"sql stream {name!r}: deleted_value does not fit its column") from exc
    return TableStream(name, table, key, column(settings.updated_at, "updated_at"), soft_delete, deleted_value,
                       settings.key_sweep)
