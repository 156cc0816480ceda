"""``run_sync``: one run of one sync on this machine (``executor=local``).

Streams run in threads, at most ``concurrency`` at once, each as soon as the streams it looks up
(its parents) are done. The run's status never hides a problem: all streams succeeded is
``succeeded``; a budget stop, a cancel or a failed stream next to good ones is ``partial``
(exit 3); nothing succeeded is ``failed`` (exit 1, or 2 when configuration or credentials are the
cause).
"""

from __future__ import annotations

import contextvars
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from orchestrator.config.models import ProjectConfig
from orchestrator.exitcodes import ExitCode
from orchestrator.runner.job import RunOptions
from orchestrator.runner.killpoints import KillSwitch
from orchestrator.runner.observe import NullObserver, RunObserver
from orchestrator.runner.order import stream_graph
from orchestrator.runner.services import Services
from orchestrator.runner.streams import StreamOutcome, run_stream, stream_objects
from orchestrator.state.store import StateStore

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class RunSummary:
    run_id: str
    sync: str
    status: str
    reason: str = ""
    dry_run: bool = False
    streams: list[StreamOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        return [c for s in self.streams for c in s.conflicts]

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.streams:
            for k, v in s.counts.items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def exit_code(self) -> ExitCode:
        if self.status == "succeeded":
            return ExitCode.OK
        if self.status == "failed":
            failed = [s for s in self.streams if s.status == "failed"]
            return ExitCode.CONFIG if failed and all(s.config_problem for s in failed) else ExitCode.FAILED
        return ExitCode.PARTIAL

    def as_dict(self) -> dict[str, Any]:
        """The run summary stored with the run (counts, reasons and conflict keys; no field values)."""
        return {"status": self.status, "reason": self.reason, "dry_run": self.dry_run, "totals": self.totals(),
                "seconds": round(self.seconds, 3),
                "streams": {s.stream: {"status": s.status, "reason": s.reason, "counts": s.counts}
                            for s in self.streams},
                "conflicts": self.conflicts[:1000]}


def run_sync(config: ProjectConfig, store: StateStore, sync_name: str, *, stream: str | None = None,
             dry_run: bool = False, full_refresh: bool = False, ids: tuple[str, ...] = (),
             observer: RunObserver | None = None, services: Services | None = None,
             kill: KillSwitch | None = None) -> RunSummary:
    """Run ``sync_name`` once and return its summary; the run is recorded in the state store."""
    sync = config.sync(sync_name)
    objects = stream_objects(sync, stream)
    services = services or Services(config)
    observer = observer or NullObserver()
    kill = kill or KillSwitch.from_env()
    started = time.perf_counter()
    params = {"stream": stream, "dry_run": dry_run, "full_refresh": full_refresh, "ids": list(ids)}
    run_id = f"dry-{uuid.uuid4().hex}" if dry_run else store.start_run(sync_name, "sync", params)
    options = RunOptions(run_id, datetime.now(UTC), dry_run, full_refresh, ids)
    with structlog.contextvars.bound_contextvars(run_id=run_id, sync=sync_name):
        log.info("run.started", streams=[o.entity for o in objects], dry_run=dry_run, full_refresh=full_refresh)
        for obj in objects:
            if not dry_run and (full_refresh or (obj.mode or sync.mode) == "full"):
                store.reset_cursor(sync_name, obj.entity)
        summary = RunSummary(run_id, sync_name, "running", dry_run=dry_run)
        summary.streams = _run_streams(config, store, services, sync_name, objects, options, observer, kill,
                                       sync.concurrency)
        summary.seconds = time.perf_counter() - started
        summary.status, summary.reason = run_status(summary.streams)
        if not dry_run:
            store.finish_run(run_id, summary.status, summary.as_dict(), summary.reason or None)
        log.info("run.finished", status=summary.status, reason=log_reason(summary.streams) or None,
                 seconds=round(summary.seconds, 3), **_log_totals(summary.totals()))
    return summary


def _run_streams(config: ProjectConfig, store: StateStore, services: Services, sync_name: str, objects: list[Any],
                 options: RunOptions, observer: RunObserver, kill: KillSwitch, concurrency: int) -> list[StreamOutcome]:
    by_name = {o.entity: o for o in objects}
    graph = stream_graph(by_name, services.references(config.sync(sync_name)))
    outcomes: dict[str, StreamOutcome] = {}
    running: dict[Future[StreamOutcome], str] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="crmsync-stream") as pool:
        while graph.is_active():
            for name in graph.get_ready():
                context = contextvars.copy_context()  # threads start with an empty context otherwise
                running[pool.submit(context.run, run_stream, config, store, services, sync_name, by_name[name],
                                    options, observer, kill)] = name
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                outcomes[name] = future.result()
                graph.done(name)
    return [outcomes[o.entity] for o in objects]


def run_status(streams: list[StreamOutcome]) -> tuple[str, str]:
    """The run's status and reason from its streams' outcomes."""
    bad = [s for s in streams if s.status != "succeeded"]
    if not bad:
        return "succeeded", ""
    reason = "; ".join(f"{s.stream}: {s.reason or s.status}" for s in bad)
    if all(s.status == "failed" for s in streams):
        return "failed", reason
    if all(s.status == "cancelled" for s in bad):
        return "cancelled", reason
    return "partial", reason


def log_reason(streams: list[StreamOutcome]) -> str:
    """The run's reason as log lines carry it: each stream's value-free reason."""
    return "; ".join(f"{s.stream}: {s.log_reason or s.status}" for s in streams if s.status != "succeeded")


def _log_totals(totals: dict[str, int]) -> dict[str, int]:
    return {k: totals.get(k, 0) for k in ("read", "written", "quarantined", "deleted", "conflicts")}
