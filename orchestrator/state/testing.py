"""Helpers for tests that use a state store: a clock to move by hand, and a throwaway PostgreSQL schema.

Shipped in the package so the runner, reconciliation and worker tests (and third-party
connectors' tests) build stores the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from orchestrator.state.store import StateStore


class FakeClock:
    """A clock that moves only when told: lease expiry without sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@contextmanager
def postgres_schema(url: str, prefix: str = "crmsync_test") -> Iterator[str]:
    """A fresh PostgreSQL schema name, dropped (with everything in it) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        engine = sa.create_engine(url)
        quoted = engine.dialect.identifier_preparer.quote_schema(name)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {quoted} CASCADE"))
        engine.dispose()


@contextmanager
def temporary_store(url: str, *, postgres: bool = False, clock: FakeClock | None = None) -> Iterator[StateStore]:
    """A migrated store at ``url``; on PostgreSQL in its own schema, dropped afterwards."""
    if not postgres:
        with StateStore.open(url, clock=clock or FakeClock()) as store:
            yield store
        return
    with postgres_schema(url) as schema, StateStore.open(url, schema=schema, clock=clock or FakeClock()) as store:
        yield store
