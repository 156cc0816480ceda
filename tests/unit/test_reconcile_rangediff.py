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


def test_row_digests_add_up_to_the_range_checksum(tmp_path: Path) -> None:
    from connectors.base import KeyRange
    from connectors.sql.checksums import row_digests

    left = table(tmp_path / "d.db", 300, {}, set(), set())
    key_range = KeyRange(start="000100", end="000200")
    digests = dict(row_digests(left.client, left.stream("customers"), COLUMNS, key_range))
    [checksum] = left.range_checksums("customers", COLUMNS, [key_range])
    assert len(digests) == checksum.count == 100
    assert f"{sum(digests.values()) % (1 << 64):016x}" == checksum.digest
    left.close()


def test_dense_differences_are_read_without_checksumming_every_range(tmp_path: Path) -> None:
    """Every range differs: a sample of ranges says so, and the rest are read without their checksums."""
    changed = {n: f"+3493{n:07d}" for n in range(0, 4000, 7)}
    left = table(tmp_path / "l.db", 4000, {}, set(), set())
    right = table(tmp_path / "r.db", 4000, changed, set(), set())
    bounds = cut([f"{n:06d}" for n in range(4000)], ranges=1024)
    found = diff_ranges(left, right, "customers", "cust_no", COLUMNS, bounds)
    assert sorted(found.changed) == [f"{n:06d}" for n in sorted(changed)]
    assert found.equal_ranges == 0 and found.checksums < found.ranges and found.rows_read == 8000
    left.close()
    right.close()


def test_sparse_differences_are_bisected_down_to_small_reads(tmp_path: Path) -> None:
    """A few differences in a large table: differing ranges are bisected, only their small parts read."""
    import orchestrator.reconcile.rangediff as rangediff

    left = table(tmp_path / "l.db", 20000, {}, set(), set())
    right = table(tmp_path / "r.db", 20000, {123: "x", 15000: "y"}, {777}, {99999})
    bounds = cut([f"{n:06d}" for n in range(20000)], ranges=2048)
    saved = rangediff.MIN_BISECT_ROWS
    rangediff.MIN_BISECT_ROWS = 16  # the table is small: let bisection go down to ranges of ~10 rows
    try:
        found = diff_ranges(left, right, "customers", "cust_no", COLUMNS, bounds)
    finally:
        rangediff.MIN_BISECT_ROWS = saved
    assert (sorted(found.changed), found.left_only, found.right_only) == (["000123", "015000"], ["000777"],
                                                                          ["099999"])
    assert found.levels >= 2 and found.rows_read < 200
    left.close()
    right.close()
