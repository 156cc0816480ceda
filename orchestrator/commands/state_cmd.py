"""Operator controls on the state store: ``crmsync state ...``, ``crmsync purge``, ``crmsync forget``.

Also the helpers the other state commands share: the ``--config`` option, opening the store from
the config's ``state`` section only (ops need no CRM credentials for this), and table/JSON output.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.config import DEFAULT_CONFIG, load_config
from orchestrator.state import StateStore

ConfigOption = Annotated[Path, typer.Option("--config", "-c", envvar="CRMSYNC_CONFIG",
                                            help="Project config file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of a table.")]
DEFAULT_CONFIG_PATH = Path(DEFAULT_CONFIG)

app = typer.Typer(help="Operator controls on checkpoints and leases.", no_args_is_help=True)


def open_store(config: Path) -> StateStore:
    """The project's state store, reading only the config's ``state`` section."""
    return load_config(config, sections={"state"}).open_state()


def retention_days(config: Path) -> int:
    return load_config(config, sections={"state"}).state.retention_days


def to_jsonable(value: Any) -> Any:
    """Dataclasses, datetimes and enums as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    typer.echo(json.dumps(to_jsonable(value), indent=2, sort_keys=False, default=str))


def console() -> Console:
    # Wide enough for ids when piped to a file; rich picks the terminal's width otherwise.
    return Console(width=None if os.isatty(1) else 200)


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console().print(table)


def short_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


@app.command("reset-cursor")
def reset_cursor(
    sync: Annotated[str, typer.Argument(help="The sync whose cursors to forget.")],
    stream: Annotated[str | None, typer.Option(help="Only this stream.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Even while a worker holds a live lease.")] = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Forget a sync's cursors: its next run reads everything again (upserts make that harmless)."""
    with open_store(config) as store:
        live = [p for p in store.list_leases(sync, live_only=True) if stream in (None, p.stream)]
        if live and not force:
            held = ", ".join(f"{p.stream}/{p.partition} by {p.owner}" for p in live)
            typer.echo(f"crmsync: {sync} is running ({held}); stop it first or use --force", err=True)
            raise typer.Exit(1)
        removed = store.reset_cursor(sync, stream)
    typer.echo(f"reset {removed} cursor(s) of {sync}" + (f"/{stream}" if stream else ""))


@app.command("release-lease")
def release_lease(
    sync: Annotated[str, typer.Argument(help="Sync name.")],
    stream: Annotated[str, typer.Argument(help="Stream name.")],
    partition: Annotated[str, typer.Option(help="Partition.")] = "0",
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Free a lease left by a dead worker; its epoch is bumped, so that worker can no longer write."""
    with open_store(config) as store:
        if not store.force_release(sync, stream, partition):
            typer.echo(f"crmsync: no lease for {sync}/{stream}/{partition}", err=True)
            raise typer.Exit(1)
    typer.echo(f"released {sync}/{stream}/{partition}")


@app.command("leases")
def leases(
    sync: Annotated[str | None, typer.Option(help="Only this sync.")] = None,
    live: Annotated[bool, typer.Option("--live", help="Only leases held right now.")] = False,
    as_json: JsonOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Partitions with their status, lease holder, epoch and expiry."""
    with open_store(config) as store:
        rows = store.list_leases(sync, live_only=live)
    if as_json:
        print_json(rows)
        return
    print_table("leases", ["sync", "stream", "partition", "status", "owner", "epoch", "expires"],
                [(p.sync, p.stream, p.partition, p.status, p.owner, p.epoch, short_time(p.expires_at)) for p in rows])


def purge(
    older_than: Annotated[int | None, typer.Option("--older-than", metavar="DAYS",
                                                   help="Retention in days (default: state.retention_days).")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Delete closed quarantine records and resolved findings older than the retention (personal data)."""
    days = retention_days(config) if older_than is None else older_than
    with open_store(config) as store:
        counts = store.purge(days)
    if as_json:
        print_json({"older_than_days": days, **counts})
        return
    typer.echo(f"purged {counts['quarantine']} quarantine record(s) and {counts['findings']} finding(s) "
               f"closed more than {days} days ago")


def forget(
    identifier: Annotated[str, typer.Argument(help="A canonical id, any system's native id, or an email.")],
    as_json: JsonOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Erase one person's data from the state store (quarantine, finding values, ID cross-reference).

    The systems themselves are not touched: erase the person there too.
    """
    with open_store(config) as store:
        result = store.forget(identifier)
    if as_json:
        print_json({"canonical_ids": list(result.canonical_ids), **result.as_dict()})
        return
    counts = result.as_dict()
    if not any(counts.values()):
        typer.echo("nothing found for that identifier")
        return
    typer.echo("erased: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
