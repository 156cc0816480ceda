"""source-crmsync speaks the Airbyte protocol: spec, check, discover and read, tested with the CDK's
own test toolkit against a demo ERP in SQLite and the Salesforce sandbox."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import FailureType, Status, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder, ConfiguredAirbyteStreamBuilder
from airbyte_cdk.test.entrypoint_wrapper import _run_command, discover, read
from airbyte_cdk.test.state_builder import StateBuilder

from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, Sandbox, SandboxConfig, SeedConfig
from connectors.testdata import Dataset, GeneratorConfig
from orchestrator.airbyte.entrypoint import CrmsyncEntrypoint, configured_connector, launch
from orchestrator.airbyte.source import SourceCrmsync

ERP_STREAM = {"updated_at": "changed_ts", "soft_delete_column": "deleted_flag", "deleted_value": "Y"}


@pytest.fixture(scope="module")
def erp_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("erp") / "erp.db"
    Dataset(GeneratorConfig(seed=11, accounts=120)).load_erp(f"sqlite:///{path}")
    return path


def erp_config(db: Path, batch_size: int = 25) -> dict[str, Any]:
    return {"system": {"connector": "sql", "url": f"sqlite:///{db}", "batch_size": batch_size,
                       "streams": {"customers": ERP_STREAM, "contacts": ERP_STREAM}},
            "system_name": "erp", "entities": ["Account", "Contact"], "timezone": "Europe/Madrid"}


def catalog(*names: str, mode: SyncMode = SyncMode.incremental) -> Any:
    builder = CatalogBuilder()
    for name in names:
        builder.with_stream(ConfiguredAirbyteStreamBuilder().with_name(name).with_sync_mode(mode))
    return builder.build()


def write_json(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_spec_is_valid_json_schema_and_marks_secrets(erp_db: Path) -> None:
    out = _run_command(SourceCrmsync(), ["spec"])
    [message] = out.spec_messages
    schema = message.spec.connectionSpecification
    jsonschema.Draft7Validator.check_schema(schema)
    options = {o["title"]: o for o in schema["properties"]["system"]["oneOf"]}
    assert {"sql", "salesforce", "memory"} <= set(options)
    assert options["sql"]["properties"]["url"]["airbyte_secret"] is True
    jsonschema.validate(erp_config(erp_db), schema)


def test_check_succeeds_on_a_reachable_system(erp_db: Path, tmp_path: Path) -> None:
    out = _run_command(SourceCrmsync(), ["check", "--config", write_json(tmp_path, "c.json", erp_config(erp_db))])
    assert [m.connectionStatus.status for m in out.connection_status_messages] == [Status.SUCCEEDED]


def test_check_fails_with_config_error_on_bad_credentials(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(seed=SeedConfig(options={"accounts": 5}))) as sandbox:
        assert sandbox.urls is not None
        config = {"system": {"connector": "salesforce", "login_url": sandbox.urls.http,
                             "ca_bundle": str(sandbox.urls.ca_path),
                             "auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                                      "client_secret": "not-the-secret-0123456789"}}}
        out = _run_command(SourceCrmsync(), ["check", "--config", write_json(tmp_path, "bad.json", config)])
    [status] = out.connection_status_messages
    assert status.connectionStatus.status == Status.FAILED
    assert "invalid client credentials" in status.connectionStatus.message
    assert {e.trace.error.failure_type for e in out.errors} == {FailureType.config_error}


def test_check_fails_with_config_error_on_unknown_connector(tmp_path: Path) -> None:
    config = {"system": {"connector": "nonesuch"}}
    out = _run_command(SourceCrmsync(), ["check", "--config", write_json(tmp_path, "x.json", config)])
    assert out.connection_status_messages[0].connectionStatus.status == Status.FAILED
    assert "nonesuch" in out.connection_status_messages[0].connectionStatus.message


def test_discover_schemas_are_valid_json_schema(erp_db: Path) -> None:
    streams = {s.name: s for s in discover(SourceCrmsync(), erp_config(erp_db)).catalog.catalog.streams}
    assert {"accounts", "contacts", "rejections"} <= set(streams)
    for name in ("accounts", "contacts"):
        stream = streams[name]
        jsonschema.Draft7Validator.check_schema(stream.json_schema)
        assert stream.source_defined_primary_key == [["id"]]
        assert stream.default_cursor_field == ["_ab_cdc_updated_at"]
        assert SyncMode.incremental in stream.supported_sync_modes
        assert {"id", "_ab_cdc_updated_at", "_ab_cdc_deleted_at"} <= set(stream.json_schema["properties"])


def test_records_validate_and_each_stream_checkpoints(erp_db: Path) -> None:
    config = erp_config(erp_db)
    out = read(SourceCrmsync(), config, catalog("accounts", "contacts", "rejections"))
    assert not out.errors
    schemas = {s.name: s.json_schema for s in discover(SourceCrmsync(), config).catalog.catalog.streams}
    by_stream: dict[str, int] = {}
    for message in out.records:
        record = message.record
        jsonschema.validate(record.data, schemas[record.stream])
        by_stream[record.stream] = by_stream.get(record.stream, 0) + 1
    rows = _erp_counts(erp_db)
    rejected: dict[str, int] = {}
    for message in out.records:
        if message.record.stream == "rejections":
            rejected[message.record.data["stream"]] = rejected.get(message.record.data["stream"], 0) + 1
    assert by_stream["accounts"] + rejected.get("accounts", 0) == rows["customers"]
    assert by_stream["contacts"] + rejected.get("contacts", 0) == rows["contacts"]
    states = {m.state.stream.stream_descriptor.name for m in out.state_messages}
    assert {"accounts", "contacts"} <= states
    assert len([m for m in out.state_messages if m.state.stream.stream_descriptor.name == "contacts"]) > 1


def test_resumed_read_returns_nothing_older_than_the_state(erp_db: Path) -> None:
    config = erp_config(erp_db)
    first = read(SourceCrmsync(), config, catalog("contacts"))
    ordered = first.records_and_state_messages
    checkpoints = [i for i, m in enumerate(ordered) if m.state is not None]
    cut = checkpoints[1]  # resume from the second checkpoint, mid-stream
    blob = ordered[cut].state.stream.stream_state.__dict__
    state = StateBuilder().with_stream_state("contacts", blob).build()
    resumed = read(SourceCrmsync(), config, catalog("contacts"), state=state)
    assert resumed.records and not resumed.errors
    stamps = [m.record.data["_ab_cdc_updated_at"] for m in resumed.records]
    assert min(stamps) >= blob["_ab_cdc_updated_at"]
    emitted_before = {m.record.data["id"] for m in ordered[:cut] if m.record is not None}
    resumed_ids = {m.record.data["id"] for m in resumed.records}
    assert emitted_before and len(resumed_ids) < len(first.records)
    assert emitted_before | resumed_ids == {m.record.data["id"] for m in first.records}


def test_full_refresh_twice_gives_the_same_records(erp_db: Path) -> None:
    config = erp_config(erp_db)
    runs = [read(SourceCrmsync(), config, catalog("accounts", mode=SyncMode.full_refresh)) for _ in range(2)]
    data = [sorted(json.dumps(m.record.data, sort_keys=True) for m in run.records) for run in runs]
    assert data[0] == data[1] and data[0]


def test_deleted_rows_carry_the_cdc_deletion_marker(tmp_path: Path) -> None:
    db = tmp_path / "erp.db"
    Dataset(GeneratorConfig(seed=5, accounts=20)).load_erp(f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        victim = conn.execute("SELECT cust_no FROM customers ORDER BY cust_no LIMIT 1").fetchone()[0]
        conn.execute("UPDATE customers SET deleted_flag = 'Y', changed_ts = '2030-01-01 00:00:00' "
                     "WHERE cust_no = ?", (victim,))
    out = read(SourceCrmsync(), erp_config(db), catalog("accounts"))
    deleted = [m.record.data for m in out.records if m.record.data.get("_ab_cdc_deleted_at")]
    assert [d["id"] for d in deleted] == [victim]


def _erp_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t} WHERE deleted_flag = 'N'").fetchone()[0]  # noqa: S608
                for t in ("customers", "contacts")}


def test_the_console_entry_point_writes_what_the_cdk_writes(erp_db: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """source-crmsync's own entry point (fast RECORD lines, chunked writes) against the CDK's, line by line."""
    config = write_json(tmp_path, "c.json", erp_config(erp_db))
    streams = [{"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": "incremental", "destination_sync_mode": "append"} for n in ("accounts", "contacts")]
    args = ["read", "--config", config, "--catalog", write_json(tmp_path, "cat.json", {"streams": streams})]
    cdk = AirbyteEntrypoint(SourceCrmsync())
    expected = list(cdk.run(cdk.parse_args(args)))
    capsys.readouterr()
    launch(CrmsyncEntrypoint(SourceCrmsync(configured_connector(args))), args)
    ours = capsys.readouterr().out.splitlines()
    assert _protocol(ours) == _protocol(expected)
    assert sum(line.startswith('{"type":"RECORD"') for line in ours) > 100


def _protocol(lines: list[str]) -> list[str]:
    """The lines without LOG messages and with the emission times blanked (they differ run to run)."""
    return [re.sub(r'"emitted_at":[0-9.]+', '"emitted_at":0', line) for line in lines
            if not line.startswith('{"type":"LOG"')]
