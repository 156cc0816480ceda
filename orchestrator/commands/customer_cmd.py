"""``crmsync customer ID``: one customer as each system sees it, side by side.

ID is the canonical id or any system's native id; the cross-reference finds every system's record,
and each is read fresh from its system and shown in canonical terms. Personal fields are shown
because an operator asked for this one customer; nothing of it is logged.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from connectors import registry
from connectors.base import KeyRange
from connectors.retry import NO_RETRY
from orchestrator.commands.state_cmd import DEFAULT_CONFIG_PATH, ConfigOption, JsonOption, print_json, print_table
from orchestrator.config import ProjectConfig, load_config
from orchestrator.errors import ConfigError
from orchestrator.runner.pipeline import safe_key
from orchestrator.runner.services import Services
from orchestrator.state.types import XrefRow


def read_one(project: ProjectConfig, services: Services, row: XrefRow) -> dict[str, Any] | str:
    """The record's canonical values read now from its system, or why it could not be read."""
    cfg = project.system(row.system)
    connector = registry.create(cfg.connector, dict(cfg.settings), NO_RETRY)
    try:
        if not connector.capabilities.ranges:
            return "this connector cannot read a single record"
        side = services.side(row.system, row.entity, connector)
        records = [r for b in connector.read(row.object, range=single_key_range(row.native_id)) for r in b.records
                   if safe_key(side.mapper, r, "") == row.native_id]
    finally:
        connector.close()
    if not records:
        return "not found (deleted?)"
    from orchestrator.runner.mapping_ctx import make_context

    good, bad = side.mapper.map_batch(records[:1], make_context(side))
    if bad:
        return "rejected by the mapping: " + "; ".join(str(r) for r in bad[0][1].reasons)
    return good[0][1].model_dump(mode="json", exclude_none=False)


def single_key_range(native_id: str) -> KeyRange:
    """A narrow key range that holds ``native_id`` (the caller keeps only the exact key).

    Whole numbers end at the next number (a text key of digits then reads only the keys it prefixes);
    an 18-character Salesforce Id ends at the next 15-character base, because its last three characters
    are a checksum and Salesforce refuses an Id whose checksum is wrong; other text ends just after itself.
    """
    if native_id.isdigit() and str(int(native_id)) == native_id:  # "007" is text: its range ends at "007\x00"
        return KeyRange(start=native_id, end=str(int(native_id) + 1))
    if len(native_id) == 18 and native_id.isascii() and native_id.isalnum():
        return KeyRange(start=native_id, end=_next_alnum(native_id[:15]))
    return KeyRange(start=native_id, end=native_id + "\x00")


_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # in code-point order


def _next_alnum(text: str) -> str:
    """The next string of the same length in alphanumeric order (``...9`` -> ``...A``, ``...z`` carries)."""
    chars = list(text)
    for at in range(len(chars) - 1, -1, -1):
        position = _ALNUM.index(chars[at])
        if position + 1 < len(_ALNUM):
            chars[at] = _ALNUM[position + 1]
            return "".join(chars)
        chars[at] = _ALNUM[0]
    return text + _ALNUM[0]  # every character was the last one: only longer strings come after


def customer(
    identifier: Annotated[str, typer.Argument(metavar="ID", help="Canonical id or any system's native id.")],
    as_json: JsonOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """Show one customer as each system sees it, side by side."""
    project = load_config(config)
    with project.open_state() as store:
        rows = store.customer_view(identifier)
    if not rows:
        raise ConfigError(f"no record known by id {identifier!r} in the cross-reference", key="ID")
    services = Services(project)
    views = {f"{r.system}.{r.object} {r.native_id}": read_one(project, services, r) for r in rows}
    if as_json:
        print_json({"canonical_id": rows[0].canonical_id, "entity": rows[0].entity, "systems": views})
        return
    problems = {k: v for k, v in views.items() if isinstance(v, str)}
    records = {k: v for k, v in views.items() if isinstance(v, dict)}
    names = sorted({f for v in records.values() for f in v})
    table = [[f, *[_cell(records[k].get(f)) for k in records]] for f in names
             if any(records[k].get(f) is not None for k in records)]
    print_table(f"{rows[0].entity} {rows[0].canonical_id}", ["field", *records], table)
    for where, why in problems.items():
        typer.echo(f"{where}: {why}")


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
