"""Loading the generated ERP into SQLite, PostgreSQL and MariaDB: counts, keys and values survive."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine

from connectors.testdata import Dataset, GeneratorConfig
from connectors.testdata.erp_schema import metadata


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return Dataset(GeneratorConfig(seed=31, accounts=250, defects=True))


def _check(engine: Engine, ds: Dataset, counts: dict[str, int], schema: str | None = None) -> None:
    expected = {t: ds.count_erp(t) for t in ds.erp_tables()}
    assert counts == expected
    with engine.connect() as raw:
        conn = raw.execution_options(schema_translate_map={None: schema}) if schema else raw
        for name, n in expected.items():
            assert conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one() == n
        customers = metadata.tables["customers"]
        first = next(ds.iter_erp("customers"))
        row = conn.execute(select(customers).where(customers.c.cust_no == first["cust_no"])).mappings().one()
        assert dict(row) == first  # Decimal, naive local datetimes and strings come back unchanged
        orders = metadata.tables["orders"]
        total = conn.execute(select(func.sum(orders.c.net_amount))).scalar_one()
        assert Decimal(total) == sum(r["net_amount"] for r in ds.iter_erp("orders"))


def test_load_into_sqlite_drops_and_recreates(ds: Dataset, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'erp.db'}"
    engine = create_engine(url)
    try:
        counts = ds.load_erp(engine, batch_size=97)
        _check(engine, ds, counts)
        again = Dataset(GeneratorConfig(seed=32, accounts=40)).load_erp(engine)  # replaces, never appends
        assert again["customers"] < counts["customers"]
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from customers")).scalar_one() == again["customers"]
    finally:
        engine.dispose()
    with pytest.raises(ValueError):
        ds.load_erp(url, schema="nope")


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[tuple[Engine, str]]:
    engine = create_engine(postgres_url)
    schema = f"testdata_{uuid.uuid4().hex[:10]}"
    try:
        yield engine, schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.mark.postgres
def test_load_into_postgresql(ds: Dataset, pg_schema: tuple[Engine, str]) -> None:
    engine, schema = pg_schema
    counts = ds.load_erp(engine, batch_size=500, schema=schema)
    _check(engine, ds, counts, schema)


@pytest.fixture
def maria_db(mysql_url: str) -> Iterator[tuple[Engine, str]]:
    engine = create_engine(mysql_url)
    schema = f"testdata_{uuid.uuid4().hex[:10]}"
    try:
        yield engine, schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{schema}`"))
        engine.dispose()


@pytest.mark.mysql
def test_load_into_mariadb(ds: Dataset, maria_db: tuple[Engine, str]) -> None:
    engine, schema = maria_db
    counts = ds.load_erp(engine, batch_size=500, schema=schema)
    _check(engine, ds, counts, schema)
