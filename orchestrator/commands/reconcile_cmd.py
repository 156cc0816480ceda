"""``crmsync reconcile JOB``: compare two systems, record findings, print a summary, write JSON and HTML.

Exit codes: 0 done (findings or not), 4 when findings pass the job's thresholds (so a scheduler can
page someone), 2 configuration, 1 failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.commands.state_cmd import DEFAULT_CONFIG_PATH, ConfigOption
from orchestrator.config import load_config
from orchestrator.exitcodes import ExitCode
from orchestrator.reconcile.rangediff import RowDiff
from orchestrator.reconcile.run import load_settings, row_diff, run_job
from orchestrator.reports import terminal

SettingsOption = Annotated[Path | None, typer.Option(
    "--settings", help="Job settings YAML (normalisers, links, duplicates, healing); "
                       "default: reconcile/<job>.yaml beside the config, if present.")]
PersonalOption = Annotated[bool, typer.Option(
    "--show-personal-data", help="Show emails, phones and names in findings unmasked (reports and summary).")]


def reconcile(
    job: Annotated[str, typer.Argument(help="The reconciliation job (crmsync.yaml: reconciliations).")],
    settings: SettingsOption = None,
    show_personal_data: PersonalOption = False,
    examples: Annotated[int, typer.Option(help="Example findings printed per type.")] = 3,
    rows: Annotated[bool, typer.Option("--row-diff", help="Mirrors only: the keys whose rows differ, by key-range "
                                                          "checksums in the databases (no mapping, no findings).")
                    ] = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Reconcile two systems: findings (new, persisting, fixed), coverage, thresholds, reports."""
    project = load_config(config)
    chosen = load_settings(project, job, settings)
    console = Console()
    if rows:
        with project.open_state() as store:
            diffs = row_diff(project, store, job, chosen)
        _print_rows(console, job, diffs)
        raise typer.Exit(int(ExitCode.OK))
    with project.open_state() as store:
        outcome = run_job(project, store, job, settings=chosen, show_personal=show_personal_data)
    terminal.render(outcome.result, console, show_personal=show_personal_data, examples=examples)
    console.print(f"reports: {outcome.json_report}  {outcome.html_report}")
    raise typer.Exit(int(ExitCode.FINDINGS if outcome.breached else ExitCode.OK))


def _print_rows(console: Console, job: str, diffs: dict[str, RowDiff]) -> None:
    table = Table("entity", "ranges", "equal ranges", "rows read", "only left", "only right", "changed", "seconds",
                  title=f"Row diff of {job}")
    for entity, d in diffs.items():
        table.add_row(entity, f"{d.ranges:,}", f"{d.equal_ranges:,}", f"{d.rows_read:,}", f"{len(d.left_only):,}",
                      f"{len(d.right_only):,}", f"{len(d.changed):,}", f"{d.seconds:.1f}")
    console.print(table if diffs else "no entity of this job is a mirror (same table shape, checksums in both)")
