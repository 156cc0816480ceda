"""``crmsync runs``: run history; ``runs show RUN`` for one run's streams; ``runs cancel RUN``."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrator.commands.state_cmd import (
    DEFAULT_CONFIG_PATH,
    ConfigOption,
    JsonOption,
    console,
    open_store,
    print_json,
    print_table,
    short_time,
)
from orchestrator.commands.worker_cmd import print_partitions
from orchestrator.state import RunRecord
from orchestrator.state.partitions import PartitionBook

app = typer.Typer(help="Run history: what ran, how it ended, and why.", invoke_without_command=True)

_STYLE = {"succeeded": "green", "partial": "yellow", "failed": "red", "cancelled": "magenta", "running": "cyan"}


def _duration(run: RunRecord) -> str:
    seconds = run.duration_s
    if seconds is None:
        return "running" if run.status == "running" else ""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _totals(run: RunRecord) -> dict[str, int]:
    totals: dict[str, int] = {}
    for stream in run.streams:
        for key, value in stream.counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals


def _reason(run: RunRecord) -> str:
    """Why a run did not succeed, in a few words: the error, or the summary's reason."""
    text = run.error or str(run.summary.get("reason") or "")
    return text.splitlines()[0][:80] if text else ""


@app.callback()
def runs(
    ctx: typer.Context,
    sync: Annotated[str | None, typer.Option(help="Only runs of this sync (or reconciliation).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
    as_json: JsonOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """List recent runs: status (partial runs say why), counts and duration."""
    if ctx.invoked_subcommand is not None:
        return
    with open_store(config) as store:
        found = store.list_runs(limit=limit, sync=sync)
    if as_json:
        print_json(found)
        return
    rows = []
    for run in found:
        totals = _totals(run)
        status = f"[{_STYLE.get(run.status, 'white')}]{run.status}[/]" + (" (cancel asked)" if run.cancel_requested
                                                                          and run.status == "running" else "")
        rows.append((run.run_id[:12], run.sync, run.kind, status, short_time(run.started_at), _duration(run),
                     totals.get("read", 0), totals.get("written", 0), totals.get("quarantined", 0), _reason(run)))
    print_table("runs", ["run", "sync", "kind", "status", "started (UTC)", "duration", "read", "written",
                         "quarantined", "reason"], rows)


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="Run id (or a unique prefix of 6+ characters).")],
    as_json: JsonOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """One run: status, per-stream counts and errors, retries, partitions, duration."""
    with open_store(config) as store:
        run = store.get_run(run_id)
        partitions = store.list_partitions(run_id=run.run_id) if run else []
        slices = PartitionBook(store).for_run(run.run_id) if run else []  # partitioned runs (crmsync submit)
    if run is None:
        typer.echo(f"crmsync: no run {run_id}", err=True)
        raise typer.Exit(1)
    if as_json:
        print_json({"run": run, "partitions": slices or partitions})
        return
    out = console()
    out.print(f"run [bold]{run.run_id}[/]  {run.kind} of [bold]{run.sync}[/]  "
              f"[{_STYLE.get(run.status, 'white')}]{run.status}[/]")
    out.print(f"started {short_time(run.started_at)} UTC, finished {short_time(run.finished_at) or '-'}, "
              f"duration {_duration(run) or '-'}")
    if run.error:
        out.print(f"[red]error:[/] {run.error}")
    for key, value in run.summary.items():
        out.print(f"  {key}: {value}")
    keys = sorted({k for s in run.streams for k in s.counts})
    print_table("streams", ["stream", "status", *keys, "error"],
                [(s.stream, s.status, *(s.counts.get(k, 0) for k in keys), s.error or "") for s in run.streams])
    if slices:
        print_partitions(slices)
    elif partitions:
        print_table("partitions", ["stream", "partition", "status", "owner", "epoch"],
                    [(p.stream, p.partition, p.status, p.owner, p.epoch) for p in partitions])


@app.command("cancel")
def cancel(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="Run id.")],
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Ask a running run to stop after its current batch (its checkpoints stay; the run ends cancelled)."""
    with open_store(config) as store:
        run = store.get_run(run_id)
        if run is None or not store.request_cancel(run.run_id):
            state = "unknown" if run is None else run.status
            typer.echo(f"crmsync: run {run_id} is not running ({state})", err=True)
            raise typer.Exit(1)
    typer.echo(f"cancel requested for {run.run_id}; it stops after its current batch")
