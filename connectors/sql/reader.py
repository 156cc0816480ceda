"""Keyset reads: ``WHERE (updated_at, pk) > (:u, :k) ORDER BY updated_at, pk`` over server-side cursors.

Never OFFSET: each query starts strictly after the last row emitted, so rows sharing one
updated_at are each returned exactly once however many batches they span, and a failed fetch
(page 37) is retried on its own by reopening the query from the last position. One query streams
at most ``rows_per_query`` rows through a server-side cursor (``stream_results``/``yield_per``)
before the next one starts, which bounds memory and how long one statement holds a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import ColumnElement, Row, and_, literal, or_, select, true, tuple_
from sqlalchemy.engine import Connection, Result

from connectors.base import Batch, Cursor, KeyRange, ReadRange, TimeWindow
from connectors.errors import ConfigurationError
from connectors.retry import RetryPolicy
from connectors.sql.client import SqlClient
from connectors.sql.errors import translate
from connectors.sql.streams import TableStream, coerce, jsonable

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Position:
    """Where a read resumes: strictly after ``after`` (order columns), or at/after ``at_least`` minus ``skip``."""

    after: tuple[Any, ...] | None = None
    at_least: tuple[Any, ...] | None = None
    skip: frozenset[str] = frozenset()


def start_position(stream: TableStream, cursor: Cursor | None) -> Position:
    """Decode a cursor written by this connector (``extra.after``) or a plain closed bound (``value``)."""
    if cursor is None:
        return Position()
    try:
        after = cursor.extra.get("after")
        if after is not None:
            if len(after) != len(stream.order):
                raise ValueError("cursor does not match the stream's order columns")
            return Position(after=tuple(coerce(c, v) for c, v in zip(stream.order, after, strict=True)))
        if cursor.value is None:
            return Position()
        if stream.updated_at is not None:
            return Position(at_least=(coerce(stream.updated_at, cursor.value),), skip=frozenset(cursor.seen_keys))
        return Position(at_least=stream.parse_key(str(cursor.value)), skip=frozenset(cursor.seen_keys))
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"sql stream {stream.name!r}: cursor does not fit its columns") from exc


def compare(columns: Sequence[Any], values: Sequence[Any], inclusive: bool, expanded: bool) -> ColumnElement[bool]:
    """``(columns) > (values)`` (or ``>=``); ``expanded`` spells it out for MySQL's range optimizer."""
    bound = [literal(v, c.type) for c, v in zip(columns, values, strict=True)]
    if len(columns) == 1:
        return columns[0] >= bound[0] if inclusive else columns[0] > bound[0]
    if not expanded:
        return tuple_(*columns) >= tuple_(*bound) if inclusive else tuple_(*columns) > tuple_(*bound)
    tail = columns[-1] >= bound[-1] if inclusive else columns[-1] > bound[-1]
    for column, value in zip(reversed(columns[:-1]), reversed(bound[:-1]), strict=True):
        tail = or_(column > value, and_(column == value, tail))
    return and_(columns[0] >= bound[0], tail)  # the redundant leading bound gives the index a range


def range_filter(stream: TableStream, read_range: ReadRange | None) -> list[ColumnElement[bool]]:
    """Half-open key range on the leading key column, or time window on the cursor column."""
    if read_range is None:
        return []
    start: Any
    end: Any
    if isinstance(read_range, KeyRange):
        column, start, end = stream.key[0], read_range.start, read_range.end
    elif isinstance(read_range, TimeWindow):
        if stream.updated_at is None:
            raise ConfigurationError(f"sql stream {stream.name!r}: a time window needs updated_at")
        column, start, end = stream.updated_at, wall_time(stream.updated_at, read_range.start), wall_time(
            stream.updated_at, read_range.end)
    try:
        clauses = [column >= literal(coerce(column, start), column.type)] if start is not None else []
        if end is not None:
            clauses.append(column < literal(coerce(column, end), column.type))
    except ValueError as exc:
        raise ConfigurationError(f"sql stream {stream.name!r}: range bound does not fit {column.name!r}") from exc
    return clauses


def wall_time(column: Any, value: Any) -> Any:
    """An aware bound for a column of naive times, as the wall time in the bound's own zone.

    Systems that store naive local times are given window bounds in their zone (the caller knows it);
    binding the aware value instead would let the database compare in its session time zone.
    """
    naive_column = not getattr(column.type, "timezone", True)
    if naive_column and isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


