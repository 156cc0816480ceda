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
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(f'CREATE TABLE "{schema}".customers (cust_no TEXT PRIMARY KEY, changed_ts TIMESTAMP)'))
    try:
        yield postgres_url, schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_a_window_end_in_the_systems_zone_is_compared_as_its_wall_time(naive_table: tuple[str, str]) -> None:
    url, schema = naive_table
    started = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)  # 13:00 in Madrid
    local = started.astimezone(MADRID).replace(tzinfo=None)
    rows = {"before": local - timedelta(minutes=30),  # 12:30 Madrid: changed before the run started
            "after": local + timedelta(minutes=30)}  # 13:30 Madrid: after it
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for key, ts in rows.items():
            conn.execute(sa.text(f'INSERT INTO "{schema}".customers VALUES (:k, :t)'), {"k": key, "t": ts})
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
