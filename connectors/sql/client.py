"""A thin client over one SQLAlchemy engine: connections, dialect quirks, reflected tables.

SQLite needs two things from us: pysqlite's own transaction handling disabled so SAVEPOINTs
work (SQLAlchemy's documented recipe), and the checksum aggregate registered on each connection.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Literal

from sqlalchemy import Engine, MetaData, Table, create_engine, event, inspect
from sqlalchemy.engine import Connection

from connectors.errors import ConfigurationError
from connectors.sql.config import SqlConfig
from connectors.sql.errors import translate

Family = Literal["postgresql", "mysql", "sqlite"]
_FAMILIES: dict[str, Family] = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}
HASH_SUM = "crmsync_hash_sum"
"""SQLite aggregate: order-independent sum of 64-bit row hashes, as 16 hex digits."""


class SqlClient:
    """Owns the engine and a cache of reflected tables; every driver error leaves as ours."""

    def __init__(self, config: SqlConfig) -> None:
        url = config.sqlalchemy_url()
        backend = url.get_backend_name()
        if backend not in _FAMILIES:
            raise ConfigurationError(f"sql: unsupported database {backend!r} (postgresql, mysql, mariadb, sqlite)")
        self.family: Family = _FAMILIES[backend]
        self.schema = config.db_schema
        self.display_url = url.render_as_string(hide_password=True)
        try:
            self.engine: Engine = create_engine(url, pool_pre_ping=True, connect_args=self._connect_args(config))
        except Exception as exc:
            raise translate(exc, "sql: create engine") from exc
        if self.family == "sqlite":
            _install_sqlite_hooks(self.engine)
        self._metadata = MetaData(schema=self.schema)
        self._tables: dict[str, Table] = {}
        self._lock = threading.Lock()

    def _connect_args(self, config: SqlConfig) -> dict[str, Any]:
        if self.family == "sqlite":
            return {"timeout": config.connect_timeout}
        return {"connect_timeout": config.connect_timeout}

    def table(self, name: str) -> Table:
        """The reflected table ``name`` (cached); a missing table is a ConfigurationError."""
        with self._lock:
            if name not in self._tables:
                try:
                    self._tables[name] = Table(name, self._metadata, autoload_with=self.engine)
                except Exception as exc:
                    raise translate(exc, f"sql: reflect table {name!r}") from exc
            return self._tables[name]

    def table_names(self) -> list[str]:
        try:
            return sorted(inspect(self.engine).get_table_names(schema=self.schema))
        except Exception as exc:
            raise translate(exc, "sql: list tables") from exc

    def connect(self) -> Connection:
        return self.engine.connect()

    def forget(self) -> None:
        """Drop cached reflections (after the schema changed)."""
        with self._lock:
            self._tables.clear()
            self._metadata = MetaData(schema=self.schema)

    def dispose(self) -> None:
        self.engine.dispose()


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, so SAVEPOINT nests correctly
        dbapi_connection.create_aggregate(HASH_SUM, -1, _HashSum)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


class _HashSum:
    """Sum modulo 2**64 of the first 8 bytes of each row's BLAKE2b, so row order does not matter."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, *values: Any) -> None:
        text = "|".join("\\N" if v is None else str(v) for v in values)
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        self.total = (self.total + int.from_bytes(digest, "big")) % (1 << 64)

    def finalize(self) -> str:
        return f"{self.total:016x}"
