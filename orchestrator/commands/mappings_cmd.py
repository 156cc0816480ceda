"""``crmsync mappings validate [PATH]``: load mapping specs and report the first error per file."""

from __future__ import annotations

import typer

app = typer.Typer(help="Mapping specs.", no_args_is_help=True)
