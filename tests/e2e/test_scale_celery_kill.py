"""200,000 records in 16 partitions on 3 ``crmsync worker`` processes, RabbitMQ and PostgreSQL, under fire.

While the run works: the queue is purged (the messages of every queued partition are gone, as in
a broker failover), the pool process working a partition is SIGKILLed (the case Celery's defaults
lose: the message is acked), then a whole worker is SIGKILLed with its pool, and a worker is
started again. The run must complete with every record in the target exactly once, and the state
store must say which partitions were taken over and whether a redelivery or the reaper recovered
them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import kombu
import pytest
import sqlalchemy as sa

from orchestrator.executors.testing import (
    ScaleProject,
    WorkerProcess,
    drop_project,
    fresh_statistics,
    make_project,
    target_rows,
)
from orchestrator.state import StateStore
from orchestrator.state.partitions import PartitionBook, PartitionRow
from orchestrator.state.schema import xref as X

N = 200_000
PARTITIONS = 16
T = TypeVar("T")
pytestmark = pytest.mark.slow


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 240.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def worker_pid(row: PartitionRow) -> int:
    """The pool process working a partition: lease owners are ``host:pid:run:partition:slice``."""
    return int((row.worker or "").split(":")[1])


def submit(project: ScaleProject) -> str:
    done = subprocess.run(project.command("submit", "--partitions", str(PARTITIONS), "--queue", project.queue,
                                          "--no-wait"), env=project.env(), cwd=project.workdir, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()[1]  # "run <id> submitted"


def xref_counts(project: ScaleProject) -> list[tuple[str, int, int]]:
    """Per system: cross-reference rows and distinct canonical ids."""
    engine = sa.create_engine(project.postgres_url).execution_options(
        schema_translate_map={None: project.state_schema})
    with engine.connect() as conn:
        rows = conn.execute(sa.select(X.c.system, sa.func.count(), sa.func.count(sa.distinct(X.c.canonical_id)))
                            .group_by(X.c.system).order_by(X.c.system)).all()
    engine.dispose()
    return [(r[0], int(r[1]), int(r[2])) for r in rows]


def purge(project: ScaleProject) -> int:
    with kombu.Connection(project.broker_url) as conn:
        return int(conn.default_channel.queue_purge(project.queue) or 0)


def test_kills_and_a_purged_queue_still_land_every_record_exactly_once(tmp_path: Path, postgres_url: str,
                                                                       amqp_url: str) -> None:
    project = make_project(tmp_path, postgres_url, amqp_url, N, batch_size=2500, lease_ttl_s=8.0, time_slice_s=20.0)
    workers: list[WorkerProcess] = []
    store = None
    try:
        with fresh_statistics(project):
            args = ("--reap-every", "2", "--queued-grace", "10", "--max-attempts", "6")
            workers = [WorkerProcess(project, 1, *args) for _ in range(3)]
            run_id = submit(project)
            store = StateStore.open(postgres_url, schema=project.state_schema)
            book = PartitionBook(store)

            def running(exclude: set[str]) -> PartitionRow | None:
                """A partition at work, the one that started last (least likely to end before the kill)."""
                busy = [r for r in book.for_run(run_id) if r.status == "running" and r.worker
                        and r.partition not in exclude and r.counts.get("read", 0) > 0]
                return min(busy, key=lambda r: r.counts["read"], default=None)

            # 1. A purged queue: the queued partitions' messages are gone; only the reaper can bring them back.
            wait_for(lambda: running(set()), "a partition at work")
            purged = purge(project)
            assert purged >= PARTITIONS - 2 * len(workers)
            # 2. SIGKILL the pool process working a partition (Celery's defaults would ack and lose it).
            child = running(set())
            assert child is not None
            os.kill(worker_pid(child), signal.SIGKILL)
            # 3. SIGKILL a whole worker (main process and pool) in the middle of another partition.
            def on_live_worker() -> PartitionRow | None:
                row = running({child.partition})
                return row if row and any(worker_pid(row) in w.children() for w in workers) else None

            other = wait_for(on_live_worker, "a partition on a live worker")
            doomed = next(w for w in workers if worker_pid(other) in w.children())
            doomed.kill()
            # 4. A worker comes back.
            workers.append(WorkerProcess(project, 1, *args))
            wait_for(lambda: (run := store.get_run(run_id)) is not None and run.status != "running",  # type: ignore
                     "the run to finish", timeout=600)

        run = store.get_run(run_id)
        rows = book.for_run(run_id)
        logs = "\n".join(w.log.read_text()[-2000:] for w in workers)
        assert run is not None and run.status == "succeeded", (run, logs)
        assert len(rows) == PARTITIONS and {r.status for r in rows} == {"done"}

        # Every record exactly once, with its value.
        target = target_rows(project)
        assert len(target) == N and len({k for k, _ in target}) == N
        assert all(name == f"Firm {int(k[1:])}" for k, name in target)

        # The state store tells who recovered what.
        by_id = {r.partition: r for r in rows}
        killed_child, killed_worker = by_id[child.partition], by_id[other.partition]
        assert killed_child.takeovers >= 1 and killed_child.recovered_by in ("redelivery", "reaper")
        assert (killed_child.taken_over_from or "").split(":")[1] == str(worker_pid(child)) or \
            killed_child.takeovers > 1
        assert killed_worker.takeovers >= 1 and killed_worker.recovered_by in ("redelivery", "reaper")
        assert killed_child.recovered_by == "redelivery" or killed_worker.recovered_by == "redelivery"
        reaped = [r for r in rows if r.republished]
        assert len(reaped) >= purged - 1 and {r.recovered_by for r in reaped} >= {"reaper"}
        assert run.summary["partitions"]["taken_over"] >= 2
        assert run.summary["partitions"]["republished_by_reaper"] >= len(reaped)
        assert sum(r.counts.get("written", 0) for r in rows) >= N  # replayed batches count again, never fewer
        assert xref_counts(project) == [("crm", N, N), ("erp", N, N)]  # one canonical id per record, linked once

        shown = subprocess.run(project.command("runs", "show", run_id, "--json"), env=project.env(),
                               cwd=project.workdir, capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr[-2000:]
        listed = {p["partition"]: p for p in json.loads(shown.stdout)["partitions"]}
        assert listed[killed_child.partition]["recovered_by"] == killed_child.recovered_by
        assert listed[killed_child.partition]["taken_over_from"] == killed_child.taken_over_from
    finally:
        for worker in workers:
            worker.stop(timeout=20)
        if store is not None:
            store.close()
        drop_project(project)
