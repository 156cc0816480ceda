"""Cutting streams into partitions: key ranges cover every key once, samples balance, time windows chain."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from orchestrator.config.models import ProjectConfig
from orchestrator.errors import ConfigError
from orchestrator.executors import ExecutionSettings, LocalExecutor, RunRequest
from orchestrator.executors.splits import KeySample, key_ranges, partition_id, sample_split_points, time_windows
from orchestrator.runner import run_sync
from orchestrator.state import StateStore
from orchestrator.state.partitions import PartitionBook

TEN_DAYS_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)


def _holder(ranges: list[dict[str, object]], key: str) -> list[int]:
    return [i for i, r in enumerate(ranges)
            if (r["start"] is None or key >= str(r["start"])) and (r["end"] is None or key < str(r["end"]))]


def test_key_ranges_put_every_key_in_exactly_one_range() -> None:
    rng = random.Random(7)
    keys = [f"K{rng.randrange(10**6):06d}" for _ in range(2000)]
    ranges = key_ranges(["K500000", "K100000", "K100000", "K900000"])  # unsorted, repeated
    assert [(r["start"], r["end"]) for r in ranges] == [(None, "K100000"), ("K100000", "K500000"),
                                                        ("K500000", "K900000"), ("K900000", None)]
    assert all(len(_holder(ranges, k)) == 1 for k in keys + ["K100000", "A", "Z"])


def test_sampled_split_points_give_ranges_of_about_equal_size_in_bounded_memory() -> None:
    keys = [f"C{n:06d}" for n in random.Random(3).sample(range(10**6), 40_000)]
    points = sample_split_points(({"id": k} for k in keys), "id", 8, seed=1)
    ranges = key_ranges(points)
    sizes = [0] * len(ranges)
    for k in keys:
        sizes[_holder(ranges, k)[0]] += 1
    assert len(ranges) == 8 and min(sizes) > 0.75 * 5000 and max(sizes) < 1.25 * 5000
    sample = KeySample(capacity=100)
    for k in keys:
        sample.add(k)
    assert len(sample.keys) == 100 and sample.seen == 40_000


def test_integer_keys_split_numerically_and_few_keys_give_fewer_partitions() -> None:
    assert sample_split_points(({"id": n} for n in range(1000)), "id", 4) == [250, 500, 750]
    assert sample_split_points(({"id": k} for k in "aab"), "id", 8) == ["b"]


def test_partition_ids_are_stable_for_the_same_bounds() -> None:
    a, b = {"start": "C1", "end": "C2"}, {"start": "C2", "end": None}
    assert partition_id("key", 3, a) == partition_id("key", 3, dict(a)) != partition_id("key", 3, b)
    assert partition_id("key", 3, a).startswith("k03-") and partition_id("time", 0, b).startswith("t00-")
    assert partition_id("key", 0, None) == "0"  # the whole stream: the local runner's checkpoint


def test_time_windows_chain_and_the_last_is_bounded_by_the_run() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    windows = time_windows(start, start + timedelta(days=3), 3)
    assert [w["end"] for w in windows[:-1]] == [w["start"] for w in windows[1:]] and windows[-1]["end"] is None
    assert windows[1]["start"] == (start + timedelta(days=1)).isoformat()


@pytest.fixture
def timed_project(tmp_path: Path) -> ProjectConfig:
    src = sqlite3.connect(tmp_path / "erp.db")
    src.execute("CREATE TABLE customers (cust_no TEXT PRIMARY KEY, name TEXT NOT NULL, changed TIMESTAMP NOT NULL)")
    day0 = TEN_DAYS_AGO.replace(tzinfo=None) + timedelta(minutes=1)  # naive UTC (the system's time zone)
    src.executemany("INSERT INTO customers VALUES (?, ?, ?)",
                    [(f"C{i:03d}", f"Firm {i}", (day0 + timedelta(hours=4 * i)).isoformat(" ")) for i in range(60)])
    src.commit()
    dst = sqlite3.connect(tmp_path / "crm.db")
    dst.execute("CREATE TABLE accounts (ext_id TEXT PRIMARY KEY, name TEXT NOT NULL)")
    dst.commit()
    specs = {"erp": {"system_type": "sql", "object": "customers", "entity": "Account", "key": "cust_no",
                     "cursor": "changed", "fields": [{"canonical": "account_number", "native": "cust_no"},
                                                     {"canonical": "name", "native": "name"}]},
             "crm": {"system_type": "sql", "object": "accounts", "entity": "Account", "key": "ext_id",
                     "fields": [{"canonical": "account_number", "native": "ext_id"},
                                {"canonical": "name", "native": "name"}]}}
    for system, spec in specs.items():
        (tmp_path / system).mkdir()
        (tmp_path / system / "spec.yaml").write_text(yaml.safe_dump(spec))
    return ProjectConfig.model_validate({
        "version": 1,
        "systems": {
            "erp": {"connector": "sql", "mappings": str(tmp_path / "erp"), "settings": {
                "url": f"sqlite:///{tmp_path / 'erp.db'}", "batch_size": 4,
                "streams": {"customers": {"updated_at": "changed"}}}},
            "crm": {"connector": "sql", "mappings": str(tmp_path / "crm"), "settings": {
                "url": f"sqlite:///{tmp_path / 'crm.db'}", "streams": {"accounts": {}}}},
        },
        "syncs": {"copy": {"from": "erp", "to": "crm", "objects": ["Account"], "batch_size": 4}},
    })


def test_time_window_partitions_sync_everything_and_move_the_stream_cursor_to_the_run_start(
        timed_project: ProjectConfig, tmp_path: Path) -> None:
    settings = ExecutionSettings(slice_seconds=60, lease_ttl_s=30)
    with StateStore.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        executor = LocalExecutor(timed_project, store, settings=settings, concurrency=3)
        with pytest.raises(ConfigError, match="--since"):  # no cursor yet and no starting point
            executor.start("copy", RunRequest(partitions=3, by="time"))
        run_id = executor.start("copy", RunRequest(partitions=3, by="time", since=TEN_DAYS_AGO))
        rows = PartitionBook(store).for_run(run_id)
        assert [r.kind for r in rows] == ["time"] * 3 and {r.status for r in rows} == {"done"}
        assert sum(r.counts["written"] for r in rows) == 60
        assert all(r.counts["written"] > 0 for r in rows)  # 10 days of changes spread over the windows
        run = store.get_run(run_id)
        assert run is not None and run.status == "succeeded"
        cursor = store.get_cursor("copy", "Account", "0")
        assert cursor is not None and datetime.fromisoformat(cursor["source"]["value"]) == run.started_at
        again = run_sync(timed_project, store, "copy")  # incremental, from the stream cursor: nothing new
        assert again.status == "succeeded" and again.totals().get("read", 0) == 0
    crm = sqlite3.connect(tmp_path / "crm.db")
    assert crm.execute("SELECT COUNT(*), COUNT(DISTINCT ext_id) FROM accounts").fetchone() == (60, 60)
