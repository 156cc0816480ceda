"""``crmsync worker``: a Celery worker (prefork pool) on the crmsync queues, with a reaper on a timer.

The reaper runs in the worker's main process, on Celery's timer, every ``reap_every_s``; several
workers reaping at once is safe (each re-publish is claimed in the state store). It opens the
state store for each pass and closes it after, so no connection exists when the pool forks a
new process.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import structlog
from celery import bootsteps
from celery.signals import worker_process_shutdown

from orchestrator.executors.celery.app import CeleryBackend
from orchestrator.executors.reaper import reap

log = structlog.get_logger(__name__)


def reaper_step(backend: CeleryBackend, every_s: float) -> type[bootsteps.StartStopStep]:
    """A worker bootstep running one reaper pass every ``every_s`` seconds."""

    class Reaper(bootsteps.StartStopStep):
        requires = {"celery.worker.components:Timer"}

        def __init__(self, worker: Any, **kwargs: Any) -> None:
            super().__init__(worker, **kwargs)
            self.tref: Any = None

        def start(self, worker: Any) -> None:
            self.tref = worker.timer.call_repeatedly(every_s, self.run_pass, priority=10)

        def stop(self, worker: Any) -> None:
            if self.tref is not None:
                self.tref.cancel()

        def run_pass(self) -> None:
            try:
                store = backend.context.open_store()
                try:
                    reaped = reap(store, backend.publisher, backend.context.execution)
                finally:
                    store.close()
            except Exception:  # a failed pass is retried on the next tick; the worker goes on
                log.exception("reaper.pass_failed")
                return
            if reaped:
                log.info("reaper.pass", republished=len(reaped))

    return Reaper


def run_worker(backend: CeleryBackend, *, concurrency: int = 2, reap_every_s: float | None = 60.0,
               loglevel: str = "INFO", hostname: str | None = None) -> int:
    """Run the worker until it is stopped (SIGTERM: finish running slices; SIGQUIT: at once)."""
    backend.publisher.declare()
    if reap_every_s:
        backend.app.steps["worker"].add(reaper_step(backend, reap_every_s))

    def _close_runtime(**_: Any) -> None:
        backend.holder.close()

    worker_process_shutdown.connect(_close_runtime, weak=False)
    name = hostname or f"crmsync-{os.getpid()}@{socket.gethostname()}"
    worker = backend.app.Worker(concurrency=concurrency, pool="prefork", loglevel=loglevel, hostname=name,
                                queues=[backend.settings.queue, backend.settings.recon_queue],
                                without_gossip=True, without_mingle=True, optimization="fair", quiet=True)
    log.info("worker.started", hostname=name, concurrency=concurrency, queue=backend.settings.queue,
             reap_every_s=reap_every_s)
    worker.start()
    return int(worker.exitcode or 0)
