"""``source-crmsync``: the Airbyte source entry point (spec, check, discover, read).

Errors follow Airbyte's split: what the user can fix (bad settings, refused credentials, missing
mappings) is a ``config_error``; everything else is a ``system_error``. Logs go through the CDK's
root logger so they become protocol LOG messages with secrets filtered.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    FailureType,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connectors import registry
from connectors.base import Connector
from connectors.errors import ConfigurationError
from connectors.retry import RetryPolicy
from mappings import MappingContext, MappingSet
from mappings.canonical import CanonicalRegistry
from orchestrator.airbyte.entrypoint import CrmsyncEntrypoint, configured_connector, launch
from orchestrator.airbyte.errors import airbyte_errors, route_structlog_to_protocol
from orchestrator.airbyte.spec import DOCS_URL, STREAM_NAMES, SourceConfig, connection_specification, inline_refs
from orchestrator.airbyte.streams import (
    DELETED_AT,
    UPDATED_AT,
    EntityStream,
    FindingsStream,
    Rejections,
    RejectionsStream,
)


class SourceCrmsync(AbstractSource):
    """Reads one system through crmsync's connectors and mappings as canonical Airbyte streams."""

    def __init__(self, connector: str | None = None) -> None:
        """``connector``: the connector type the config names, when known before the spec is asked for."""
        self._connectors: list[Connector] = []
        self._spec_connector = connector

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecification(documentationUrl=DOCS_URL,
                                      connectionSpecification=connection_specification(self._spec_connector))

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, Any]:
        with airbyte_errors():
            connector = self._connector(_config(config))
            report = connector.check()
        failed = [f"{item.name}: {item.reason}" for item in report.items if not item.ok]
        if failed:
            raise AirbyteTracedException(message="; ".join(failed), internal_message="connector check failed",
                                         failure_type=FailureType.config_error)
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        with airbyte_errors():
            return self._streams(_config(config))

    def read(self, logger: logging.Logger, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog,
             state: list[AirbyteStateMessage] | None = None) -> Iterator[AirbyteMessage]:
        try:
            yield from super().read(logger, config, catalog, state)
        finally:
            for connector in self._connectors:
                connector.close()

    def _streams(self, cfg: SourceConfig) -> list[Stream]:
        canonical = CanonicalRegistry()
        mapping_set = MappingSet.load(cfg.specs_dir(), canonical)
        connector = self._connector(cfg)
        context = MappingContext(system=cfg.system_name, timezone=cfg.timezone, on_missing_reference="keep")
        rejections = Rejections()
        streams: list[Stream] = []
        for entity in cfg.entities:
            mappers = mapping_set.mappers_for_entity(entity)
            if mappers:
                schema = entity_schema(canonical, entity)
                streams.append(EntityStream(STREAM_NAMES.get(entity, entity.lower()), schema, connector, mappers,
                                            context, rejections, cfg.timezone))
        streams.append(RejectionsStream(rejections))
        if cfg.include_findings:
            if not (cfg.state_url and cfg.reconciliation_job):
                raise ConfigurationError("include_findings needs state_url and reconciliation_job")
            streams.append(FindingsStream(cfg.state_url, cfg.reconciliation_job))
        return streams

    def _connector(self, cfg: SourceConfig) -> Connector:
        connector = registry.create(cfg.connector_type, cfg.connector_settings, RetryPolicy())
        self._connectors.append(connector)
        return connector


def entity_schema(canonical: CanonicalRegistry, entity: str) -> dict[str, Any]:
    """The canonical JSON Schema, inlined, every field nullable (tombstones carry only the id), plus CDC columns."""
    schema = inline_refs(canonical.json_schema(entity))
    properties = {name: _nullable(prop) for name, prop in schema.get("properties", {}).items()}
    properties["id"] = {"type": "string"}
    properties[DELETED_AT] = {"type": ["null", "string"], "format": "date-time"}
    properties[UPDATED_AT] = {"type": ["null", "string"], "format": "date-time"}
    schema["properties"] = properties
    schema["required"] = ["id"]
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema.pop("$id", None)
    return schema


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in prop and any(o.get("type") == "null" for o in prop["anyOf"]):
        return prop
    if isinstance(prop.get("type"), str):
        return {**prop, "type": [prop["type"], "null"]}
    return {"anyOf": [prop, {"type": "null"}], **{k: v for k, v in prop.items() if k in ("title", "description")}}


def _config(config: Mapping[str, Any]) -> SourceConfig:
    return SourceConfig.model_validate(dict(config))


def run() -> None:
    """Console script ``source-crmsync`` (the CDK's entry point with a leaner per-record path, entrypoint.py)."""
    route_structlog_to_protocol()
    args = sys.argv[1:]
    launch(CrmsyncEntrypoint(SourceCrmsync(configured_connector(args))), args)
