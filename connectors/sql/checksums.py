"""Range checksums computed in the database: a count and an order-independent hash per key range.

Each row hashes the text of the chosen columns (NULL as ``\\N``, joined by ``|``) to 64 bits and
the range's digest is the sum of those hashes modulo 2**64, so equal ranges compare equal without
moving a row. PostgreSQL and MySQL/MariaDB use MD5 (the first 16 hex digits); SQLite, which has no
hash function, uses an aggregate this connector registers (BLAKE2b). Digests are comparable between
two databases of the same dialect and column types (mirrors), not across dialects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Numeric, String, Text, and_, cast, func, literal, select, true
from sqlalchemy.dialects.postgresql import BIT

from connectors.base import KeyRange, RangeChecksum
from connectors.errors import ConfigurationError
from connectors.sql.client import HASH_SUM, SqlClient
from connectors.sql.reader import range_filter
from connectors.sql.streams import TableStream

MASK = (1 << 64) - 1


def _row_hash(columns: Sequence[Any], family: str) -> ColumnElement[Any]:
    as_text = Text if family == "postgresql" else String
    parts = [func.coalesce(cast(c, as_text), literal("\\N")) for c in columns]
    md5 = func.md5(func.concat_ws(literal("|"), *parts))
    if family == "postgresql":
        hexed = literal("x").op("||")(func.substr(md5, 1, 16))
        return cast(cast(cast(hexed, Text), BIT(64)), BigInteger)
    return func.conv(func.substring(md5, 1, 16), 16, 10)


def _aggregate(columns: Sequence[Any], family: str) -> ColumnElement[Any]:
    if family == "sqlite":
        return getattr(func, HASH_SUM)(*columns)
    return func.sum(cast(_row_hash(columns, family), Numeric(30, 0)))


def range_checksums(client: SqlClient, stream: TableStream, columns: Sequence[str],
                    ranges: Sequence[KeyRange]) -> list[RangeChecksum]:
    """One checksum per range, live rows only (soft-deleted rows are excluded, as reads exclude them)."""
    unknown = [c for c in columns if c not in stream.table.c]
    if unknown or not columns:
        raise ConfigurationError(f"sql stream {stream.name!r}: checksum columns {unknown or '(none)'} not in table")
    chosen = [stream.table.c[c] for c in columns]
    live = [] if stream.soft_delete is None else [
        (stream.soft_delete.is_(None)) | (stream.soft_delete != literal(stream.deleted_value, stream.soft_delete.type))]
    out = []
    with client.connect() as conn:
        for key_range in ranges:
            where = and_(true(), *live, *range_filter(stream, key_range))
            stmt = select(func.count(), _aggregate(chosen, client.family)).select_from(stream.table).where(where)
            count, total = conn.execute(stmt).one()
            out.append(RangeChecksum(int(count), _digest(total, client.family)))
    return out


def _digest(total: Any, family: str) -> str:
    if total is None:
        return "0" * 16
    if family == "sqlite":
        return str(total)
    return f"{int(total) & MASK:016x}"