class KeysetScan:
    """One read's progress: its open server-side cursor, if any, and the position after the last row.

    ``next_rows`` is the unit the retry policy repeats: on a failure it closes the cursor, so the
    retry reopens the query strictly after the last row already handed out.
    """

    def __init__(self, client: SqlClient, stream: TableStream, position: Position,
                 filters: list[ColumnElement[bool]], batch_size: int, rows_per_query: int) -> None:
        self.client, self.stream, self.position, self.filters = client, stream, position, filters
        self.batch_size = batch_size
        # SQLite: one batch per query, so no read transaction stays open between batches (writers wait).
        pages = 1 if client.family == "sqlite" else max(1, rows_per_query // batch_size)
        self.limit = pages * batch_size
        names = [c.name for c in stream.table.columns]
        self._order_index = [names.index(c.name) for c in stream.order]
        self._conn: Connection | None = None
        self._result: Result[Any] | None = None
        self._fetched = 0
        self._done = False

    def next_rows(self) -> list[Row[Any]]:
        try:
            while not self._done:
                if self._result is None:
                    self._open()
                assert self._result is not None
                rows = self._result.fetchmany(self.batch_size)
                self._fetched += len(rows)
                if len(rows) < self.batch_size:
                    self._done = self._fetched < self.limit
                    self.close()
                if rows:
                    self.position = Position(after=tuple(rows[-1][i] for i in self._order_index))
                    return list(rows)
            return []
        except Exception as exc:
            self.close()
            raise translate(exc, f"sql: read {self.stream.name!r}") from exc

    def _open(self) -> None:
        stream, expanded = self.stream, self.client.family == "mysql"
        where = list(self.filters)
        if stream.updated_at is not None:
            where.append(stream.updated_at.isnot(None))  # NULL never compares: such rows cannot be paged
        if self.position.after is not None:
            where.append(compare(stream.order, self.position.after, False, expanded))
        elif self.position.at_least is not None:
            columns = stream.order[: len(self.position.at_least)]
            where.append(compare(columns, self.position.at_least, True, expanded))
        stmt = select(stream.table).where(and_(true(), *where)).order_by(*stream.order).limit(self.limit)
        self._conn = self.client.connect()
        self._result = self._conn.execution_options(stream_results=True, yield_per=self.batch_size).execute(stmt)
        self._fetched = 0

    def close(self) -> None:
        result, conn, self._result, self._conn = self._result, self._conn, None, None
        for closing in (result, conn):
            try:
                if closing is not None:
                    closing.close()
            except Exception:  # closing after a failure must not hide the failure
                log.debug("sql.read.close_failed", stream=self.stream.name)


def read_batches(client: SqlClient, stream: TableStream, retry: RetryPolicy, cursor: Cursor | None,
                 read_range: ReadRange | None, batch_size: int, rows_per_query: int) -> Iterator[Batch]:
    """Batches of records and tombstones in (updated_at, key) order, each with the cursor after it."""
    position = start_position(stream, cursor)
    scan = KeysetScan(client, stream, position, range_filter(stream, read_range), batch_size, rows_per_query)
    shaper = _BatchShaper(stream, position)
    try:
        while rows := retry.call(scan.next_rows):
            yield shaper.batch(rows)
    finally:
        scan.close()


class _BatchShaper:
    """Turns rows into a Batch: records, tombstones (soft-deleted rows), and the cursor after them."""

    def __init__(self, stream: TableStream, position: Position) -> None:
        names = [c.name for c in stream.table.columns]
        self.stream, self.names = stream, names
        self.key_index = [names.index(c.name) for c in stream.key]
        self.order_index = [names.index(c.name) for c in stream.order]
        self.deleted_index = names.index(stream.soft_delete.name) if stream.soft_delete is not None else None
        self.skip, self.skip_at = position.skip, position.at_least

    def batch(self, rows: list[Row[Any]]) -> Batch:
        records, tombstones = [], []
        for row in rows:
            key = self.stream.key_of([row[i] for i in self.key_index])
            if self.skip and key in self.skip and self._at_boundary(row):
                continue
            if self.deleted_index is not None and self.stream.is_deleted(row[self.deleted_index]):
                tombstones.append(key)
            else:
                records.append(dict(zip(self.names, row, strict=True)))
        return Batch(records=records, tombstones=tombstones, cursor=self._cursor(rows[-1]))

    def _at_boundary(self, row: Row[Any]) -> bool:
        assert self.skip_at is not None
        return tuple(row[i] for i in self.order_index[: len(self.skip_at)]) == self.skip_at

    def _cursor(self, last: Row[Any]) -> Cursor:
        after = [last[i] for i in self.order_index]
        if self.stream.updated_at is not None:
            value = after[0]
            value = value if isinstance(value, (datetime, int, Decimal, str)) else jsonable(value)
        else:
            value = self.stream.key_of(after)
        return Cursor(value=value, extra={"after": [jsonable(v) for v in after]})
