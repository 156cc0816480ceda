"""``crmsync heal JOB --plan | --apply | --undo RUN``: fix what reconciliation found, under rules.

``--plan`` reconciles, turns findings and the survivorship rules into a plan of writes, saves it and
shows it; ``--apply`` carries out the latest saved plan (or ``--plan --apply``: plan, then apply
at once) through the sync runner's write path, journalling every change; ``--undo RUN`` puts back
what that heal run changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from orchestrator.commands.reconcile_cmd import PersonalOption, SettingsOption
from orchestrator.commands.state_cmd import DEFAULT_CONFIG_PATH, ConfigOption
from orchestrator.config import load_config
from orchestrator.errors import ConfigError
from orchestrator.exitcodes import ExitCode
from orchestrator.heal import plan as plans
from orchestrator.heal.apply import ApplyReport, apply_plan
from orchestrator.heal.planner import Planner
from orchestrator.heal.survivorship import Rules
from orchestrator.heal.undo import undo_run
from orchestrator.reconcile.run import JobSettings, load_settings, open_sides, run_job
from orchestrator.reports.masking import is_personal, mask_value

SHOWN = 40


def heal(
    job: Annotated[str, typer.Argument(help="The reconciliation job whose findings to heal.")],
    plan: Annotated[bool, typer.Option("--plan", help="Reconcile and save a plan of fixes; change nothing.")
                    ] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Carry out the saved plan (with --plan: the new one).")
                     ] = False,
    undo: Annotated[str | None, typer.Option("--undo", metavar="RUN", help="Put back what heal run RUN changed.")
                    ] = None,
    plan_id: Annotated[str | None, typer.Option(help="Apply this saved plan instead of the latest.")] = None,
    settings: SettingsOption = None,
    show_personal_data: PersonalOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Plan fixes for reconciliation findings, apply them through the sync write path, or undo a heal run."""
    if not (plan or apply or undo):
        raise ConfigError("say what to do: --plan, --apply or --undo RUN", key="heal")
    project = load_config(config)
    chosen = load_settings(project, job, settings)
    console = Console()
    with project.open_state() as store:
        if undo:
            report = _undo(project, store, job, chosen, undo)
            _print_report(console, "undo", report)
            raise typer.Exit(int(ExitCode.OK if not report.failed else ExitCode.PARTIAL))
        saved = _plan(project, store, job, chosen, console, show_personal_data) if plan else None
        if apply:
            current = saved or plans.load(store, job, plan_id)
            if current is None:
                raise ConfigError(f"no saved plan for {job}: run `crmsync heal {job} --plan` first", key="heal")
            report = _apply(project, store, job, chosen, current)
            _print_report(console, "heal", report)
            raise typer.Exit(int(ExitCode.OK if not report.failed else ExitCode.PARTIAL))


def _plan(project: Any, store: Any, job: str, settings: JobSettings, console: Console,
          show_personal: bool) -> plans.Plan:
    cfg = project.reconciliation(job)
    with open_sides(project, job, settings.reconcile) as sides:
        planner = Planner(sides.by_name(), Rules.from_config(cfg.survivorship), settings.heal)
        outcome = run_job(project, store, job, settings=settings, observer=planner, identities=planner.identities,
                          show_personal=show_personal)
    made = plans.Plan(job, datetime.now(UTC), planner.items, outcome.result.run_id)
    plans.save(store, made)
    path = Path(outcome.json_report or ".").with_name(f"{job}-plan-{made.plan_id[:12]}.json")
    path.write_bytes(orjson.dumps(_masked(made.to_json(), show_personal), option=orjson.OPT_INDENT_2))
    _print_plan(console, made, show_personal)
    console.print(f"plan {made.plan_id} saved ({path}); apply it with: crmsync heal {job} --apply")
    return made


def _apply(project: Any, store: Any, job: str, settings: JobSettings, current: plans.Plan) -> ApplyReport:
    run_id = store.start_run(f"heal:{job}", "heal", {"plan_id": current.plan_id})
    status, summary = "failed", {}
    try:
        with open_sides(project, job, settings.reconcile) as sides:
            report = apply_plan(current, store, sides.by_name(), run_id, datetime.now(UTC))
        status = report.status
        summary = {"applied": report.applied, "failed": report.failed, "manual": report.manual}
        plans.mark(store, current.plan_id, "applied" if not report.failed else "partial", run_id)
        return report
    finally:
        store.finish_run(run_id, status, summary)


def _undo(project: Any, store: Any, job: str, settings: JobSettings, heal_run: str) -> ApplyReport:
    run_id = store.start_run(f"heal:{job}", "heal-undo", {"undo": heal_run})
    status, summary = "failed", {}
    try:
        with open_sides(project, job, settings.reconcile) as sides:
            report = undo_run(store, sides.by_name(), job, heal_run, run_id, datetime.now(UTC))
        status = report.status
        summary = {"restored": report.applied, "failed": report.failed}
        return report
    finally:
        store.finish_run(run_id, status, summary)


def _masked(data: dict[str, Any], show_personal: bool) -> dict[str, Any]:
    if show_personal:
        return data
    for item in data["items"]:
        for key in ("native", "before"):
            item[key] = {k: mask_value(v) for k, v in item[key].items()}
        item["fields"] = {f: ({k: mask_value(v) for k, v in d.items()} if is_personal(item["entity"], f) else d)
                          for f, d in item["fields"].items()}
    return data


def _print_plan(console: Console, made: plans.Plan, show_personal: bool) -> None:
    summary = made.summary()
    console.print(f"[bold]Heal plan for {made.job}[/bold]: {summary['ready']} ready, {summary['manual']} for a person")
    table = Table("#", "action", "finding", "where", "fields", "rule", "status")
    for item in made.ordered()[:SHOWN]:
        shown = show_personal or not is_personal(item.entity, "")
        fields = "; ".join(f"{f}: {_show(d.get('from'), shown or not is_personal(item.entity, f))} → "
                           f"{_show(d.get('to'), shown or not is_personal(item.entity, f))}"
                           for f, d in item.fields.items())
        table.add_row(str(item.seq), item.action, item.code, f"{item.system}:{item.key or '(new)'}", fields,
                      item.rule or item.note, item.status)
    console.print(table)
    if len(made.items) > SHOWN:
        console.print(f"... and {len(made.items) - SHOWN} more (see the plan file)")


def _show(value: Any, show_personal: bool) -> str:
    return repr(value if show_personal else mask_value(value))


def _print_report(console: Console, what: str, report: ApplyReport) -> None:
    console.print(f"{what} run {report.run_id}: {report.applied} applied, {report.failed} failed, "
                  f"{report.manual} left for a person")
    for error in report.errors[:20]:
        console.print(f"  [red]{error}[/red]")
    if what == "heal":
        console.print(f"undo with: crmsync heal <job> --undo {report.run_id}")
