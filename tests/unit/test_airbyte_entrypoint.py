"""source-crmsync's entry point writes the same protocol lines as the CDK's, with less work per record."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    StreamDescriptor,
    Type,
)
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor
from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets

from orchestrator.airbyte.entrypoint import CrmsyncEntrypoint, configured_connector, message_to_string
from orchestrator.airbyte.spec import connection_specification


def record(data: dict[str, Any], stream: str = "contacts", **extra: Any) -> AirbyteMessage:
    return AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=stream, data=data,
                                                                        emitted_at=1795485165938, **extra))


def state(stream: str) -> AirbyteMessage:
    blob = AirbyteStateBlob({"cursors": {"Contact": {"value": "2024-03-01T00:00:00Z"}}, "_ab_cdc_updated_at": None})
    return AirbyteMessage(type=Type.STATE, state=AirbyteStateMessage(
        type=AirbyteStateType.STREAM,
        stream=AirbyteStreamState(stream_descriptor=StreamDescriptor(name=stream), stream_state=blob)))


@pytest.mark.parametrize("message", [
    record({"id": "003A", "first_name": None, "last_name": "Núñez ☃", "do_not_contact": False, "score": 1.5,
            "mailing_address": {"street": "Calle 1", "state": None}, "tags": ["a", None], "_ab_cdc_deleted_at": None}),
    record({"id": "003B", "_ab_cdc_deleted_at": "2024-03-01T00:00:00Z", "_ab_cdc_updated_at": "2024-03-01T00:00:00Z"}),
    record({}),
    record({"id": "x", "big": 2**70}),  # beyond orjson: the CDK's json fallback
    record({"id": "x"}, namespace="crm"),
    state("contacts"),
])
def test_each_message_is_the_line_the_cdk_writes(message: AirbyteMessage) -> None:
    assert message_to_string(message) == AirbyteEntrypoint.airbyte_message_to_string(message)


def test_record_counts_land_on_the_state_message_as_the_cdk_counts_them() -> None:
    messages = [record({"id": "1"}), record({"id": "2"}, stream="accounts"), record({"id": "3"}), state("contacts"),
                record({"id": "4"}), state("contacts"), state("accounts")]
    ours: defaultdict[HashableStreamDescriptor, float] = defaultdict(float)
    cdk: defaultdict[HashableStreamDescriptor, float] = defaultdict(float)
    counted = [CrmsyncEntrypoint.handle_record_counts(m, ours) for m in messages]
    expected = [AirbyteEntrypoint.handle_record_counts(m, cdk) for m in messages]
    assert [message_to_string(m) for m in counted] == [AirbyteEntrypoint.airbyte_message_to_string(m)
                                                       for m in expected]
    stats = [m.state.sourceStats for m in counted if m.state]
    assert [s.recordCount if s else None for s in stats] == [2.0, 1.0, 1.0]
    assert ours == cdk


def test_configured_connector_is_read_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"system": {"connector": "sql", "url": "sqlite://"}}))
    assert configured_connector(["read", "--config", str(config), "--catalog", "c.json"]) == "sql"
    assert configured_connector(["check", "--config", str(config)]) == "sql"
    assert configured_connector(["spec"]) is None
    assert configured_connector([]) is None
    assert configured_connector(["check", "--config", str(tmp_path / "missing.json")]) is None
    for text in ("not json", "[]", json.dumps({"system": {"connector": "nonesuch"}}), json.dumps({"system": 3})):
        config.write_text(text)
        assert configured_connector(["check", "--config", str(config)]) is None


def test_the_narrowed_spec_is_the_full_spec_with_one_option() -> None:
    full, narrow = connection_specification(), connection_specification("sql")
    options = {o["title"]: o for o in full["properties"]["system"]["oneOf"]}
    assert narrow["properties"]["system"]["oneOf"] == [options["sql"]]
    rest = {k: v for k, v in full["properties"].items() if k != "system"}
    assert {k: v for k, v in narrow["properties"].items() if k != "system"} == rest
    config = {"system": {"connector": "sql", "url": "postgresql://u:secret-password@db/erp"}}
    assert get_secrets(narrow, config) == get_secrets(full, config) == [config["system"]["url"]]
