"""``work_slice``: one delivery of one partition slice, the same under every executor.

1. A slice already done, of a partition that moved on, or of a finished run: nothing to do.
2. Take the partition's fenced lease; if another worker holds it, come back when it expires
   (a redelivery after a crash finds the dead worker's lease still live for up to one TTL).
3. Count the attempt; a slice started ``max_attempts`` times without ending is poison: failed.
4. ``run_partition`` works batches for at most ``slice_seconds``, each batch an idempotent write
   and a fenced checkpoint; then the partition is done, or queued again and its next slice
   published, or (after an error) the same slice is published again after a backoff.
Every state change is committed before this returns: Celery acknowledges the delivery only then.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog

from connectors.base import Connector, KeyRange, ReadRange, TimeWindow
from connectors.errors import BudgetExhaustedError
from orchestrator.config.models import ProjectConfig
from orchestrator.errors import one_line
from orchestrator.executors import finalize
from orchestrator.executors.base import ExecutionSettings, Publisher, SliceTask
from orchestrator.executors.progress import ProgressObserver
from orchestrator.runner.job import RunOptions, StreamJob
from orchestrator.runner.killpoints import KillSwitch
from orchestrator.runner.observe import NullObserver
from orchestrator.runner.partition import run_partition
from orchestrator.runner.services import Services
from orchestrator.runner.streams import BUDGET_REASON, CONFIG_ERRORS, build_job
from orchestrator.state.partitions import TERMINAL, PartitionBook, PartitionKey, PartitionRow
from orchestrator.state.store import StateStore
from orchestrator.state.types import Lease, StaleLeaseError

log = structlog.get_logger(__name__)


def worker_owner(task: SliceTask) -> str:
    """A distributed worker's lease owner: host, process and slice, so every delivery is told apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{task.run_id[:12]}:{task.partition}:{task.slice}"


class SliceRuntime:
    """What a worker process needs to work slices: config, store, services, and jobs built once per thread.

    Connectors are not shared between threads (they may hold sessions); each thread builds its
    own job per (sync, stream) on first use and keeps it for later slices, so a slice costs a
    lease and a few state updates, not a reconnect and a schema discovery.
    """

    def __init__(self, config: ProjectConfig, store: StateStore, services: Services, settings: ExecutionSettings,
                 publisher: Publisher, owner: Callable[[SliceTask], str] = worker_owner,
                 kill: KillSwitch | None = None) -> None:
        self.config, self.store, self.services, self.settings = config, store, services, settings
        self.publisher, self.owner = publisher, owner
        self.book = PartitionBook(store)
        self.kill = kill or KillSwitch.from_env()
        self._local = threading.local()
        self._opened: list[Connector] = []
        self._lock = threading.Lock()
        self._run_starts: dict[str, datetime] = {}

    def job(self, task: SliceTask, row: PartitionRow, observer: NullObserver) -> StreamJob:
        """The stream's job for this slice: the thread's connectors, this run's options and range."""
        jobs: dict[tuple[str, str], StreamJob] | None = getattr(self._local, "jobs", None)
        if jobs is None:
            jobs = self._local.jobs = {}
        base = jobs.get((task.sync, task.stream))
        options = RunOptions(task.run_id, self._run_started(task.run_id))
        if base is None:
            obj = next(o for o in self.config.sync(task.sync).objects if o.entity == task.stream)
            opened: list[Connector] = []
            try:
                base = build_job(self.config, self.store, self.services, task.sync, obj, options, NullObserver(),
                                 self.kill, opened)
            finally:
                with self._lock:
                    self._opened += opened
            jobs[(task.sync, task.stream)] = base
        return replace(base, options=options, observer=observer, read_range=read_range(row))

    def _run_started(self, run_id: str) -> datetime:
        if run_id not in self._run_starts:
            run = self.store.get_run(run_id)
            if run is None:
                raise LookupError(f"unknown run {run_id}")
            self._run_starts[run_id] = run.started_at
        return self._run_starts[run_id]

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for connector in opened:
            try:
                connector.close()
            except Exception:  # closing must not hide why the worker stops
                log.warning("connector.close_failed", connector=type(connector).__name__)


class LeaseKeeper:
    """Renews the lease every third of its TTL while a slice works, so a slow batch (a Bulk job, a
    loaded database) never looks like a dead worker; the lease then expires only when the process
    is gone. A renewal that finds the lease taken stops renewing: the next checkpoint is fenced off.
    """

    def __init__(self, store: StateStore, lease: Lease) -> None:
        self.store, self.lease = store, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="crmsync-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._stop.wait(self.lease.ttl_s / 3):
            try:
                self.store.renew_lease(self.lease)
            except StaleLeaseError:
                log.warning("partition.lease_lost", partition=self.lease.partition)
                return
            except Exception:  # the store is unreachable now: the next renewal or checkpoint tells
                log.warning("partition.lease_renew_failed", partition=self.lease.partition)


def read_range(row: PartitionRow) -> ReadRange | None:
    """The partition's bounds as the range a connector reads."""
    bounds = row.bounds or {}
    if row.kind == "key":
        return KeyRange(start=bounds.get("start"), end=bounds.get("end"))
    if row.kind == "time":
        return TimeWindow(start=_when(bounds.get("start")), end=_when(bounds.get("end")))
    return None


