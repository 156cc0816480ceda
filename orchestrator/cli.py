"""The ``crmsync`` command line: one app, sub-commands in orchestrator/commands/, exit codes shared.

Errors reach the user as one sentence naming the file, line or field, with the exit code of
``orchestrator.exitcodes``; a stack trace only with ``--debug``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from orchestrator import logging as crmlog
from orchestrator.commands import (
    check_cmd,
    connectors_cmd,
    customer_cmd,
    demo_cmd,
    discover_cmd,
    heal_cmd,
    init_cmd,
    mappings_cmd,
    quarantine_cmd,
    reconcile_cmd,
    runs_cmd,
    sandbox_cmd,
    schemas_cmd,
    state_cmd,
    sync_cmd,
    worker_cmd,
)
from orchestrator.errors import exit_code_for, one_line

app = typer.Typer(
    name="crmsync",
    help="Keep a CRM and in-house systems in agreement, and show where the data disagrees.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(connectors_cmd.app, name="connectors")
app.add_typer(mappings_cmd.app, name="mappings")
app.add_typer(schemas_cmd.app, name="schemas")
app.add_typer(sandbox_cmd.app, name="sandbox")
app.command("init")(init_cmd.init)
app.add_typer(init_cmd.config_app, name="config")
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(quarantine_cmd.app, name="quarantine")
app.add_typer(state_cmd.app, name="state")
app.command("purge")(state_cmd.purge)
app.command("forget")(state_cmd.forget)
app.command("sync")(sync_cmd.sync)
app.command("check")(check_cmd.check)
app.command("discover")(discover_cmd.discover)
app.command("customer")(customer_cmd.customer)
app.command("demo")(demo_cmd.demo)
app.command("reconcile")(reconcile_cmd.reconcile)
app.command("heal")(heal_cmd.heal)
app.command("worker")(worker_cmd.worker)
app.command("submit")(worker_cmd.submit)
app.command("reap")(worker_cmd.reap)


@app.callback()
def _global(
    ctx: typer.Context,
    log_format: Annotated[str, typer.Option(help="Log format: auto (JSON unless a terminal), json, console.")] = "auto",
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    debug: Annotated[bool, typer.Option(help="Show stack traces on errors.")] = False,
) -> None:
    if log_format not in ("auto", "json", "console"):
        raise typer.BadParameter("must be auto, json or console", param_hint="--log-format")
    crmlog.configure(json=None if log_format == "auto" else log_format == "json", level=log_level)
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app and turn exceptions into exit codes."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        # Without standalone mode click *returns* a typer.Exit's code instead of raising it.
        code = app(args=argv, standalone_mode=False)
    except SystemExit as exc:  # typer.Exit and click's own exits
        return int(exc.code or 0) if isinstance(exc.code, int | None) else 1
    except Exception as exc:
        if debug:
            raise
        typer.echo(f"crmsync: {one_line(exc)}", err=True)
        return int(exit_code_for(exc))
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())
