"""``crmsync init [PATH]``: write a commented starter crmsync.yaml; ``crmsync config validate`` checks one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.config import load_config
from orchestrator.config.starter import STARTER


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the config (a directory gets crmsync.yaml).")
                    ] = Path("crmsync.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter crmsync.yaml: Salesforce (JWT bearer), a PostgreSQL ERP, one sync, one reconciliation."""
    target = path / "crmsync.yaml" if path.is_dir() else path
    if target.exists() and not force:
        typer.echo(f"crmsync: {target} exists; use --force to overwrite it", err=True)
        raise typer.Exit(2)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(STARTER, encoding="utf-8")
    typer.echo(f"wrote {target}\n"
               "next: set SF_CLIENT_ID, SF_USERNAME, SF_KEY_FILE and ERP_DB_PASSWORD, edit the file, "
               "then run `crmsync check`")


config_app = typer.Typer(help="The project config (crmsync.yaml).", no_args_is_help=True)


@config_app.command("validate")
def validate(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="CRMSYNC_CONFIG", help="Project config file.")
                      ] = Path("crmsync.yaml"),
) -> None:
    """Check the whole config without connecting anywhere: keys, types, names, secrets, connector settings."""
    project = load_config(config)
    typer.echo(f"{config} is valid: {len(project.systems)} system(s), {len(project.syncs)} sync(s), "
               f"{len(project.reconciliations)} reconciliation(s)")
