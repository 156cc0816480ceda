"""``crmsync worker``, ``crmsync submit`` and ``crmsync reap``: partitioned runs on one machine or many.

``submit`` plans a run into partitions and either works them here (``--executor local``) or
publishes them to RabbitMQ (``--executor celery``) for ``crmsync worker`` processes on any host.
The executor, broker, lease TTL and time slice default to crmsync.yaml's ``executor`` section.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import SecretStr

from orchestrator.commands.state_cmd import DEFAULT_CONFIG_PATH, ConfigOption, print_table
from orchestrator.commands.sync_cmd import pick_sync
from orchestrator.config import ProjectConfig, load_config
from orchestrator.errors import ConfigError
from orchestrator.executors import ExecutionSettings, LocalExecutor, RunRequest
from orchestrator.executors.context import ProjectContext
from orchestrator.exitcodes import ExitCode
from orchestrator.state.partitions import PartitionBook
from orchestrator.state.store import StateStore

BrokerOption = Annotated[str | None, typer.Option(envvar="CRMSYNC_BROKER_URL", show_default=False,
                                                  help="RabbitMQ URL (default: executor.broker_url).")]
QueueOption = Annotated[str, typer.Option(help="Queue of sync partition slices.")]
SliceOption = Annotated[float | None, typer.Option(help="Seconds of batches per delivery "
                                                       "(default: executor.time_slice_s).")]
TtlOption = Annotated[float | None, typer.Option(help="Lease TTL in seconds (default: executor.lease_ttl_s).")]
AttemptsOption = Annotated[int, typer.Option(min=1, help="Deliveries of one slice before the partition fails.")]
GraceOption = Annotated[float, typer.Option(help="Reaper: a queued partition not taken for this long, "
                                                 "with the queue empty, is published again.")]
_EXIT = {"succeeded": ExitCode.OK, "partial": ExitCode.PARTIAL, "cancelled": ExitCode.PARTIAL,
         "failed": ExitCode.FAILED}


def execution(project: ProjectConfig, slice_seconds: float | None, lease_ttl: float | None, max_attempts: int,
              queued_grace: float) -> ExecutionSettings:
    cfg = project.executor
    return ExecutionSettings(slice_seconds=slice_seconds or cfg.time_slice_s, lease_ttl_s=lease_ttl or cfg.lease_ttl_s,
                             max_attempts=max_attempts, queued_grace_s=queued_grace,
                             progress_every_s=cfg.progress_every_s)


def celery_backend(project: ProjectConfig, settings: ExecutionSettings, broker_url: str | None, queue: str) -> Any:
    """The Celery app for this project (imports celery: only the celery executor needs it)."""
    url = broker_url or project.executor.broker_url
    if not url:
        raise ConfigError("the celery executor needs a broker: set executor.broker_url or --broker-url",
                          key="executor.broker_url")
    try:
        from orchestrator.executors.celery.app import make_app
        from orchestrator.executors.celery.settings import CelerySettings
    except ImportError as exc:
        raise ConfigError("the celery executor needs Celery: pip install 'crmsync[celery]'", key="executor.type"
                          ) from exc
    return make_app(CelerySettings(broker_url=SecretStr(url), queue=queue, recon_queue=f"{queue}.recon"),
                    ProjectContext(project, settings))


def worker(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, help="Pool processes.")] = 2,
    broker_url: BrokerOption = None,
    queue: QueueOption = "crmsync.sync",
    slice_seconds: SliceOption = None,
    lease_ttl: TtlOption = None,
    max_attempts: AttemptsOption = 5,
    reap_every: Annotated[float, typer.Option(help="Seconds between reaper passes (0: no reaper here).")] = 60.0,
    queued_grace: GraceOption = 600.0,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Run a worker: take partition slices from RabbitMQ and sync them (Celery prefork pool)."""
    project = load_config(config)
    settings = execution(project, slice_seconds, lease_ttl, max_attempts, queued_grace)
    backend = celery_backend(project, settings, broker_url, queue)
    from orchestrator.executors.celery.worker import run_worker

    raise typer.Exit(run_worker(backend, concurrency=concurrency, reap_every_s=reap_every or None))


