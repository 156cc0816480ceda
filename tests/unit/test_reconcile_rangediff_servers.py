"""Mirror row diff on PostgreSQL and MariaDB: the row hashes computed there (digests) add up to the range
checksums, NULL and empty text differ, soft-deleted rows are left out, and the full pass and the range
diff find the same keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from connectors.base import KeyRange
from connectors.retry import RetryPolicy
from connectors.sql.checksums import row_digests
from connectors.sql.config import SqlConfig
from connectors.sql.connector import SqlConnector
from orchestrator.reconcile.rangediff import cut, diff_full, diff_ranges

COLUMNS = ["cust_no", "name", "note", "amount", "changed_ts", "deleted_flag"]


def _rows(n: int) -> list[dict[str, object]]:
    return [{"cust_no": f"{i:05d}", "name": f"Firm {i}", "note": None if i % 3 else f"note {i}",
             "amount": Decimal(i) / 4, "changed_ts": datetime(2024, 1, 1, 0, 0, i % 60), "deleted_flag": "N"}
            for i in range(n)]


def _fill(engine: sa.Engine, schema: str, rows: list[dict[str, object]]) -> None:
    meta = sa.MetaData(schema=schema)
    table = sa.Table("customers", meta, sa.Column("cust_no", sa.String(10), primary_key=True),
                     sa.Column("name", sa.String(60)), sa.Column("note", sa.String(60)),
                     sa.Column("amount", sa.Numeric(12, 2)), sa.Column("changed_ts", sa.DateTime),
                     sa.Column("deleted_flag", sa.CHAR(1)))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("mysql", marks=pytest.mark.mysql)])
def mirror(request: pytest.FixtureRequest) -> Iterator[tuple[SqlConnector, SqlConnector]]:
    url = request.getfixturevalue(f"{request.param}_url")
    engine = sa.create_engine(url)
    schemas = [f"crmsync_rd_{side}_{uuid.uuid4().hex[:8]}" for side in ("l", "r")]
    create, drop = (("CREATE SCHEMA {}", "DROP SCHEMA IF EXISTS {} CASCADE") if request.param == "postgres"
                    else ("CREATE DATABASE {}", "DROP DATABASE IF EXISTS {}"))
    right = _rows(600)
    right[4]["note"] = ""  # NULL on the left, empty text on the right: a difference
    right[10]["amount"] = Decimal("99.50")
    right[20]["deleted_flag"] = "Y"  # soft-deleted on the right: only on the left as far as a diff goes
    with engine.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(create.format(schema)))
    connectors = []
    try:
        for schema, rows in zip(schemas, (_rows(600), right), strict=True):
            _fill(engine, schema, rows)
            connectors.append(SqlConnector(SqlConfig.model_validate({
                "url": url, "schema": schema, "batch_size": 100, "streams": {"customers": {
                    "updated_at": "changed_ts", "soft_delete_column": "deleted_flag", "deleted_value": "Y"}}}),
                RetryPolicy()))
        yield connectors[0], connectors[1]
    finally:
        for connector in connectors:
            connector.close()
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(sa.text(drop.format(schema)))
        engine.dispose()


def test_digests_and_checksums_agree_and_both_diffs_find_the_same_keys(
        mirror: tuple[SqlConnector, SqlConnector]) -> None:
    left, right = mirror
    key_range = KeyRange(start="00100", end="00300")
    digests = dict(row_digests(left.client, left.stream("customers"), COLUMNS, key_range))
    [checksum] = left.range_checksums("customers", COLUMNS, [key_range])
    assert len(digests) == checksum.count == 200
    assert f"{sum(digests.values()) % (1 << 64):016x}" == checksum.digest
    full = diff_full(left, right, "customers", "cust_no", COLUMNS)
    assert (sorted(full.changed), full.left_only, full.right_only) == (["00004", "00010"], ["00020"], [])
    ranged = diff_ranges(left, right, "customers", "cust_no", COLUMNS, cut([f"{i:05d}" for i in range(600)], 64))
    assert ranged.differing == full.differing
    assert ranged.rows_read < full.rows_read
