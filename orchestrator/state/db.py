"""Engine setup and the few dialect differences the store needs (SQLite and PostgreSQL).

SQLite: WAL so readers never block the writer, a busy timeout so concurrent writers wait instead
of failing, and ``BEGIN IMMEDIATE`` for every transaction, because pysqlite's deferred transactions
upgrade to a write lock mid-way and fail with "database is locked" under concurrency.
PostgreSQL: an optional schema (search_path) per store; row locks and unique constraints do the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")
CHUNK = 500  # ids per IN (...) list: far below SQLite's 32766 bound parameters and PostgreSQL's 65535


def utcnow() -> datetime:
    return datetime.now(UTC)


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Split ``items`` into lists of at most ``size`` (batched IN lookups)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def dumps(value: Any) -> str:
    """JSON text for a Text column, deterministic so fingerprints and LIKE scans are stable."""
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Database:
    """An engine plus the clock; every module of the store works through one of these."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], schema: str | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.schema = schema

    @classmethod
    def connect(cls, url: str, *, schema: str | None = None,
                clock: Callable[[], datetime] = utcnow) -> Database:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return cls(_sqlite_engine(parsed), clock)
        engine = sa.create_engine(parsed, pool_pre_ping=True, future=True)
        if schema:
            _use_schema(engine, schema)
        return cls(engine, clock, schema)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def now(self) -> datetime:
        value = self.clock()
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed on exit, rolled back on any exception."""
        with self.engine.begin() as conn:
            yield conn

    def insert_ignore(self, conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                      index_elements: Sequence[str], *, count: bool = True) -> int:
        """INSERT rows, skipping those that clash on the unique ``index_elements``; returns rows inserted.

        ``count=False`` (the caller does not need the number; 0 is returned) sends a plain executemany,
        several times faster for large batches than RETURNING, which the driver must answer row by row.
        """
        if not rows:
            return 0
        if self.dialect in ("postgresql", "sqlite"):
            insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
            stmt = insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
            if not count:
                conn.execute(stmt, list(rows))
                return 0
            # RETURNING counts what was really inserted: executemany rowcounts are unreliable (-1).
            return len(conn.execute(stmt.returning(*table.primary_key.columns), list(rows)).all())
        inserted = 0
        for row in rows:  # any other dialect: one savepoint per row
            try:
                with conn.begin_nested():
                    conn.execute(table.insert(), [dict(row)])
                inserted += 1
            except sa.exc.IntegrityError:
                continue
        return inserted


    def insert_ignore_tuples(self, conn: Connection, table: sa.Table, columns: Sequence[str],
                             rows: Sequence[Sequence[Any]], index_elements: Sequence[str]) -> None:
        """``insert_ignore(..., count=False)`` for large batches of plain values (str, int, None).

        The statement is compiled once and sent to the driver's executemany with the values as given:
        SQLAlchemy's per-row parameter processing cost more than SQLite's own work for the
        cross-reference's 5,000-row batches. A typed value (a datetime) must be passed through
        ``bound`` first, once, as the driver wants it.
        """
        if not rows:
            return
        if self.dialect not in ("postgresql", "sqlite"):
            self.insert_ignore(conn, table, [dict(zip(columns, r, strict=True)) for r in rows], index_elements,
                               count=False)
            return
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        compiled = insert(table).on_conflict_do_nothing(index_elements=list(index_elements)).compile(
            dialect=conn.dialect, column_keys=list(columns), for_executemany=True)
        params: list[Any]
        if compiled.positiontup is not None:  # qmark (sqlite3): values in the statement's order
            order = [list(columns).index(name) for name in compiled.positiontup]
            params = list(rows) if order == list(range(len(order))) else [tuple(r[i] for i in order) for r in rows]
        else:
            params = [dict(zip(columns, r, strict=True)) for r in rows]
        conn.exec_driver_sql(compiled.string, params)

    def bound(self, conn: Connection, column: sa.Column[Any], value: Any) -> Any:
        """``value`` as the driver receives it for ``column`` (its type's bind processing, done once)."""
        process = column.type.bind_processor(conn.dialect)
        return process(value) if process is not None else value


def _sqlite_engine(url: sa.URL) -> Engine:
    in_memory = not url.database or url.database == ":memory:"
    if not in_memory:
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    # An in-memory database lives in one connection: share it, or each pooled connection sees an empty one.
    pool: dict[str, Any] = {"poolclass": sa.pool.StaticPool} if in_memory else {}
    engine = sa.create_engine(url, future=True, connect_args={"timeout": 30, "check_same_thread": False}, **pool)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_schema(engine: Engine, schema: str) -> None:
    quoted = engine.dialect.identifier_preparer.quote_identifier(schema)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        # The schema itself is created by migrate(), under its advisory lock.
        cursor = dbapi_conn.cursor()
        cursor.execute(f"SET search_path TO {quoted}")
        cursor.close()
        dbapi_conn.commit()


def create_schema(conn: Connection, schema: str) -> None:
    quoted = conn.dialect.identifier_preparer.quote_identifier(schema)
    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
