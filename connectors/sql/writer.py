"""Batched upserts and deletes in transactions, with a result per record.

Each chunk of ``batch_size`` records is one transaction, retried as a whole by the retry policy on
a transient failure. Inside it the chunk is tried at once under a SAVEPOINT; when the database
rejects a row, the savepoint is rolled back and the chunk is bisected, so the rejected records come
back as RecordErrors (found in O(bad x log n) statements) and every other record still lands.
Dialects: INSERT ... ON CONFLICT DO UPDATE (PostgreSQL, SQLite), ON DUPLICATE KEY UPDATE (MySQL,
MariaDB; note it fires on any unique key), and COPY + staging for large PostgreSQL batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Column, ColumnElement, bindparam, func, literal, select, tuple_
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from connectors.base import NativeRecord, RecordResult
from connectors.errors import ConfigurationError, ConnectorError, RecordError
from connectors.retry import RetryPolicy
from connectors.sql.client import SqlClient
from connectors.sql.errors import record_error, row_fault, translate
from connectors.sql.pgcopy import CREATED, copy_upsert
from connectors.sql.streams import TableStream, unique_columns, write_coercer

log = structlog.get_logger(__name__)
IN_CHUNK = 500  # keys per IN (...) list: well under SQLite's bound-parameter limit


@dataclass(slots=True)
class Item:
    """One record (or delete key) to apply: its position in the caller's sequence and its key."""

    index: int
    key: str
    values: dict[str, Any]
    payload: Any


Apply = Callable[[Connection, list[Item]], dict[int, RecordResult]]


