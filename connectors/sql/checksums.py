"""Range checksums computed in the database: a count and an order-independent hash per key range.

Each row hashes the chosen columns to 64 bits and the range's digest is the sum of those hashes
modulo 2**64, so equal ranges compare equal without moving a row. PostgreSQL 14 and later hash the
row's values by type (``hash_record_extended``; text under the "C" collation); older PostgreSQL and
MySQL/MariaDB take the MD5 of the row as text (NULL as ``\\N``, joined by ``|``; its first 16 hex
digits); SQLite, which has no hash function, uses an aggregate this connector registers (BLAKE2b) over
that text. Digests are comparable between two databases of the same dialect, version and column types
(mirrors), not across dialects.

``row_digests`` gives the same 64-bit hash per row with its key, so a range that differs can be
compared key by key while moving two values a row instead of the whole row (SQLite, in process,
hashes in Python the way its aggregate does).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    Time,
    Uuid,
    and_,
    bindparam,
    cast,
    func,
    literal,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import BIT, JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.types import NullType

from connectors.base import KeyRange, RangeChecksum
from connectors.errors import ConfigurationError
from connectors.sql.client import HASH_SUM, SqlClient
from connectors.sql.reader import range_filter
from connectors.sql.streams import TableStream, coerce

MASK = (1 << 64) - 1


def _row_hash(columns: Sequence[Any], family: str, version: tuple[int, ...] | None = None) -> ColumnElement[Any]:
    if family == "postgresql" and version is not None and version >= (14,):
        # Each value hashed by its type's own hash function, no text made of it: less than half the cost
        # of formatting the row as text (timestamps and numerics dominate that) and hashing it.
        return func.hash_record_extended(func.row(*(_hashable(c) for c in columns)), 0, type_=BigInteger)
    as_text = Text if family == "postgresql" else String
    parts = [func.coalesce(cast(c, as_text), literal("\\N")) for c in columns]
    md5 = func.md5(func.concat_ws(literal("|"), *parts))
    if family == "postgresql":
        hexed = literal("x").op("||")(func.substr(md5, 1, 16))
        return cast(cast(cast(hexed, Text), BIT(64)), BigInteger)
    return func.conv(func.substring(md5, 1, 16), 16, 10)


_PLAIN_TEXT = {"string", "unicode", "text", "unicode_text", "VARCHAR", "NVARCHAR", "CHAR", "NCHAR", "TEXT"}
_NATIVE_HASH = (Integer, Numeric, Date, DateTime, Time, Boolean, Uuid, LargeBinary, JSONB)


def _hashable(column: Any) -> ColumnElement[Any]:
    """A column as PostgreSQL can hash it: text under the "C" collation (bytes, never case-folded by a
    case-insensitive collation), types with a hash function as they are, any other type as its text."""
    if isinstance(column.type, String) and column.type.__visit_name__ in _PLAIN_TEXT:
        return column.collate("C")
    if isinstance(column.type, _NATIVE_HASH):
        return column
    return cast(column, Text).collate("C")


def _aggregate(columns: Sequence[Any], family: str, version: tuple[int, ...] | None) -> ColumnElement[Any]:
    if family == "sqlite":
        return getattr(func, HASH_SUM)(*columns)
    return func.sum(cast(_row_hash(columns, family, version), Numeric(30, 0)))


def _chosen(stream: TableStream, columns: Sequence[str]) -> list[Any]:
    unknown = [c for c in columns if c not in stream.table.c]
    if unknown or not columns:
        raise ConfigurationError(f"sql stream {stream.name!r}: checksum columns {unknown or '(none)'} not in table")
    return [stream.table.c[c] for c in columns]


def _live(stream: TableStream) -> list[ColumnElement[bool]]:
    """Soft-deleted rows are excluded, as reads exclude them."""
    if stream.soft_delete is None:
        return []
    return [(stream.soft_delete.is_(None))
            | (stream.soft_delete != literal(stream.deleted_value, stream.soft_delete.type))]


def range_checksums(client: SqlClient, stream: TableStream, columns: Sequence[str],
                    ranges: Sequence[KeyRange]) -> list[RangeChecksum]:
    """One checksum per range, live rows only (soft-deleted rows are excluded, as reads exclude them).

    One statement per shape of range (bounded below, above, both, neither) is built and reused with the
    bounds as parameters: building the hash expression anew per range cost more than a small range's scan.
    """
    chosen, live = _chosen(stream, columns), _live(stream)
    key = stream.key[0]
    statements: dict[tuple[bool, bool], Any] = {}
    out = []
    with client.connect() as conn:
        for key_range in ranges:
            params = _bounds(stream, key_range)
            shape = ("lo" in params, "hi" in params)
            if shape not in statements:
                where = [*live, *([key >= bindparam("lo", type_=key.type)] if shape[0] else []),
                         *([key < bindparam("hi", type_=key.type)] if shape[1] else [])]
                total = _aggregate(chosen, client.family, conn.dialect.server_version_info)
                statements[shape] = select(func.count(), total).select_from(stream.table).where(and_(true(), *where))
            count, total = conn.execute(statements[shape], params).one()
            out.append(RangeChecksum(int(count), _digest(total, client.family)))
    return out


def _bounds(stream: TableStream, key_range: KeyRange) -> dict[str, Any]:
    """The range's bounds as the key column's values (as ``reader.range_filter`` coerces them)."""
    column, params = stream.key[0], {}
    try:
        if key_range.start is not None:
            params["lo"] = coerce(column, key_range.start)
        if key_range.end is not None:
            params["hi"] = coerce(column, key_range.end)
    except ValueError as exc:
        raise ConfigurationError(f"sql stream {stream.name!r}: range bound does not fit {column.name!r}") from exc
    return params


def row_digests(client: SqlClient, stream: TableStream, columns: Sequence[str], key_range: KeyRange | None,
                batch_size: int = 50_000) -> Iterator[tuple[Any, int]]:
    """(key, 64-bit row hash) for the live rows of a key range (of the table if None), in no set order.

    The hash is the one ``range_checksums`` sums (as a signed 64-bit value on PostgreSQL), so a range's
    digests add up to its checksum modulo 2**64. Only the leading key column is returned: mirrors are
    diffed on single-column keys.
    """
    chosen, live = _chosen(stream, columns), _live(stream)
    key = stream.key[0]
    where = and_(true(), *live, *range_filter(stream, key_range))
    with client.connect() as conn:
        if client.family == "sqlite":
            raw = [type_coerce(c, NullType()) for c in chosen]  # the stored values, as its aggregate sees them
            for row in conn.execute(select(key, *raw).where(where)):
                yield row[0], _sqlite_hash(row[1:])
            return
        stmt = select(key, _row_hash(chosen, client.family, conn.dialect.server_version_info)).where(where)
        if client.family == "postgresql":
            yield from _driver_rows(conn, stmt, batch_size)
            return
        result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(stmt)
        for rows in result.partitions(batch_size):
            yield from ((r[0], int(r[1])) for r in rows)


def _driver_rows(conn: Connection, stmt: Any, batch_size: int) -> Iterator[tuple[Any, int]]:
    """PostgreSQL: the statement's rows straight from psycopg's server-side cursor, as plain tuples.

    Two plain values a row do not need SQLAlchemy's Row objects, which cost three times the fetch itself.
    """
    compiled = stmt.compile(dialect=conn.dialect)
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor(name=f"crmsync_digests_{uuid.uuid4().hex[:12]}") as cursor:
        cursor.itersize = batch_size
        cursor.execute(compiled.string, compiled.params)
        while rows := cursor.fetchmany(batch_size):
            yield from rows


def _sqlite_hash(values: Sequence[Any]) -> int:
    """The row hash SQLite's checksum aggregate sums (see connectors.sql.client)."""
    text = "|".join("\\N" if v is None else str(v) for v in values)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


def _digest(total: Any, family: str) -> str:
    if total is None:
        return "0" * 16
    if family == "sqlite":
        return str(total)
    return f"{int(total) & MASK:016x}"
