"""``crmsync init [PATH]``: write a commented starter crmsync.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
