"""SQLite access for the sandbox: pooled connections, one writer at a time, statements compiled once.

Statements are built with SQLAlchemy Core (bound parameters, quoted identifiers) and compiled once to
SQLite text; they run on the stdlib ``sqlite3`` connection so a 2,000-row page costs one C-level
fetch, not an ORM round trip per row. A file database runs in WAL mode (readers never wait for the
writer); ``:memory:`` is one shared connection behind a lock.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.sql import ClauseElement

from .schema import DIALECT

_PRAGMAS = (
    "PRAGMA synchronous=OFF",  # a sandbox, not a system of record: speed over crash safety
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-16384",  # 16 MiB page cache per connection (scans rely on the OS page cache)
    "PRAGMA foreign_keys=OFF",
)


@dataclass(frozen=True, slots=True)
class SQL:
    """A compiled statement: SQLite text with ``?`` placeholders and the parameter names in order."""

    text: str
    names: tuple[str, ...]
    defaults: dict[str, Any]

    def params(self, **values: Any) -> tuple[Any, ...]:
        return tuple(values[k] if k in values else self.defaults[k] for k in self.names)


def compile_sql(stmt: ClauseElement) -> SQL:
    compiled = stmt.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    names = tuple(getattr(compiled, "positiontup", None) or ())
    return SQL(str(compiled), names, dict(compiled.params))


def _fast_binding() -> None:
    """Bind None and bool without the adapter protocol: in Python 3.11 both miss sqlite3's fast path and go
    through ``__conform__`` lookups that raise and swallow an AttributeError per value, which makes seeding a
    row with 25 nulls several times slower. Both adapters are identities (None stays NULL, True stays 1)."""
    sqlite3.register_adapter(type(None), lambda value: None)
    sqlite3.register_adapter(bool, int)


class Database:
    """Connections to one SQLite database (a file path, or ``None``/``":memory:"`` for a private in-memory one)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.memory = path is None or str(path) == ":memory:"
        self.path = None if self.memory else Path(str(path))
        self._write_lock = threading.RLock()
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._local = threading.local()
        self.version = 0  # committed write transactions so far (prefetched query pages check it)
        _fast_binding()
        self._shared = self._connect() if self.memory else None

    def _connect(self) -> sqlite3.Connection:
        target = ":memory:" if self.memory else str(self.path)
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=60)
        if not self.memory:
            conn.execute("PRAGMA journal_mode=WAL")
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        with self._all_lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads; each statement sees one consistent snapshot."""
        if self._shared is not None:
            with self._write_lock:
                yield self._shared
            return
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._connect()
        try:
            yield conn
        finally:
            self._idle.put(conn)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside ``BEGIN IMMEDIATE``; committed on success, rolled back on any exception."""
        current = getattr(self._local, "writer", None)
        if current is not None:  # nested use from the same thread: join the open transaction
            yield current
            return
        with self._write_lock, self.read() as conn:
            conn.execute("BEGIN IMMEDIATE")
            self._local.writer = conn
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
                self.version += 1
            finally:
                self._local.writer = None

    @contextmanager
    def snapshot(self, count: int) -> Iterator[list[sqlite3.Connection]]:
        """``count`` connections that all read the same snapshot (their read transactions start while the write
        lock is held, so no commit lands between them); for parallel exports."""
        if self._shared is not None:
            raise ValueError("an in-memory database has a single connection")
        conns = []
        for _ in range(count):
            try:
                conns.append(self._idle.get_nowait())
            except queue.Empty:
                conns.append(self._connect())
        try:
            with self._write_lock:
                for conn in conns:
                    conn.execute("BEGIN")
                    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the read starts here
            yield conns
        finally:
            for conn in conns:
                if conn.in_transaction:
                    conn.execute("COMMIT")
                self._idle.put(conn)

    def executescript(self, statements: list[str]) -> None:
        with self.write() as conn:
            for stmt in statements:
                conn.execute(stmt)

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
