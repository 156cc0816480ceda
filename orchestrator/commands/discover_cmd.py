"""``crmsync discover [SYSTEM]``: the streams each system offers, with key and cursor fields."""

from __future__ import annotations

from typing import Annotated

import typer

from connectors import registry
from connectors.retry import NO_RETRY
from orchestrator.commands.state_cmd import DEFAULT_CONFIG_PATH, ConfigOption, JsonOption, print_json, print_table
from orchestrator.config import load_config


def discover(
    system: Annotated[str | None, typer.Argument(help="Only this system.")] = None,
    fields: Annotated[bool, typer.Option("--fields", help="List each stream's fields too.")] = False,
    as_json: JsonOption = False,
    config: ConfigOption = DEFAULT_CONFIG_PATH,
) -> None:
    """List what each system offers: streams, primary keys, cursor fields, deletes."""
    project = load_config(config)
    found = {}
    for name in [system] if system else sorted(project.systems):
        cfg = project.system(name)
        connector = registry.create(cfg.connector, dict(cfg.settings), NO_RETRY)
        try:
            found[name] = connector.discover()
        finally:
            connector.close()
    if as_json:
        print_json({name: [s.model_dump(mode="json") for s in specs] for name, specs in found.items()})
        return
    rows = [[name, s.name, ",".join(s.primary_key), s.cursor_field or "", "yes" if s.supports_deletes else "",
             len(s.fields)] for name, specs in found.items() for s in specs]
    print_table("streams", ["system", "stream", "key", "cursor", "deletes", "fields"], rows)
    if fields:
        for name, specs in found.items():
            for s in specs:
                print_table(f"{name}.{s.name}", ["field", "type", "nullable", "external id", "writable"],
                            [[f.name, f.type, f.nullable, f.external_id, f.writable] for f in s.fields])
