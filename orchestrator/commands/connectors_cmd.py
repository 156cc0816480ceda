"""``crmsync connectors list``: the connector types installed, built-in or from other packages."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from connectors import registry

app = typer.Typer(help="Connector types installed in this environment.", no_args_is_help=True)


@app.command("list")
def list_connectors() -> None:
    """List connector types registered through the crmsync.connectors entry points."""
    table = Table("type", "class", "package")
    for name, item in registry.available().items():
        table.add_row(name, item.target, item.distribution or "?")
    Console().print(table)
