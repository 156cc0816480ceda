"""``crmsync sync [NAME]``: run a sync once, with a progress bar on a terminal and a summary on stdout.

Exit codes tell a scheduler what happened: 0 everything synced, 3 partial (a stream failed, the
API budget stopped reading, or a cancel), 1 failed, 2 configuration or credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.commands.state_cmd import DEFAULT_CONFIG_PATH, ConfigOption, console, print_table
from orchestrator.config import ProjectConfig, load_config
from orchestrator.errors import ConfigError
from orchestrator.metrics import SyncMetrics
from orchestrator.progress import SyncProgress
from orchestrator.runner import RunSummary, run_sync
from orchestrator.runner.observe import Fanout, MetricsObserver

PREVIEW_ROWS = 20


def pick_sync(config: ProjectConfig, name: str | None) -> str:
    """The named sync, or the only one the project defines."""
    if name is not None:
        config.sync(name)
        return name
    if len(config.syncs) == 1:
        return next(iter(config.syncs))
    known = ", ".join(sorted(config.syncs)) or "none defined"
    raise ConfigError(f"name the sync to run (defined: {known})", key="syncs")


def sync(
    name: Annotated[str | None, typer.Argument(help="The sync to run (optional when only one is defined).")] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Forget cursors and read everything.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and map, show what would be written, "
                                                            "write nothing and commit no cursor.")] = False,
    stream: Annotated[str | None, typer.Option(help="Only this stream (canonical entity).")] = None,
    ids: Annotated[str | None, typer.Option(help="Only these records: source native ids or canonical ids, "
                                                 "comma-separated.")] = None,
    metrics_file: Annotated[Path | None, typer.Option(help="Write Prometheus metrics here (textfile collector).")
                            ] = None,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Run a sync: read changes, map them, write them, checkpoint each batch."""
    project = load_config(config)
    sync_name = pick_sync(project, name)
    metrics = SyncMetrics()
    chosen = tuple(i.strip() for i in (ids or "").split(",") if i.strip())
    with project.open_state() as store, SyncProgress() as progress:
        summary = run_sync(project, store, sync_name, stream=stream, dry_run=dry_run, full_refresh=full_refresh,
                           ids=chosen, observer=Fanout([progress, MetricsObserver(metrics)]))
    metrics.finish_run(sync_name, "success" if summary.status == "succeeded" else summary.status, summary.seconds)
    if metrics_file is not None:
        metrics.write(metrics_file)
    show_summary(summary)
    raise typer.Exit(int(summary.exit_code))


def show_summary(summary: RunSummary) -> None:
    title = f"{'dry run' if summary.dry_run else 'run ' + summary.run_id[:12]} of {summary.sync}: {summary.status}"
    columns = ["stream", "status", "read", "written", "quarantined", "deleted", "conflicts", "reason"]
    if summary.dry_run:
        columns = ["stream", "status", "read", "would create", "would update", "would delete", "quarantined",
                   "reason"]
    rows = []
    for s in summary.streams:
        c = s.counts
        counts = ([c.get("read", 0), c.get("would_create", 0), c.get("would_update", 0), c.get("would_delete", 0),
                   c.get("quarantined", 0)] if summary.dry_run else
                  [c.get("read", 0), c.get("written", 0), c.get("quarantined", 0), c.get("deleted", 0),
                   c.get("conflicts", 0)])
        rows.append([s.stream, s.status, *counts, s.reason])
    print_table(title, columns, rows)
    if summary.conflicts:
        print_table("conflicts", ["entity", "canonical id", "source key", "fields", "outcome"],
                    [[c["entity"], c["canonical_id"], c["source_key"], ", ".join(c["fields"]), c["outcome"]]
                     for c in summary.conflicts])
    if summary.dry_run:
        _preview(summary)


def _preview(summary: RunSummary) -> None:
    """What would be written (the operator asked to see it: shown here, never logged)."""
    for s in summary.streams:
        for item in s.preview[:PREVIEW_ROWS]:
            record: dict[str, Any] = item["record"]
            console().print(f"{s.stream} {item['action']} {item['target_key'] or '(new)'} "
                            f"<- {item['source_key']}: {record}")
        if len(s.preview) > PREVIEW_ROWS:
            console().print(f"{s.stream}: ... and {len(s.preview) - PREVIEW_ROWS} more")
