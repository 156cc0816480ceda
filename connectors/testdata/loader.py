"""Loading the generated ERP into any SQL database SQLAlchemy speaks (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateSchema

from connectors.testdata import erp_schema

if TYPE_CHECKING:
    from connectors.testdata.generator import Dataset

log = structlog.get_logger(__name__)


def _connection(conn: Connection, schema: str | None) -> Connection:
    return conn.execution_options(schema_translate_map={None: schema}) if schema else conn


def load_erp(ds: Dataset, engine_or_url: Engine | str, batch_size: int = 5000,
             schema: str | None = None) -> dict[str, int]:
    """Drop and recreate erp_schema's tables (in ``schema`` if given) and insert every row, one
    transaction per batch so memory stays flat; returns the number of rows inserted per table."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    owned = isinstance(engine_or_url, str)
    engine = create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    if schema and engine.dialect.name == "sqlite":
        raise ValueError("SQLite has no schemas; use a separate database file instead")
    try:
        with engine.begin() as raw:
            if schema:
                raw.execute(CreateSchema(schema, if_not_exists=True))
            conn = _connection(raw, schema)
            erp_schema.metadata.drop_all(conn)
            erp_schema.metadata.create_all(conn)
        counts = {}
        for name in ds.erp_tables():
            counts[name] = _insert(engine, name, ds, batch_size, schema)
        log.info("testdata.erp.loaded", dialect=engine.dialect.name, rows=sum(counts.values()), **counts)
        return counts
    finally:
        if owned:
            engine.dispose()


def _insert(engine: Engine, name: str, ds: Dataset, batch_size: int, schema: str | None) -> int:
    table = erp_schema.metadata.tables[name]
    rows = ds.iter_erp(name)
    total = 0
    while batch := list(islice(rows, batch_size)):
        with engine.begin() as raw:
            _connection(raw, schema).execute(table.insert(), batch)
        total += len(batch)
    return total
