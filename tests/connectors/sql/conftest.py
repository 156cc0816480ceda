"""A throwaway namespace per test in each dialect: a PostgreSQL schema, a MariaDB database, a SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

DIALECTS = ("sqlite", "postgres", "mysql")


@dataclass
class Db:
    """Where a test's tables live: ``url`` plus ``schema`` (None for SQLite)."""

    dialect: str
    url: str
    schema: str | None
    engine: Engine


def open_db(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Db, Callable[[], None]]:
    """A fresh namespace in ``dialect``; returns it and a cleanup callable."""
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
        engine = create_engine(url)
        return Db(dialect, url, None, engine), engine.dispose
    url = request.getfixturevalue("postgres_url" if dialect == "postgres" else "mysql_url")
    name = f"crmsync_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE {'SCHEMA' if dialect == 'postgres' else 'DATABASE'} {name}"))
    engine = create_engine(url)  # tables are created and reflected schema-qualified (a MariaDB database)

    def cleanup() -> None:
        engine.dispose()
        with admin.begin() as conn:
            drop = f"DROP SCHEMA {name} CASCADE" if dialect == "postgres" else f"DROP DATABASE {name}"
            conn.execute(text(drop))
        admin.dispose()

    return Db(dialect, url, name, engine), cleanup


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    made, cleanup = open_db(request.param, request, tmp_path)
    yield made
    cleanup()


@pytest.fixture
def open_sql_db(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Db]:
    """A factory for fresh namespaces (for case factories that choose the dialect themselves)."""

    def make(dialect: str) -> Db:
        made, cleanup = open_db(dialect, request, tmp_path)
        request.addfinalizer(cleanup)
        return made

    return make
