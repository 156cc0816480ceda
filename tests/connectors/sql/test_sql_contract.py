"""The SQL connector passes the shared contract suite on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

from connectors.contract import ContractCase, connector_contract
from connectors.retry import NO_RETRY
from connectors.sql import SqlConfig, SqlConnector

BASE = datetime(2024, 5, 1, 9, 30)


def make_case(tmp_path: Path, request: pytest.FixtureRequest) -> ContractCase:
    db = request.getfixturevalue("open_sql_db")(request.param)
    metadata = MetaData(schema=db.schema)
    Table("people", metadata,
          Column("id", Integer, primary_key=True, autoincrement=False),
          Column("name", String(60), nullable=False),
          Column("email", String(120), unique=True),
          Column("n", Integer),
          Column("updated_at", DateTime, nullable=False))
    metadata.create_all(db.engine)
    # batch_size 7 >= copy_threshold 5: on PostgreSQL every write chunk takes the COPY path.
    config = SqlConfig(url=db.url, schema=db.schema, streams={"people": {"updated_at": "updated_at"}},
                       batch_size=7, copy_threshold=5, rows_per_query=14)
    records = [{"id": i, "name": f"Person {i}", "email": f"p{i}@example.com", "n": i,
                "updated_at": BASE + timedelta(minutes=i // 10)} for i in range(30)]
    return ContractCase(SqlConnector(config, NO_RETRY), "people", "id", records)


TestSqlContract = connector_contract(make_case, params=("sqlite", "postgres", "mysql"))
