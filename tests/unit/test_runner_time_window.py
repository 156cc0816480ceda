"""A run reads a system of naive local times up to its start in that system's zone, on PostgreSQL too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from connectors.base import TimeWindow
from connectors.retry import NO_RETRY
from connectors.sql.connector import SqlConnector

MADRID = ZoneInfo("Europe/Madrid")


@pytest.fixture
def naive_table(postgres_url: str) -> Iterator[tuple[str, str]]:
    schema = "tw_" + uuid.uuid4().hex[:10]
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
        sa.Table("customers", sa.MetaData(), sa.Column("cust_no", sa.Text, primary_key=True),
                 sa.Column("changed_ts", sa.DateTime), schema=schema).create(conn)
    try:
        yield postgres_url, schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
        engine.dispose()


def test_a_window_end_in_the_systems_zone_is_compared_as_its_wall_time(naive_table: tuple[str, str]) -> None:
    url, schema = naive_table
    started = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)  # 13:00 in Madrid
    local = started.astimezone(MADRID).replace(tzinfo=None)
    rows = {"before": local - timedelta(minutes=30),  # 12:30 Madrid: changed before the run started
            "after": local + timedelta(minutes=30)}  # 13:30 Madrid: after it
    engine = sa.create_engine(url)
    table = sa.Table("customers", sa.MetaData(), autoload_with=engine, schema=schema)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"cust_no": key, "changed_ts": ts} for key, ts in rows.items()])
    engine.dispose()
    config = SqlConnector.config_model.model_validate(
        {"url": url, "schema": schema, "streams": {"customers": {"updated_at": "changed_ts"}}})
    connector = SqlConnector(config, NO_RETRY)
    try:
        window = TimeWindow(end=started.astimezone(MADRID))  # what the runner passes for a Europe/Madrid system
        keys = [r["cust_no"] for b in connector.read("customers", range=window) for r in b.records]
    finally:
        connector.close()
    # Compared in the session's UTC, 12:30 Madrid would read as 12:30 UTC: after the start, and missed.
    assert keys == ["before"]