def submit(
    name: Annotated[str | None, typer.Argument(help="The sync (optional when only one is defined).")] = None,
    executor: Annotated[str | None, typer.Option(help="local or celery (default: executor.type).")] = None,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per stream.")] = 1,
    by: Annotated[str, typer.Option(help="Cut streams by primary key (key) or cursor time windows (time).")] = "key",
    split_points: Annotated[str | None, typer.Option(help="Explicit key boundaries, comma-separated.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Time windows: start here when a stream has no cursor.")
                     ] = None,
    stream: Annotated[str | None, typer.Option(help="Only this stream (canonical entity).")] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Forget cursors and read everything.")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Celery: wait until the run ends.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a celery run (0: forever).")] = 0.0,
    threads: Annotated[int, typer.Option(min=1, help="Local: threads working partitions.")] = 2,
    broker_url: BrokerOption = None,
    queue: QueueOption = "crmsync.sync",
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Plan a sync run into partitions and run it here (local) or on workers (celery)."""
    project = load_config(config)
    sync_name = pick_sync(project, name)
    if by not in ("key", "time"):
        raise typer.BadParameter("must be key or time", param_hint="--by")
    points = tuple(p.strip() for p in (split_points or "").split(",") if p.strip())
    request = RunRequest(partitions=max(partitions, len(points) + 1 if points else 1),
                         by="time" if by == "time" else "key", split_points=points, since=since, stream=stream,
                         full_refresh=full_refresh)
    settings = execution(project, None, None, 5, 600.0)
    kind = executor or project.executor.type
    with project.open_state() as store:
        if kind == "local":
            run_id = LocalExecutor(project, store, settings=settings, concurrency=threads).start(sync_name, request)
        elif kind == "celery":
            run_id = _submit_celery(project, store, settings, sync_name, request, broker_url, queue)
            typer.echo(f"run {run_id} submitted")
            if not wait:
                return
            _wait(store, run_id, timeout)
        else:
            raise typer.BadParameter("must be local or celery", param_hint="--executor")
        raise typer.Exit(show_run(store, run_id))


def _submit_celery(project: ProjectConfig, store: StateStore, settings: ExecutionSettings, sync_name: str,
                   request: RunRequest, broker_url: str | None, queue: str) -> str:
    from orchestrator.executors.planner import plan_run
    from orchestrator.runner.services import Services

    backend = celery_backend(project, settings, broker_url, queue)
    backend.publisher.declare()  # before planning: a broker that is down fails the submit, not the run
    planned = plan_run(project, store, Services(project), sync_name, request, executor="celery")
    for task in planned.tasks:
        backend.publisher.publish(task)
    return planned.run_id


def _wait(store: StateStore, run_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout if timeout else None
    while (run := store.get_run(run_id)) is not None and run.status == "running":
        if deadline is not None and time.monotonic() > deadline:
            typer.echo(f"run {run_id} still running after {timeout:g}s", err=True)
            raise typer.Exit(int(ExitCode.PARTIAL))
        time.sleep(1.0)


def show_run(store: StateStore, run_id: str) -> int:
    """Print the run's partitions and status; the exit code for its status."""
    run = store.get_run(run_id)
    if run is None:
        return int(ExitCode.FAILED)
    rows = PartitionBook(store).for_run(run_id)
    if rows:
        print_partitions(rows)
    typer.echo(f"run {run.run_id} of {run.sync}: {run.status}" + (f" ({run.error})" if run.error else ""))
    return int(_EXIT.get(run.status, ExitCode.FAILED))


def print_partitions(rows: list[Any]) -> None:
    """The partitions table of ``crmsync runs show`` and ``crmsync submit``."""
    print_table("partitions", ["stream", "partition", "range", "status", "slice", "attempts", "worker",
                               "taken over from", "recovered by", "read", "written", "quarantined", "error"],
                [(r.stream, r.partition, _range(r.bounds), r.status, r.slice, r.attempts, r.worker or "",
                  r.taken_over_from or "", r.recovered_by or "", r.counts.get("read", 0), r.counts.get("written", 0),
                  r.counts.get("quarantined", 0), (r.error or "")[:60]) for r in rows])


def _range(bounds: dict[str, Any] | None) -> str:
    if not bounds:
        return "all"
    start, end = bounds.get("start"), bounds.get("end")
    return f"[{'' if start is None else start}, {'' if end is None else end})"


def reap(
    broker_url: BrokerOption = None,
    queue: QueueOption = "crmsync.sync",
    every: Annotated[float, typer.Option(help="Repeat every this many seconds (0: one pass).")] = 0.0,
    lease_ttl: TtlOption = None,
    queued_grace: GraceOption = 600.0,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Re-publish partitions whose message was lost (workers do this too; this is for cron or a sidecar)."""
    from orchestrator.executors.reaper import reap as reap_pass

    project = load_config(config)
    settings = execution(project, None, lease_ttl, 5, queued_grace)
    backend = celery_backend(project, settings, broker_url, queue)
    while True:
        with project.open_state() as store:
            reaped = reap_pass(store, backend.publisher, settings)
        typer.echo(f"re-published {len(reaped)} partition(s)")
        if not every:
            return
        time.sleep(every)
