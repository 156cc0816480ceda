"""The source's configuration: a pydantic model, and the Airbyte spec derived from it.

The ``system`` block is a oneOf over every installed connector type, built from each connector's
own pydantic config model, so connection settings are typed and secrets are marked
``airbyte_secret`` (from ``SecretStr``) without a second hand-written schema.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors import registry
from mappings.canonical import ENTITIES

DOCS_URL = "https://github.com/crmsync/crmsync#airbyte"
SHIPPED_SPECS = Path(__file__).resolve().parents[2] / "mappings" / "specs"
STREAM_NAMES = {
    "Account": "accounts", "Contact": "contacts", "Lead": "leads", "Opportunity": "opportunities",
    "Activity": "activities", "User": "users",
}
"""Airbyte stream name per canonical entity (snake_case plural, as warehouses expect)."""


class SourceConfig(BaseModel):
    """What ``source-crmsync`` needs: one system to read, the entities, optional findings."""

    model_config = ConfigDict(extra="ignore")

    system: dict[str, Any] = Field(description="The system to read: its connector type and connection settings.")
    system_name: str = Field("source", description="Name of the system in crmsync (used in findings and ids).")
    mappings_dir: str | None = Field(None, description="Directory of the system's mapping specs; "
                                     "default: the specs crmsync ships for the connector type.")
    entities: list[str] = Field(default_factory=lambda: list(STREAM_NAMES),
                                description="Canonical entities to offer as streams.")
    timezone: str = Field("UTC", description="Time zone of naive timestamps in the system.")
    include_findings: bool = Field(False, description="Offer the reconciliation findings stream.")
    state_url: str | None = Field(None, description="crmsync state store URL (for the findings stream).")
    reconciliation_job: str | None = Field(None, description="Reconciliation job whose findings to read.")

    @property
    def connector_type(self) -> str:
        return str(self.system.get("connector", ""))

    @property
    def connector_settings(self) -> dict[str, Any]:
        return {k: v for k, v in self.system.items() if k != "connector"}

    def specs_dir(self) -> Path:
        if self.mappings_dir:
            return Path(self.mappings_dir)
        return SHIPPED_SPECS / ("erp" if self.connector_type == "sql" else self.connector_type)


def connection_specification(connector: str | None = None) -> dict[str, Any]:
    """JSON Schema (draft-07) of SourceConfig with ``system`` as a oneOf of installed connectors.

    ``connector`` narrows the oneOf to that one connector's option: a config naming it validates
    and has the same secrets either way (the options are told apart by their ``connector`` const),
    and building the other options would import every installed connector.
    """
    schema = inline_refs(SourceConfig.model_json_schema())
    names = [connector] if connector else list(registry.available())
    schema["properties"]["system"] = {
        "title": "System", "description": "The system to read and its connection settings.", "type": "object",
        "oneOf": [_connector_option(name) for name in names], "order": 0,
    }
    schema["properties"]["entities"]["items"] = {"type": "string", "enum": list(ENTITIES)}
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["additionalProperties"] = True
    schema["required"] = ["system"]
    return schema


def _connector_option(type_name: str) -> dict[str, Any]:
    model = registry.get(type_name).config_model
    option = inline_refs(model.model_json_schema())
    option["properties"] = {"connector": {"type": "string", "const": type_name, "default": type_name},
                            **option.get("properties", {})}
    option["required"] = ["connector", *option.get("required", [])]
    option["title"] = type_name
    option.pop("additionalProperties", None)
    return mark_secrets(option)


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve ``#/$defs/...`` references in place: Airbyte's UI and destinations expect inline schemas."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                target = copy.deepcopy(defs[ref.removeprefix("#/$defs/")])
                merged = {**resolve(target), **{k: resolve(v) for k, v in node.items() if k != "$ref"}}
                return merged
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve({k: v for k, v in schema.items() if k != "$defs"})


def mark_secrets(node: Any) -> Any:
    """pydantic renders SecretStr as ``format: password, writeOnly``; Airbyte wants ``airbyte_secret``."""
    if isinstance(node, dict):
        out = {k: mark_secrets(v) for k, v in node.items()}
        if out.get("format") == "password" and out.get("writeOnly"):
            out["airbyte_secret"] = True
        if "anyOf" in out and any(isinstance(o, dict) and o.get("airbyte_secret") for o in out["anyOf"]):
            out["airbyte_secret"] = True
        return out
    if isinstance(node, list):
        return [mark_secrets(v) for v in node]
    return node
