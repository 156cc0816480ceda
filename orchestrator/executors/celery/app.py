"""The Celery app: queues, the ``crmsync.sync_partition`` and ``crmsync.reap`` tasks, the publisher.

Built by ``make_app`` (no module-level app, nothing registered at import). A worker process builds
its ``SliceRuntime`` (config, state store, connectors) lazily after the fork, so no database
connection is ever shared between processes.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from celery import Celery, Task
from kombu import Exchange, Queue

from orchestrator.executors.base import ExecutionSettings, Publisher, SliceTask
from orchestrator.executors.celery.settings import CelerySettings, celery_config
from orchestrator.executors.reaper import reap
from orchestrator.executors.slices import SliceRuntime, work_slice
from orchestrator.state.store import StateStore

log = structlog.get_logger(__name__)
SYNC_TASK = "crmsync.sync_partition"
REAP_TASK = "crmsync.reap"


class WorkerContext(Protocol):
    """Opens the project's state store and builds slice runtimes (``ProjectContext`` in production)."""

    @property
    def execution(self) -> ExecutionSettings: ...

    def open_store(self) -> StateStore: ...

    def runtime(self, publisher: Publisher) -> SliceRuntime: ...


def queues(settings: CelerySettings) -> list[Queue]:
    """The work queues: quorum, a delivery limit, and a dead-letter queue for messages past it."""
    exchange = Exchange(settings.exchange, type="topic", durable=True)
    arguments = {"x-queue-type": "quorum", "x-delivery-limit": settings.delivery_limit,
                 "x-dead-letter-exchange": f"{settings.exchange}.dead",
                 "x-dead-letter-routing-key": settings.dead_letter_queue}
    return [Queue(name, exchange, routing_key=name, durable=True, queue_arguments=arguments)
            for name in (settings.queue, settings.recon_queue)]


def dead_letter_queue(settings: CelerySettings) -> Queue:
    exchange = Exchange(f"{settings.exchange}.dead", type="direct", durable=True)
    return Queue(settings.dead_letter_queue, exchange, routing_key=settings.dead_letter_queue, durable=True,
                 queue_arguments={"x-queue-type": "quorum"})


class CeleryPublisher:
    """Publishes slices to the sync queue with publisher confirms; tells the reaper if the queue is empty."""

    def __init__(self, app: Celery, settings: CelerySettings) -> None:
        self.app, self.settings = app, settings
        self.queue = queues(settings)[0]
        self._declared = False

    def declare(self) -> None:
        """Declare exchanges, queues and bindings, so nothing published before a worker starts is dropped."""
        with self.app.connection_for_write() as conn:
            channel = conn.default_channel
            for queue in [*queues(self.settings), dead_letter_queue(self.settings)]:
                queue.bind(channel).declare()
        self._declared = True

    def publish(self, task: SliceTask, countdown: float | None = None) -> None:
        if not self._declared:
            self.declare()
        self.app.send_task(SYNC_TASK, kwargs=task.as_kwargs(), task_id=task.task_id, queue=self.queue,
                           countdown=int(round(countdown)) if countdown else None)

    def queue_is_empty(self) -> bool | None:
        try:
            with self.app.connection_for_read() as conn:
                _, ready, _ = conn.default_channel.queue_declare(queue=self.settings.queue, passive=True)
        except Exception:  # the broker cannot tell right now: the reaper then leaves queued partitions alone
            log.warning("reaper.queue_depth_unknown", queue=self.settings.queue)
            return None
        return int(ready) == 0


class RuntimeHolder:
    """One ``SliceRuntime`` per process, built on first use after the fork (never inherited)."""

    def __init__(self, context: WorkerContext, publisher: CeleryPublisher) -> None:
        self.context, self.publisher = context, publisher
        self._runtime: SliceRuntime | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def get(self) -> SliceRuntime:
        with self._lock:
            if self._runtime is None or self._pid != os.getpid():
                self._runtime = self.context.runtime(self.publisher)
                self._pid = os.getpid()
            return self._runtime

    def close(self) -> None:
        with self._lock:
            runtime, self._runtime = self._runtime, None
        if runtime is not None and self._pid == os.getpid():
            runtime.close()
            runtime.store.close()


@dataclass(frozen=True, slots=True)
class CeleryBackend:
    """The app with what its worker and its planner need next to it."""

    app: Celery
    settings: CelerySettings
    context: WorkerContext
    publisher: CeleryPublisher
    holder: RuntimeHolder


def make_app(settings: CelerySettings, context: WorkerContext) -> CeleryBackend:
    """A Celery app with crmsync's settings and tasks; ``context`` builds each process's runtime."""
    app = Celery("crmsync", set_as_current=False)
    app.conf.update(celery_config(settings, context.execution))
    app.conf.task_queues = queues(settings)
    publisher = CeleryPublisher(app, settings)
    holder = RuntimeHolder(context, publisher)

    @app.task(name=SYNC_TASK, bind=True)
    def sync_partition(self: Task, **kwargs: Any) -> str:
        task = SliceTask.from_kwargs(kwargs)
        return work_slice(holder.get(), task)

    @app.task(name=REAP_TASK)
    def reap_task() -> int:
        """For celery beat users: one reaper pass (workers also reap on their own timer)."""
        return len(reap(holder.get().store, publisher, context.execution))

    del sync_partition, reap_task  # registered on the app; referenced by name
    return CeleryBackend(app, settings, context, publisher, holder)
