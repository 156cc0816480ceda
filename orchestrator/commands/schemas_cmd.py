"""``crmsync schemas export [DIR]``: write the canonical JSON Schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mappings.canonical import SCHEMA_VERSION, CanonicalRegistry

app = typer.Typer(help="Canonical schemas.", no_args_is_help=True)


@app.command("export")
def export(directory: Annotated[Path, typer.Argument(help="Where to write <Entity>.json files.")] = Path("schemas")
           ) -> None:
    """Export one JSON Schema per canonical entity (schema version stamped in each)."""
    written = CanonicalRegistry().export(directory)
    typer.echo(f"wrote {len(written)} schemas (version {SCHEMA_VERSION}) to {directory}")
