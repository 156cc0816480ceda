"""Runs one sync of SQLite file -> SQLite file in a fresh process, for the crash test.

Executed as a subprocess (``python crash_sync_driver.py WORKDIR``) so that SIGKILL at a kill point
(``CRMSYNC_TEST_KILL_AT``) really kills a process, as the OOM killer would. The mapping is a
small dict mapper with the engine's shape; connectors and state store are the real ones.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from connectors.base import Connector
from connectors.retry import RetryPolicy
from connectors.sql.connector import SqlConnector
from mappings.canonical import CanonicalModel, CanonicalRegistry
from orchestrator.config.models import ProjectConfig
from orchestrator.runner import run_sync
from orchestrator.runner.services import Services
from orchestrator.state import StateStore


class Mapper:
    def __init__(self, registry: CanonicalRegistry, obj: str, key: str, fields: Mapping[str, str]) -> None:
        self.model = registry.get("Account")
        self.spec = SimpleNamespace(object=obj, entity="Account", key=key, upsert_key=None)
        self.fields, self.references = dict(fields), {}

    def native_key(self, record: Mapping[str, Any]) -> str:
        return str(record[self.spec.key])

    def map_batch(self, records: Sequence[Mapping[str, Any]], ctx: Any) -> tuple[list[Any], list[Any]]:
        return [(i, self.model.model_validate({c: r.get(n) for n, c in self.fields.items()}))
                for i, r in enumerate(records)], []

    def to_native(self, canonical: CanonicalModel, ctx: Any) -> dict[str, Any]:
        return {n: getattr(canonical, c) for n, c in self.fields.items()}


class Sets:
    def __init__(self, mapper: Mapper) -> None:
        self.mapper = mapper

    def for_entity(self, entity: str) -> Mapper:
        if entity != "Account":
            raise KeyError(entity)
        return self.mapper


class SqlServices(Services):
    def connector(self, system: str, retry: RetryPolicy) -> Connector:
        return SqlConnector(SqlConnector.config_model.model_validate(self.config.system(system).settings), retry)


def main(workdir: Path) -> int:
    config = ProjectConfig.model_validate({
        "version": 1,
        "systems": {
            "erp": {"connector": "sql", "mappings": str(workdir), "settings": {
                "url": f"sqlite:///{workdir / 'src.db'}", "batch_size": 2000,
                "streams": {"customers": {"updated_at": "seq"}}}},
            "crm": {"connector": "sql", "mappings": str(workdir), "settings": {
                "url": f"sqlite:///{workdir / 'dst.db'}", "batch_size": 2000, "streams": {"accounts": {}}}},
        },
        "syncs": {"copy": {"from": "erp", "to": "crm", "objects": ["Account"], "batch_size": 2000}},
    })
    registry = config.registry()
    services = SqlServices(config, context_factory=SimpleNamespace, load_mappings=lambda d, r: None)
    services._mappings = {
        "erp": Sets(Mapper(registry, "customers", "cust_no", {"cust_no": "account_number", "name": "name"})),
        "crm": Sets(Mapper(registry, "accounts", "ext_id", {"ext_id": "account_number", "name": "name"})),
    }
    with StateStore.open(f"sqlite:///{workdir / 'state.db'}") as store:
        summary = run_sync(config, store, "copy", services=services)
    print(summary.status, summary.totals(), flush=True)
    return int(summary.exit_code)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
