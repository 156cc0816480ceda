"""``crmsync quarantine``: records that could not be read, mapped or written, grouped by why.

``list --by-reason`` answers "what is wrong most often" (invalid_email on email: 212);
``show ID`` gives one record's reasons, and its payload only when asked (personal data);
``discard ID...`` closes records nobody will fix. ``retry`` is added by the sync runner below.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from orchestrator.commands.state_cmd import (
    DEFAULT_CONFIG_PATH,
    ConfigOption,
    JsonOption,
    console,
    open_store,
    print_json,
    print_table,
    short_time,
    to_jsonable,
)
from orchestrator.logging import MASK
from orchestrator.state.types import QUARANTINE_STATUSES

app = typer.Typer(help="Quarantined records and why they were rejected.", no_args_is_help=True)

StatusOption = Annotated[str, typer.Option(help=f"One of {', '.join(QUARANTINE_STATUSES)}, or all.")]


def _status(value: str) -> str | None:
    if value == "all":
        return None
    if value not in QUARANTINE_STATUSES:
        raise typer.BadParameter(f"must be one of {', '.join(QUARANTINE_STATUSES)} or all", param_hint="--status")
    return value


def masked(payload: Any) -> Any:
    """The payload's shape with every value hidden: field names help, values are personal data."""
    if isinstance(payload, dict):
        return {k: masked(v) for k, v in payload.items()}
    if isinstance(payload, list):
        return [masked(v) for v in payload]
    return None if payload is None else MASK


@app.command("list")
def list_(
    sync: Annotated[str | None, typer.Option(help="Only this sync.")] = None,
    by_reason: Annotated[bool, typer.Option("--by-reason", help="Counts per reason code and field.")] = False,
    status: StatusOption = "open",
    limit: Annotated[int, typer.Option(min=1, help="Records to list (without --by-reason).")] = 100,
    as_json: JsonOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Quarantined records, newest first, or grouped by reason code and field."""
    with open_store(config) as store:
        if by_reason:
            groups = store.list_quarantine(sync, _status(status), group_by_reason=True)
            if as_json:
                print_json(groups)
            else:
                print_table(f"quarantine by reason ({status})", ["reason", "field", "records"],
                            [(g.code, g.field, g.count) for g in groups])
            return
        records = store.list_quarantine(sync, _status(status), limit=limit)
    if as_json:
        print_json(records)
        return
    print_table(f"quarantine ({status})", ["id", "sync", "stream", "system.object", "key", "stage", "reasons",
                                           "attempts", "status", "updated (UTC)"],
                [(r.id, r.sync, r.stream, f"{r.system}.{r.object}", r.native_key, r.stage,
                  ", ".join(f"{x.code} on {x.field}" for x in r.reasons), r.attempts, r.status,
                  short_time(r.updated_at)) for r in records])


@app.command("show")
def show(
    id: Annotated[int, typer.Argument(metavar="ID", help="Quarantine record id.")],
    show_payload: Annotated[bool, typer.Option("--show-payload", help="Show the record's values "
                                               "(personal data).")] = False,
    as_json: JsonOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """One quarantined record: where it came from and every reason; values masked unless --show-payload."""
    with open_store(config) as store:
        record = store.get_quarantine(id)
    if record is None:
        typer.echo(f"crmsync: no quarantine record {id}", err=True)
        raise typer.Exit(1)
    payload = record.payload if show_payload else masked(record.payload)
    if as_json:
        print_json({**to_jsonable(record), "payload": payload})
        return
    out = console()
    out.print(f"quarantine [bold]{record.id}[/]  {record.status}  stage {record.stage}  attempts {record.attempts}")
    out.print(f"sync {record.sync}, stream {record.stream}, {record.system}.{record.object} key {record.native_key}")
    out.print(f"run {record.run_id or '-'}, first {short_time(record.created_at)}, "
              f"last {short_time(record.updated_at)} UTC")
    print_table("reasons", ["code", "field", "detail"], [(r.code, r.field, r.detail) for r in record.reasons])
    if payload is not None:
        print_table("payload" + ("" if show_payload else " (masked; --show-payload to see values)"),
                    ["field", "value"], [(k, v) for k, v in payload.items()])


@app.command("discard")
def discard(
    ids: Annotated[list[int], typer.Argument(metavar="ID...", help="Quarantine record ids.")],
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Close records nobody will fix; purge deletes them once past the retention."""
    with open_store(config) as store:
        changed = store.mark_quarantine(ids, "discarded")
    typer.echo(f"discarded {changed} record(s)")
    if changed < len(set(ids)):
        typer.echo(f"crmsync: {len(set(ids)) - changed} id(s) not found", err=True)
        raise typer.Exit(1)


# --- quarantine retry ------------------------------------------------------------------------------
# Owned by the sync runner (orchestrator/runner): it adds `@app.command("retry")` here, re-running
# records through mapping and write via StateStore.iter_quarantine / bump_attempts / mark_quarantine.


@app.command("retry")
def retry(
    ids: Annotated[list[int] | None, typer.Argument(metavar="[ID...]", help="Quarantine record ids.")] = None,
    sync: Annotated[str | None, typer.Option(help="Only this sync's records.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only records with this reason code.")] = None,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Re-run kept records through the current mapping and the target write; landed ones are resolved."""
    from orchestrator.config import load_config
    from orchestrator.runner.quarantine_retry import retry_quarantine

    project = load_config(config)
    with project.open_state() as store:
        report = retry_quarantine(project, store, ids=ids or None, sync=sync, reason=reason)
    typer.echo(f"resolved {len(report.resolved)}, still failing {len(report.failed)}, "
               f"not retryable (read stage) {len(report.skipped)}")
    raise typer.Exit(3 if report.failed else 0)
