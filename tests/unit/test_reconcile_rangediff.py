"""Mirror row diff: a full pass learns range boundaries; the next diff reads only ranges that differ."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from connectors.retry import RetryPolicy
from connectors.sql.config import SqlConfig
from connectors.sql.connector import SqlConnector
from orchestrator.reconcile.rangediff import cut, diff_mirror, diff_ranges, ranges_of
from orchestrator.state import StateStore

COLUMNS = ["cust_no", "name", "phone", "limit_eur"]


def table(path: Path, rows: int, changes: dict[int, str], drop: set[int], extra: set[int]) -> SqlConnector:
    engine = sa.create_engine(f"sqlite:///{path}")
    meta = sa.MetaData()
    customers = sa.Table("customers", meta, sa.Column("cust_no", sa.String, primary_key=True),
                         sa.Column("name", sa.String), sa.Column("phone", sa.String),
                         sa.Column("limit_eur", sa.Numeric(12, 2)))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"cust_no": f"{n:06d}", "name": f"Firm {n}", "phone": changes.get(n, f"+3491{n:07d}"), "limit_eur": n / 4}
            for n in [*range(rows), *sorted(extra)] if n not in drop])
    engine.dispose()
    return SqlConnector(SqlConfig(url=f"sqlite:///{path}", batch_size=500), RetryPolicy())


def test_full_pass_then_ranges_find_the_same_rows(tmp_path: Path) -> None:
    left = table(tmp_path / "l.db", 1200, {}, set(), set())
    right = table(tmp_path / "r.db", 1200, {17: "+34910000000", 1199: "x"}, {500}, {5000})
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    first = diff_mirror(left, right, "customers", "cust_no", COLUMNS, store=store, job="m", entity="Account")
    assert (sorted(first.changed), first.left_only, first.right_only) == (["000017", "001199"], ["000500"],
                                                                          ["005000"])
    assert first.rows_read == 2400 and len(first.boundaries) > 10
    second = diff_mirror(left, right, "customers", "cust_no", COLUMNS, store=store, job="m", entity="Account")
    assert second.differing == first.differing
    assert second.equal_ranges >= second.ranges - 4 and second.rows_read < 200  # only the ranges that differ
    left.close()
    right.close()


def test_boundaries_partition_the_key_space(tmp_path: Path) -> None:
    bounds = cut([f"{n:04d}" for n in range(0, 1000, 3)], ranges=10)
    assert bounds == sorted(bounds) and len(bounds) in (9, 10, 11)
    ranges = ranges_of(bounds)
    assert ranges[0].start is None and ranges[-1].end is None
    assert all(a.end == b.start for a, b in zip(ranges, ranges[1:], strict=False))
    left = table(tmp_path / "a.db", 100, {}, set(), set())
    same = diff_ranges(left, left, "customers", "cust_no", COLUMNS, ["000050"])
    assert same.differing == set() and same.equal_ranges == 2 and same.rows_read == 0
    left.close()
