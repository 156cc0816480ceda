"""JSON Lines reading: broken lines become record errors naming their line; values keep JSON types."""

from __future__ import annotations

from pathlib import Path

from connectors.files import JsonlConfig, JsonlConnector
from connectors.retry import NO_RETRY


def connector(tmp_path: Path, **options: object) -> JsonlConnector:
    return JsonlConnector(JsonlConfig(base_dir=str(tmp_path), streams={
        "events": {"path": "events.jsonl", "primary_key": ["id"]}}, **options), NO_RETRY)


def test_broken_lines_are_errors_with_their_line_and_the_rest_flows(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_bytes(
        b'{"id": 1, "tags": ["a"], "amount": 1.5, "ok": true}\n'
        b"\n"
        b'{"id": 2, "name": \n'
        b"[1, 2]\n"
        b'{"id": 3, "name": "\xff"}\n'
        b'{"id": 4, "nested": {"k": null}}\n'
        + b'{"id": 5, "blob": "' + b"x" * 3000 + b'"}\n'
        + b'{"id": 6}')
    batches = list(connector(tmp_path, max_record_bytes=2048).read("events"))
    records = [r for b in batches for r in b.records]
    errors = [e for b in batches for e in b.errors]
    assert records == [{"id": 1, "tags": ["a"], "amount": 1.5, "ok": True}, {"id": 4, "nested": {"k": None}},
                       {"id": 6}]
    assert [(e.code, e.line) for e in errors] == [("bad_json_line", 3), ("not_an_object", 4), ("undecodable", 5),
                                                  ("record_too_large", 7)]
    assert errors[2].payload == '{"id": 3, "name": "\\xff"}\n'


def test_fields_are_discovered_from_a_sample(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text('{"id": 1, "n": 2, "when": "2024-01-01"}\n{"id": 2, "n": 3.5}\n')
    spec = connector(tmp_path).discover()[0]
    assert {f.name: f.type for f in spec.fields} == {"id": "integer", "n": "string", "when": "string"}
    assert spec.primary_key == ("id",) and spec.supports_deletes
