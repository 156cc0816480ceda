"""``executor=local``: everything in this process, nothing to install (the default).

One partition per stream is exactly ``run_sync``, today's runner. With more partitions the run is
planned like a distributed one and its slices are worked by a few threads from an in-process
queue, through the same ``work_slice`` a Celery worker runs, so both executors share one code path
from the plan to the last checkpoint.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import socket
import threading
import time
from typing import ClassVar

import structlog

from orchestrator.config.models import ProjectConfig
from orchestrator.executors import finalize
from orchestrator.executors.base import ExecutionSettings, RunRequest, SliceTask
from orchestrator.executors.planner import plan_run
from orchestrator.executors.slices import SliceRuntime, work_slice
from orchestrator.runner.observe import RunObserver
from orchestrator.runner.services import Services
from orchestrator.runner.sync import run_sync
from orchestrator.state.store import StateStore

log = structlog.get_logger(__name__)


class LocalQueue:
    """Slices due now or after a countdown, for the threads of one local run."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, SliceTask]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0

    def publish(self, task: SliceTask, countdown: float | None = None) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + (countdown or 0.0), next(self._seq), task))
            self._cond.notify_all()

    def queue_is_empty(self) -> bool | None:
        with self._cond:
            return not self._heap

    def take(self) -> SliceTask | None:
        """The next due slice; None once nothing is queued and no thread is working (the run is over)."""
        with self._cond:
            while True:
                if self._heap and self._heap[0][0] <= time.monotonic():
                    self._busy += 1
                    return heapq.heappop(self._heap)[2]
                if not self._heap and not self._busy:
                    self._cond.notify_all()
                    return None
                wait = self._heap[0][0] - time.monotonic() if self._heap else None
                self._cond.wait(timeout=wait)

    def done(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()


def local_owner(task: SliceTask) -> str:
    """The local runner's owner (this host): a restarted run takes its leases back at once."""
    return f"local:{socket.gethostname()}"


class LocalExecutor:
    """Runs a sync in this process: ``run_sync`` for one partition per stream, else partitioned slices."""

    name: ClassVar[str] = "local"

    def __init__(self, config: ProjectConfig, store: StateStore, *, services: Services | None = None,
                 settings: ExecutionSettings | None = None, concurrency: int = 2,
                 observer: RunObserver | None = None) -> None:
        self.config, self.store = config, store
        self.services = services or Services(config)
        self.settings = settings or ExecutionSettings()
        self.concurrency = max(1, concurrency)
        self.observer = observer

    def start(self, sync_name: str, request: RunRequest) -> str:
        """Run the sync to its end; returns the run id (its outcome is in the state store)."""
        if request.single:
            summary = run_sync(self.config, self.store, sync_name, stream=request.stream,
                               full_refresh=request.full_refresh, services=self.services, observer=self.observer)
            return summary.run_id
        planned = plan_run(self.config, self.store, self.services, sync_name, request, executor=self.name)
        queue = LocalQueue()
        for task in planned.tasks:
            queue.publish(task)
        runtime = SliceRuntime(self.config, self.store, self.services, self.settings, queue, owner=local_owner)
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(self._work, runtime, queue),
                                    name=f"crmsync-slice-{n}") for n in range(self.concurrency)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            runtime.close()
        finalize.advance(self.store, queue, planned.run_id)
        return planned.run_id

    @staticmethod
    def _work(runtime: SliceRuntime, queue: LocalQueue) -> None:
        while (task := queue.take()) is not None:
            try:
                work_slice(runtime, task)
            except Exception:  # the state store failed under us: the run stays running, as a crash would
                log.exception("partition.slice_crashed", run_id=task.run_id, stream=task.stream,
                              partition=task.partition)
            finally:
                queue.done()
