"""Partitioned runs in-process: the planner, ``work_slice``, takeovers, poison partitions, the reaper.

Memory connectors and the real mapping engine (YAML specs); a SQLite state store. The same
``work_slice`` runs inside Celery workers (tests/e2e/test_scale_*.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from connectors.base import Connector, NativeRecord, WriteResult
from connectors.errors import AuthenticationError, RetryableError
from connectors.memory import MemoryConnector, reset_store
from connectors.retry import NO_RETRY, RetryPolicy
from orchestrator.config.models import ProjectConfig
from orchestrator.executors import ExecutionSettings, LocalExecutor, RunRequest, SliceTask
from orchestrator.executors.local import LocalQueue
from orchestrator.executors.planner import plan_run
from orchestrator.executors.reaper import reap
from orchestrator.executors.slices import SliceRuntime, work_slice
from orchestrator.runner.services import Services
from orchestrator.state import StateStore
from orchestrator.state.partitions import PartitionBook, PartitionKey
from orchestrator.state.testing import FakeClock

_N = itertools.count()
FAST = ExecutionSettings(slice_seconds=0.0, lease_ttl_s=30.0, max_attempts=3, retry_backoff_s=0.01,
                         retry_backoff_max_s=0.02, progress_every_s=0.0, queued_grace_s=0.0)
SPECS = {
    "erp": {"system_type": "memory", "object": "customers", "entity": "Account", "key": "cust_no",
            "fields": [{"canonical": "account_number", "native": "cust_no", "required": True},
                       {"canonical": "name", "native": "name", "transforms": ["trim"], "required": True}]},
    "crm": {"system_type": "memory", "object": "Account", "entity": "Account", "key": "AccountNumber",
            "fields": [{"canonical": "account_number", "native": "AccountNumber", "required": True},
                       {"canonical": "name", "native": "Name", "required": True}]},
}


class FailingTarget:
    """A target whose writes of some keys raise, as a broken record or a down API would."""

    def __init__(self, inner: Connector, bad: set[str], error: Exception) -> None:
        self.inner, self.bad, self.error = inner, bad, error

    def write(self, stream: str, records: Sequence[NativeRecord], deletes: Sequence[str] = (),
              upsert_key: str | None = None) -> WriteResult:
        if any(r["AccountNumber"] in self.bad for r in records):
            raise self.error
        return self.inner.write(stream, records, deletes, upsert_key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class FlakyServices(Services):
    failing: tuple[set[str], Exception] | None = None

    def connector(self, system: str, retry: RetryPolicy) -> Connector:
        real = super().connector(system, NO_RETRY)
        if system == "crm" and self.failing is not None:
            return FailingTarget(real, *self.failing)  # type: ignore[return-value]
        return real


@pytest.fixture
def project(tmp_path: Path) -> Any:
    n = next(_N)
    for system, spec in SPECS.items():
        (tmp_path / system).mkdir()
        (tmp_path / system / "spec.yaml").write_text(yaml.safe_dump(spec))
    config = ProjectConfig.model_validate({
        "version": 1,
        "systems": {
            "erp": {"connector": "memory", "mappings": str(tmp_path / "erp"), "settings": {
                "store": f"x-erp{n}", "batch_size": 7, "streams": {"customers": {"primary_key": "cust_no"}}}},
            "crm": {"connector": "memory", "mappings": str(tmp_path / "crm"), "settings": {
                "store": f"x-crm{n}", "streams": {"Account": {"primary_key": "AccountNumber"}}}},
        },
        "syncs": {"copy": {"from": "erp", "to": "crm", "objects": ["Account"], "batch_size": 5}},
    })
    erp = MemoryConnector(MemoryConnector.config_model.model_validate(config.system("erp").settings), NO_RETRY)
    erp.write("customers", [{"cust_no": f"C{i:03d}", "name": f" Firm {i} "} for i in range(100)])
    clock = FakeClock()
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    services = FlakyServices(config)
    yield SimpleNamespace(config=config, store=store, services=services, clock=clock, n=n)
    store.close()
    reset_store(f"x-erp{n}")
    reset_store(f"x-crm{n}")


def crm_rows(p: Any) -> dict[str, str]:
    crm = MemoryConnector(MemoryConnector.config_model.model_validate(p.config.system("crm").settings), NO_RETRY)
    return {r["AccountNumber"]: r["Name"] for b in crm.read("Account") for r in b.records}


def runtime(p: Any, queue: LocalQueue, owner: str = "w1", settings: ExecutionSettings = FAST) -> SliceRuntime:
    return SliceRuntime(p.config, p.store, p.services, settings, queue, owner=lambda task: owner)


def drain(rt: SliceRuntime, queue: LocalQueue) -> list[str]:
    outcomes = []
    while (task := queue.take()) is not None:
        outcomes.append(work_slice(rt, task))
        queue.done()
    return outcomes


def test_partitioned_local_run_writes_every_record_once_and_records_each_partition(project: Any) -> None:
    run_id = LocalExecutor(project.config, project.store, services=project.services, settings=FAST,
                           concurrency=3).start("copy", RunRequest(partitions=4))
    assert crm_rows(project) == {f"C{i:03d}": f"Firm {i}" for i in range(100)}
    run = project.store.get_run(run_id)
    assert run is not None and run.status == "succeeded"
    rows = PartitionBook(project.store).for_run(run_id)
    assert len(rows) == 4 and {r.status for r in rows} == {"done"}
    assert sum(r.counts["written"] for r in rows) == 100
    assert all(r.slice >= 2 for r in rows)  # a zero time slice: every batch ends a slice, continuations chain
    assert run.summary["partitions"]["done"] == 4 and run.summary["totals"]["written"] == 100
    starts = [r.bounds["start"] for r in rows if r.bounds]
    assert starts[0] is None and all(b is not None for b in starts[1:])  # the ranges cover every key


def test_the_next_run_reuses_the_layout_and_resumes_each_partition_from_its_cursor(project: Any) -> None:
    executor = LocalExecutor(project.config, project.store, services=project.services, settings=FAST)
    first = executor.start("copy", RunRequest(partitions=3))
    erp = MemoryConnector(MemoryConnector.config_model.model_validate(project.config.system("erp").settings),
                          NO_RETRY)
    erp.write("customers", [{"cust_no": "C050", "name": "Renamed"}, {"cust_no": "C999", "name": "New"}])
    second = executor.start("copy", RunRequest(partitions=3))
    book = PartitionBook(project.store)
    assert [r.partition for r in book.for_run(first)] == [r.partition for r in book.for_run(second)]
    assert sum(r.counts.get("read", 0) for r in book.for_run(second)) == 2  # only the changes
    assert crm_rows(project)["C050"] == "Renamed" and crm_rows(project)["C999"] == "New"


def test_a_poison_partition_fails_with_its_reason_after_max_attempts_and_the_rest_lands(project: Any) -> None:
    project.services.failing = ({"C010"}, RetryableError("target unavailable"))
    run_id = LocalExecutor(project.config, project.store, services=project.services, settings=FAST).start(
        "copy", RunRequest(split_points=("C050",)))
    rows = {r.bounds["end"] if r.bounds else None: r for r in PartitionBook(project.store).for_run(run_id)}
    poisoned, healthy = rows["C050"], rows[None]
    assert poisoned.status == "failed" and poisoned.attempts == FAST.max_attempts
    assert poisoned.error is not None and poisoned.error.startswith("gave up after 3 attempts: ")
    assert "target unavailable" in poisoned.error
    assert healthy.status == "done" and healthy.counts["written"] == 50
    run = project.store.get_run(run_id)
    assert run is not None and run.status == "partial" and "gave up after 3 attempts" in (run.error or "")
    assert run.summary["partitions"] == {"total": 2, "done": 1, "failed": 1, "taken_over": 0,
                                         "republished_by_reaper": 0}


def test_a_configuration_error_fails_the_partition_at_once(project: Any) -> None:
    project.services.failing = ({f"C{i:03d}" for i in range(100)}, AuthenticationError("login refused"))
    run_id = LocalExecutor(project.config, project.store, services=project.services, settings=FAST).start(
        "copy", RunRequest(partitions=2))
    rows = PartitionBook(project.store).for_run(run_id)
    assert {r.status for r in rows} == {"failed"} and {r.attempts for r in rows} == {1}
    assert project.store.get_run(run_id).status == "failed"  # type: ignore[union-attr]


def test_a_slice_abandoned_by_a_dead_worker_is_taken_over_after_its_lease_expires(project: Any) -> None:
    queue = LocalQueue()
    planned = plan_run(project.config, project.store, project.services, "copy", RunRequest(partitions=2),
                       executor="local")
    task = planned.tasks[0]
    key = PartitionKey(task.run_id, task.stream, task.partition)
    book = PartitionBook(project.store)
    dead = project.store.acquire_lease(task.sync, task.stream, task.partition, "w-dead", FAST.lease_ttl_s)
    assert dead is not None and book.start_slice(dead, key, 0, recovered_by="redelivery") is not None
    # The broker redelivers the message at once; the dead worker's lease is still live: wait, never drop.
    assert work_slice(runtime(project, queue, "w2"), task.again("plan")) == "waiting"
    assert book.get(key).status == "running" and queue.queue_is_empty() is False  # type: ignore[union-attr]
    project.clock.advance(FAST.lease_ttl_s + 1)  # the delayed copy arrives after the lease expired
    outcome = work_slice(runtime(project, queue, "w2"), task.again("wait"))
    row = book.get(key)
    assert outcome == "continued" and row is not None
    assert (row.taken_over_from, row.recovered_by, row.takeovers, row.worker) == ("w-dead", "redelivery", 1, "w2")
    with pytest.raises(Exception, match="no longer current"):
        project.store.commit_batch(dead, cursor={"source": None})  # the dead worker is fenced off


def test_the_reaper_republishes_partitions_whose_messages_were_lost(project: Any) -> None:
    lost = LocalQueue()  # the plan's messages go here and are never delivered (a purged queue)
    planned = plan_run(project.config, project.store, project.services, "copy", RunRequest(partitions=3),
                       executor="local")
    for task in planned.tasks:
        lost.publish(task)
    queue = LocalQueue()
    reaped = reap(project.store, queue, FAST)
    assert len(reaped) == 3 and {r.reason for r in reaped} == {"published long ago, not in the queue"}
    assert reap(project.store, queue, FAST) == []  # claimed once: a second reaper finds nothing to do
    drain(runtime(project, queue), queue)
    rows = PartitionBook(project.store).for_run(planned.run_id)
    assert {r.status for r in rows} == {"done"} and {r.recovered_by for r in rows} == {"reaper"}
    assert {r.republished for r in rows} == {1}
    assert len(crm_rows(project)) == 100
    assert project.store.get_run(planned.run_id).status == "succeeded"  # type: ignore[union-attr]


def test_a_running_partition_whose_worker_vanished_is_reaped_and_recorded_as_taken_over(project: Any) -> None:
    planned = plan_run(project.config, project.store, project.services, "copy", RunRequest(partitions=2),
                       executor="local")
    task = planned.tasks[1]
    key = PartitionKey(task.run_id, task.stream, task.partition)
    dead = project.store.acquire_lease(task.sync, task.stream, task.partition, "w-dead", FAST.lease_ttl_s)
    PartitionBook(project.store).start_slice(dead, key, 0, recovered_by="redelivery")  # type: ignore[arg-type]
    queue = LocalQueue()
    queue.publish(planned.tasks[0])
    assert reap(project.store, queue, FAST) == []  # its lease is live: not an orphan
    project.clock.advance(FAST.lease_ttl_s * 2 + 1)
    assert [r.partition for r in reap(project.store, queue, FAST)] == [task.partition]
    drain(runtime(project, queue), queue)
    row = PartitionBook(project.store).get(key)
    assert row is not None and (row.status, row.taken_over_from, row.recovered_by) == ("done", "w-dead", "reaper")


def test_duplicate_and_late_messages_change_nothing(project: Any) -> None:
    queue = LocalQueue()
    planned = plan_run(project.config, project.store, project.services, "copy", RunRequest(partitions=2),
                       executor="local")
    for task in planned.tasks:
        queue.publish(task)
    rt = runtime(project, queue)
    drain(rt, queue)
    before = crm_rows(project)
    for task in planned.tasks:  # the plan's messages delivered again after the run ended
        assert work_slice(rt, task) == "stale"
    assert work_slice(rt, SliceTask(planned.run_id, "copy", "Account", "nope")) == "stale"
    assert crm_rows(project) == before


def test_a_cancelled_run_ends_its_queued_partitions_as_cancelled(project: Any) -> None:
    queue = LocalQueue()
    planned = plan_run(project.config, project.store, project.services, "copy", RunRequest(partitions=2),
                       executor="local")
    project.store.request_cancel(planned.run_id)
    assert [work_slice(runtime(project, queue), t) for t in planned.tasks] == ["cancelled", "cancelled"]
    assert project.store.get_run(planned.run_id).status == "cancelled"  # type: ignore[union-attr]
    assert crm_rows(project) == {}


def test_a_slice_whose_worker_dies_every_time_ends_failed_never_retried_forever(project: Any) -> None:
    planned = plan_run(project.config, project.store, project.services, "copy", RunRequest(partitions=2),
                       executor="local")
    task = planned.tasks[0]
    key = PartitionKey(task.run_id, task.stream, task.partition)
    book = PartitionBook(project.store)
    for n in range(FAST.max_attempts):  # each delivery starts the slice, then its process is killed
        lease = project.store.acquire_lease(task.sync, task.stream, task.partition, f"w-dead-{n}", FAST.lease_ttl_s)
        assert lease is not None and book.start_slice(lease, key, 0, recovered_by="redelivery") is not None
        project.clock.advance(FAST.lease_ttl_s + 1)
    assert work_slice(runtime(project, LocalQueue()), task.again("wait")) == "failed"
    row = book.get(key)
    assert row is not None and row.status == "failed" and row.takeovers == FAST.max_attempts  # the last: ours
    assert row.error == "gave up after 3 attempts: the worker working it was lost every time"
