"""The CSV and JSON Lines connectors pass the shared contract suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.contract import ContractCase, connector_contract
from connectors.files import CsvConfig, CsvConnector, JsonlConfig, JsonlConnector
from connectors.retry import NO_RETRY


def make_case(tmp_path: Path, request: pytest.FixtureRequest) -> ContractCase:
    stream = {"path": f"people.{request.param}", "primary_key": ["pid"]}
    if request.param == "csv":
        connector: CsvConnector | JsonlConnector = CsvConnector(
            CsvConfig(base_dir=str(tmp_path), batch_size=7, streams={"people": stream}), NO_RETRY)
    else:
        connector = JsonlConnector(JsonlConfig(base_dir=str(tmp_path), batch_size=7, streams={"people": stream}),
                                   NO_RETRY)
    records = [{"pid": f"p{i:03d}", "name": f"Person {i}", "n": i, "note": None if i % 3 else "a, \"quoted\"\nnote"}
               for i in range(30)]
    return ContractCase(connector, "people", "pid", records)


TestFilesContract = connector_contract(make_case, params=("csv", "jsonl"))
