"""Spill buckets: items added one by one or several at once land in the same buckets, spilled or not."""

from __future__ import annotations

from pathlib import Path

from orchestrator.reconcile.spill import BucketStore, Budget


def test_extend_partitions_like_add_and_spills_past_the_budget(tmp_path: Path) -> None:
    keyed = [(f"k{n % 37}", n) for n in range(1000)]
    one = BucketStore(8, 100, tmp_path)
    for key, item in keyed:
        one.add(key, item)
    budget = Budget(100)
    many = BucketStore(8, 100, tmp_path, budget)
    for start in range(0, len(keyed), 5):
        many.extend(keyed[start:start + 5])
    assert many.spilled and many.count == one.count == 1000
    assert [one.bucket(i) for i in range(8)] == [many.bucket(i) for i in range(8)]
    one.close()
    many.close()