class Writer:
    """Writes one stream's records and deletes; see the module docstring for the strategy."""

    def __init__(self, client: SqlClient, stream: TableStream, retry: RetryPolicy, batch_size: int,
                 copy_threshold: int) -> None:
        self.client, self.stream, self.retry = client, stream, retry
        self.batch_size, self.copy_threshold = batch_size, copy_threshold
        self.table = stream.table
        self._coercers = [(c.name, f) for c in self.table.columns if (f := write_coercer(c)) is not None]
        self._required = {c.name for c in self.table.columns if _required(c)}
        self._columns = {c.name for c in self.table.columns}

    # -- upserts ---------------------------------------------------------------------------------

    def upsert(self, records: Sequence[NativeRecord], upsert_key: str | None) -> list[RecordResult]:
        conflict = self._conflict(upsert_key)
        results: dict[int, RecordResult] = {}
        items: list[Item] = []
        key_names = tuple(c.name for c in conflict)
        for index, record in enumerate(records):
            prepared = self._prepare(index, record, key_names)
            if isinstance(prepared, RecordResult):
                results[index] = prepared
            else:
                items.append(prepared)
        for chunk in _chunks(items, self.batch_size):
            results.update(self.retry.call(self._upsert_chunk, chunk, conflict))
        return [results[i] for i in range(len(records))]

    def _conflict(self, upsert_key: str | None) -> tuple[Column[Any], ...]:
        if upsert_key is None or (len(self.stream.key) == 1 and upsert_key == self.stream.key[0].name):
            return self.stream.key
        if upsert_key not in unique_columns(self.table):
            raise ConfigurationError(
                f"sql stream {self.stream.name!r}: upsert key {upsert_key!r} has no unique constraint")
        return (self.table.c[upsert_key],)

    def _prepare(self, index: int, record: NativeRecord, key_names: tuple[str, ...]) -> Item | RecordResult:
        """Check one record against the table; runs once per record, so it is kept lean."""
        if not record.keys() <= self._columns:
            unknown = tuple(f for f in record if f not in self._columns)
            return _failed(index, RecordError("unknown_field", "fields not in the table", fields=unknown,
                                              payload=record))
        values = record
        for name, coerce in self._coercers:
            if type(record.get(name)) is str:
                values = dict(values) if values is record else values  # never change the caller's record
                try:
                    values[name] = coerce(values[name])
                except ValueError:
                    return _failed(index, RecordError("invalid_value", "value does not fit the column type",
                                                      fields=(name,), payload=record))
        if len(key_names) == 1:
            key_value = values.get(key_names[0])
            if key_value is not None:
                return Item(index, str(key_value), values, record)
        else:
            key_values = [values.get(n) for n in key_names]
            if None not in key_values:
                return Item(index, self.stream.key_of(key_values), values, record)
        missing = tuple(n for n in key_names if values.get(n) is None)
        return _failed(index, RecordError("missing_key", "upsert key missing", fields=missing, payload=record))

    def _upsert_chunk(self, chunk: list[Item], conflict: tuple[Column[Any], ...]) -> dict[int, RecordResult]:
        try:
            with self.client.engine.begin() as conn:
                if self._copy_fits(chunk):
                    done = self._try_copy(conn, chunk, conflict)
                    if done is not None:
                        return done
                existing = None if self.client.family == "postgresql" else self._existing(conn, chunk, conflict)
                return bisect(conn, chunk, lambda c, items: self._upsert_items(c, items, conflict, existing))
        except ConnectorError:
            raise
        except Exception as exc:
            raise translate(exc, f"sql: write {self.stream.name!r}") from exc

    def _copy_fits(self, chunk: list[Item]) -> bool:
        if self.client.family != "postgresql" or not self.copy_threshold or len(chunk) < self.copy_threshold:
            return False
        width = len(chunk[0].values)  # same width; a different field set shows as a KeyError in COPY
        return all(len(item.values) == width for item in chunk)

    def _try_copy(self, conn: Connection, chunk: list[Item], conflict: tuple[Column[Any], ...]
                  ) -> dict[int, RecordResult] | None:
        names = [c.name for c in self.table.columns if c.name in chunk[0].values]
        try:
            with conn.begin_nested():
                created = copy_upsert(conn, self.table, names, conflict, [i.values for i in chunk],
                                      [i.key for i in chunk], self.stream.key_of)
        except Exception as exc:
            if row_fault(exc) is None and not isinstance(exc, KeyError):
                raise
            log.info("sql.write.copy_fallback", stream=self.stream.name, rows=len(chunk))
            return None
        log.debug("sql.write.copied", stream=self.stream.name, rows=len(chunk))
        return {i.index: RecordResult(i.index, key=i.key, created=c) for i, c in zip(chunk, created, strict=True)}

    def _existing(self, conn: Connection, chunk: list[Item], conflict: tuple[Column[Any], ...]) -> set[str]:
        """Keys already present, so ``created`` is known where RETURNING cannot tell (MySQL, SQLite)."""
        found: set[str] = set()
        for part in _chunks(chunk, IN_CHUNK):
            rows = conn.execute(select(*conflict).where(key_in(conflict, [_key_values(i, conflict) for i in part])))
            found.update(self.stream.key_of(row) for row in rows)
        return found

    def _upsert_items(self, conn: Connection, items: list[Item], conflict: tuple[Column[Any], ...],
                      existing: set[str] | None) -> dict[int, RecordResult]:
        created: dict[int, bool | None] = {}
        landed: set[str] = set()
        for run in _runs(items):
            names = [c.name for c in self.table.columns if c.name in run[0].values]
            if not self._required <= set(names):
                present = existing if existing is not None else self._existing(conn, run, conflict)
                self._insert_or_update(conn, run, conflict, present | landed)
                created.update((i.index, i.key not in present | landed) for i in run)
            elif self.client.family == "postgresql":
                returned = {self.stream.key_of(r[:-1]): bool(r[-1])
                            for r in conn.execute(self._statement(names, conflict), [i.values for i in run])}
                created.update((i.index, returned.get(i.key)) for i in run)
            elif self.client.family == "mysql":
                assert existing is not None
                self._mysql_upsert(conn, run, names, conflict, existing | landed)
            else:
                conn.execute(self._statement(names, conflict), [i.values for i in run])
            landed.update(i.key for i in run)
        if existing is not None:  # learn only after success: a rolled-back savepoint created nothing
            for item in items:
                created[item.index] = item.key not in existing
                existing.add(item.key)
        return {i.index: RecordResult(i.index, key=i.key, created=created[i.index]) for i in items}

    def _insert_or_update(self, conn: Connection, run: list[Item], conflict: tuple[Column[Any], ...],
                          present: set[str]) -> None:
        """Partial records (a required column absent): UPDATE the rows that exist, INSERT the rest.

        Every dialect checks NOT NULL on the row an upsert proposes before it looks for a conflict,
        so a partial update cannot go through INSERT ... ON CONFLICT; a partial new record still
        fails, as it should, with not_null_violation.
        """
        fresh = [i.values for i in run if i.key not in present]
        if fresh:
            conn.execute(self.table.insert(), fresh)
        known = [i.values for i in run if i.key in present]
        if not known:
            return
        where = [c == bindparam(f"crmsync_key_{n}") for n, c in enumerate(conflict)]
        keys = {c.name for c in conflict}
        params = [{**{k: v for k, v in values.items() if k not in keys},
                   **{f"crmsync_key_{n}": values[c.name] for n, c in enumerate(conflict)}} for values in known]
        if len(params[0]) > len(conflict):  # something to set besides the key
            conn.execute(sql_update(self.table).where(*where), params)

    def _mysql_upsert(self, conn: Connection, run: list[Item], names: list[str], conflict: tuple[Column[Any], ...],
                      present: set[str]) -> None:
        """New keys by plain INSERT, known keys by ON DUPLICATE KEY UPDATE.

        ON DUPLICATE KEY UPDATE fires on any unique key: a new record whose email collides with
        another row's would silently overwrite that row. A plain INSERT raises instead, so the
        collision becomes this record's error.
        """
        fresh = [i.values for i in run if i.key not in present]
        known = [i.values for i in run if i.key in present]
        if fresh:
            conn.execute(self.table.insert(), fresh)
        if known:
            conn.execute(self._statement(names, conflict), known)

    def _statement(self, names: list[str], conflict: tuple[Column[Any], ...]) -> Any:
        keys = {c.name for c in conflict}
        family = self.client.family
        if family == "mysql":
            mysql_stmt = mysql_insert(self.table)
            updates = [n for n in names if n not in keys] or sorted(keys)
            return mysql_stmt.on_duplicate_key_update({n: mysql_stmt.inserted[n] for n in updates})
        insert = pg_insert(self.table) if family == "postgresql" else sqlite_insert(self.table)
        set_ = {n: insert.excluded[n] for n in names if n not in keys} or {n: insert.excluded[n] for n in keys}
        stmt = insert.on_conflict_do_update(index_elements=list(conflict), set_=set_)
        return stmt.returning(*conflict, CREATED) if family == "postgresql" else stmt

    # -- deletes ---------------------------------------------------------------------------------

    def delete(self, keys: Sequence[str]) -> list[RecordResult]:
        """Hard delete, or set the soft-delete column; a key already gone is a success (replays are safe)."""
        results: dict[int, RecordResult] = {}
        items: list[Item] = []
        for index, key in enumerate(keys):
            try:
                values = dict(zip((c.name for c in self.stream.key), self.stream.parse_key(key), strict=True))
            except ValueError:
                results[index] = _failed(index, RecordError("invalid_key", "key does not fit the primary key",
                                                            key=key, payload=key))
                continue
            items.append(Item(index, key, values, key))
        for chunk in _chunks(items, self.batch_size):
            results.update(self.retry.call(self._delete_chunk, chunk))
        return [results[i] for i in range(len(keys))]

    def _delete_chunk(self, chunk: list[Item]) -> dict[int, RecordResult]:
        try:
            with self.client.engine.begin() as conn:
                return bisect(conn, chunk, self._delete_items)
        except ConnectorError:
            raise
        except Exception as exc:
            raise translate(exc, f"sql: delete in stream {self.stream.name!r}") from exc

    def _delete_items(self, conn: Connection, items: list[Item]) -> dict[int, RecordResult]:
        key = self.stream.key
        for part in _chunks(items, IN_CHUNK):
            where = key_in(key, [_key_values(i, key) for i in part])
            if self.stream.soft_delete is None:
                conn.execute(sql_delete(self.table).where(where))
            else:
                conn.execute(sql_update(self.table).where(where).values(self._soft_delete_values()))
        return {i.index: RecordResult(i.index, key=i.key) for i in items}

    def _soft_delete_values(self) -> dict[str, Any]:
        """The deleted value, and a bumped cursor column so incremental readers see the tombstone."""
        stream = self.stream
        assert stream.soft_delete is not None
        values: dict[str, Any] = {stream.soft_delete.name: stream.deleted_value}
        if stream.updated_at is not None:
            bumped = _bumped(stream.updated_at, self.client.family)
            if bumped is not None:
                values[stream.updated_at.name] = bumped
        return values