def _when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def work_slice(rt: SliceRuntime, task: SliceTask) -> str:
    """Work one delivery of ``task``; returns what happened (for logs and tests)."""
    key = PartitionKey(task.run_id, task.stream, task.partition)
    with structlog.contextvars.bound_contextvars(run_id=task.run_id, sync=task.sync, stream=task.stream,
                                                 partition=task.partition, slice=task.slice):
        row = rt.book.get(key)
        if row is None or row.status in TERMINAL or row.slice != task.slice or row.status == "waiting":
            log.info("partition.slice_stale", origin=task.origin, status=None if row is None else row.status)
            return "stale"
        if rt.store.is_cancel_requested(task.run_id):
            if rt.book.settle(key, task.slice, "cancelled", "cancel requested"):
                finalize.advance(rt.store, rt.publisher, task.run_id)
            return "cancelled"
        lease = rt.store.acquire_lease(task.sync, task.stream, task.partition, rt.owner(task), rt.settings.lease_ttl_s)
        if lease is None:
            return _wait_for_lease(rt, task, row)
        return _start(rt, task, key, lease)


def _wait_for_lease(rt: SliceRuntime, task: SliceTask, row: PartitionRow) -> str:
    """Someone holds the lease: a dead worker's until it expires, or a live one's (then this copy goes stale)."""
    now = rt.book.now()
    left = (row.lease_expires_at - now).total_seconds() if row.lease_expires_at else 0.0
    countdown = min(max(1.0, left + 1.0), rt.settings.lease_ttl_s + 1.0)
    rt.publisher.publish(task.again("wait" if task.origin != "reaper" else "reaper"), countdown=countdown)
    log.info("partition.lease_busy", holder=row.worker, retry_in_s=round(countdown, 1))
    return "waiting"


def _start(rt: SliceRuntime, task: SliceTask, key: PartitionKey, lease: Lease) -> str:
    recovered_by = "reaper" if task.origin == "reaper" else "redelivery"
    try:
        started = rt.book.start_slice(lease, key, task.slice, recovered_by=recovered_by)
    except StaleLeaseError:
        return "lost_lease"
    if started is None:
        rt.store.release_lease(lease)
        log.info("partition.slice_stale", origin=task.origin)
        return "stale"
    row, took_over = started
    if took_over:
        log.warning("partition.taken_over", previous=row.taken_over_from, recovered_by=row.recovered_by,
                    attempts=row.attempts)
    if row.attempts > rt.settings.max_attempts:
        reason = (f"gave up after {rt.settings.max_attempts} attempts: "
                  f"{row.error or 'the worker working it was lost every time'}")
        return _finish(rt, task, lease, key, "failed", {}, reason)
    return _run(rt, task, key, lease, row)


def _run(rt: SliceRuntime, task: SliceTask, key: PartitionKey, lease: Lease, row: PartitionRow) -> str:
    progress = ProgressObserver(rt.book, lease, key, rt.settings.progress_every_s)
    log.info("partition.slice_started", origin=task.origin, attempts=row.attempts, kind=row.kind)
    try:
        job = rt.job(task, row, progress)
        with LeaseKeeper(rt.store, lease):
            result = run_partition(job, lease, rt.settings.slice_seconds)
    except StaleLeaseError:
        log.error("partition.lease_lost")
        return "lost_lease"
    except Exception as exc:  # the partition's own failure: recorded, retried or failed, never lost
        return _failed_attempt(rt, task, key, lease, row, exc, progress.remainder())
    counts = progress.remainder(result.counts)
    if result.cancelled:
        return _finish(rt, task, lease, key, "cancelled", counts, "cancel requested")
    if result.done:
        return _finish(rt, task, lease, key, "done", counts, None)
    rt.book.continue_slice(lease, key, counts, next_slice=True)
    rt.publisher.publish(task.next())
    log.info("partition.slice_continued", read=result.counts.get("read", 0))
    return "continued"


def _failed_attempt(rt: SliceRuntime, task: SliceTask, key: PartitionKey, lease: Lease, row: PartitionRow,
                    exc: Exception, counts: dict[str, int]) -> str:
    reason = BUDGET_REASON if isinstance(exc, BudgetExhaustedError) else one_line(exc)
    final = isinstance(exc, (BudgetExhaustedError, *CONFIG_ERRORS))
    if final or row.attempts >= rt.settings.max_attempts:
        prefix = "" if final else f"gave up after {row.attempts} attempts: "
        log.error("partition.failed", error_code=type(exc).__name__, reason=reason, attempts=row.attempts)
        return _finish(rt, task, lease, key, "failed", counts, prefix + reason)
    countdown = rt.settings.backoff(row.attempts)
    try:
        rt.book.continue_slice(lease, key, counts, next_slice=False, error=reason)
    except StaleLeaseError:
        return "lost_lease"
    rt.publisher.publish(task.again("retry"), countdown=countdown)
    log.warning("partition.retry_scheduled", error_code=type(exc).__name__, reason=reason, attempts=row.attempts,
                retry_in_s=countdown)
    return "retrying"


def _finish(rt: SliceRuntime, task: SliceTask, lease: Lease, key: PartitionKey, status: str,
            counts: dict[str, int], error: str | None) -> str:
    try:
        rt.book.finish(lease, key, status, counts, error)
    except StaleLeaseError:
        return "lost_lease"
    log.info("partition.finished", status=status, reason=error)
    finalize.advance(rt.store, rt.publisher, task.run_id)
    return status
