"""Writing files: upsert rewrites into a new file swapped in atomically; append adds lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.files import CsvConfig, CsvConnector, JsonlConfig, JsonlConnector
from connectors.retry import NO_RETRY

Connector = CsvConnector | JsonlConnector


def make(tmp_path: Path, fmt: str, **options: object) -> Connector:
    streams = {"people": {"path": f"people.{fmt}", "primary_key": ["id"]}}
    if fmt == "csv":
        return CsvConnector(CsvConfig(base_dir=str(tmp_path), streams=streams, **options), NO_RETRY)
    return JsonlConnector(JsonlConfig(base_dir=str(tmp_path), streams=streams, **options), NO_RETRY)


def rows(connector: Connector) -> dict[str, dict[str, object]]:
    return {str(r["id"]): r for b in connector.read("people") for r in b.records}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_upsert_merges_deletes_keeps_other_lines_byte_for_byte_and_is_idempotent(tmp_path: Path, fmt: str) -> None:
    connector = make(tmp_path, fmt)
    people = [{"id": str(i), "name": f"Person {i}", "city": "Madrid"} for i in range(5)]
    first = connector.write("people", people)
    assert [r.created for r in first.results] == [True] * 5
    path = tmp_path / f"people.{fmt}"
    with path.open("ab") as out:  # someone else's bad line, which an upsert must not destroy
        out.write(b"garbage line, not a record\n")
    before = path.read_bytes()
    again = connector.write("people", people)
    assert [r.created for r in again.results] == [False] * 5 and path.read_bytes() == before
    cursor = list(connector.read("people"))[-1].cursor
    result = connector.write("people", [{"id": "1", "city": "Lyon"}, {"id": "9", "name": "New", "city": None},
                                        {"name": "no key"}], deletes=["3", "404"])
    assert [(r.ok, r.created) for r in result.results] == [(True, False), (True, True), (False, None)]
    assert result.results[2].error is not None and result.results[2].error.code == "missing_key"
    assert all(d.ok for d in result.deleted)
    got = rows(connector)
    assert sorted(got) == ["0", "1", "2", "4", "9"] and got["1"] == {"id": "1", "name": "Person 1", "city": "Lyon"}
    assert got["9"]["city"] is None
    assert b"garbage line, not a record\n" in path.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    reread = [r for b in connector.read("people", cursor=cursor) for r in b.records]
    assert len(reread) == 5  # the file was replaced: an old cursor reads it again from the start


def test_csv_upsert_refuses_fields_the_header_does_not_have(tmp_path: Path) -> None:
    connector = make(tmp_path, "csv")
    connector.write("people", [{"id": 1, "name": "Ann"}])
    result = connector.write("people", [{"id": 2, "name": "Bob", "phone": "1"}, {"id": 3, "name": "Cy"}])
    assert result.results[0].error is not None and result.results[0].error.fields == ("phone",)
    assert sorted(rows(connector)) == ["1", "3"]
    assert (tmp_path / "people.csv").read_bytes() == b"id,name\r\n1,Ann\r\n3,Cy\r\n"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_append_adds_lines_once_and_refuses_deletes(tmp_path: Path, fmt: str) -> None:
    connector = make(tmp_path, fmt, write_mode="append")
    assert not connector.capabilities.upsert and not connector.capabilities.deletes
    connector.write("people", [{"id": 1, "name": "Ann"}])
    path = tmp_path / f"people.{fmt}"
    path.write_bytes(path.read_bytes().rstrip(b"\r\n"))  # a file whose last line has no newline
    result = connector.write("people", [{"id": 1, "name": "Ann again"}], deletes=["1"])
    assert result.results[0].created and not result.deleted[0].ok
    names = [r["name"] for b in connector.read("people") for r in b.records]
    assert names == ["Ann", "Ann again"]
    if fmt == "csv":
        assert path.read_bytes().count(b"id,name") == 1