def _required(column: Column[Any]) -> bool:
    """A column an INSERT must name: NOT NULL with no default, not generated by the database."""
    generated = column.computed is not None or column.identity is not None or column.autoincrement is True
    return not column.nullable and column.server_default is None and column.default is None and not generated


def _bumped(column: Column[Any], family: str) -> Any:
    """A newer value for the cursor column, from the database clock where it keeps the column's format."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return None
    if python_type is int:
        return column + 1
    if python_type is not datetime:
        return None
    if family == "sqlite":  # bound through SQLAlchemy so the stored text format stays comparable
        return literal(datetime.now(), column.type)
    if family == "postgresql" and not getattr(column.type, "timezone", False):
        return func.localtimestamp()
    return func.current_timestamp()


def bisect(conn: Connection, items: list[Item], apply: Apply) -> dict[int, RecordResult]:
    """Apply ``items`` under a savepoint; on a row-level error split them until each failure is one record."""
    if not items:
        return {}
    try:
        with conn.begin_nested():
            return apply(conn, items)
    except Exception as exc:
        fault = row_fault(exc)
        if fault is None:
            raise
        if len(items) == 1:
            item = items[0]
            return {item.index: _failed(item.index, record_error(fault, key=item.key, payload=item.payload),
                                        key=item.key)}
        middle = len(items) // 2
        return {**bisect(conn, items[:middle], apply), **bisect(conn, items[middle:], apply)}


def _runs(items: list[Item]) -> Iterator[list[Item]]:
    """Consecutive items with the same columns and no repeated key: one executemany each, order kept."""
    run: list[Item] = []
    seen: set[str] = set()
    for item in items:
        if run and (item.key in seen or item.values.keys() != run[0].values.keys()):
            yield run
            run, seen = [], set()
        run.append(item)
        seen.add(item.key)
    if run:
        yield run


def _key_values(item: Item, key: Sequence[Column[Any]]) -> tuple[Any, ...]:
    return tuple(item.values[c.name] for c in key)


def key_in(key: Sequence[Column[Any]], values: list[tuple[Any, ...]]) -> ColumnElement[bool]:
    if len(key) == 1:
        return key[0].in_([v[0] for v in values])
    return tuple_(*key).in_(values)


def _chunks(items: list[Item], size: int) -> Iterator[list[Item]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _failed(index: int, error: RecordError, key: str | None = None) -> RecordResult:
    return RecordResult(index, key=key if key is not None else error.key, error=error)
