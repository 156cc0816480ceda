"""The memory connector passes the shared contract suite (and so shows the suite works)."""

from __future__ import annotations

import uuid
from pathlib import Path

from connectors.contract import ContractCase, connector_contract
from connectors.memory import MemoryConfig, MemoryConnector, reset_store
from connectors.retry import NO_RETRY


def make_case(tmp_path: Path) -> ContractCase:
    store = f"contract-{uuid.uuid4()}"
    config = MemoryConfig(store=store, streams={"people": {"primary_key": "pid"}}, batch_size=7)
    records = [{"pid": f"p{i:03d}", "name": f"Person {i}", "n": i} for i in range(30)]
    return ContractCase(MemoryConnector(config, NO_RETRY), "people", "pid", records,
                        cleanup=lambda: reset_store(store))


TestMemoryContract = connector_contract(make_case)
