"""Link-only entities: matched on canonical fields across systems, linked, never written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from connectors.base import Batch
from orchestrator.runner.linking import link_stream, match_key
from orchestrator.state import StateStore


@dataclass
class _Mapper:
    obj: str
    key: str

    @property
    def spec(self) -> Any:
        return SimpleNamespace(object=self.obj)

    def native_key(self, record: dict[str, Any]) -> str:
        return str(record[self.key])

    def map_batch(self, records: list[dict[str, Any]], ctx: Any) -> tuple[list[Any], list[Any]]:
        return [(i, SimpleNamespace(email=r.get("mail"))) for i, r in enumerate(records)], []


class _Connector:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows, self.writes = rows, 0

    def read(self, stream: str, cursor: Any = None, range: Any = None) -> Any:
        yield Batch(records=list(self.rows))

    def write(self, *args: Any, **kwargs: Any) -> None:
        self.writes += 1


def _side(system: str, obj: str, key: str, rows: list[dict[str, Any]]) -> Any:
    return SimpleNamespace(system=system, object=obj, connector=_Connector(rows), mapper=_Mapper(obj, key),
                           timezone="UTC", context_factory=None)


def test_match_key_normalises_and_skips_empty_values() -> None:
    assert match_key(SimpleNamespace(email=" Ana@X.com "), ["email"]) == ("ana@x.com",)
    assert match_key(SimpleNamespace(email=""), ["email"]) is None


def test_link_stream_links_matches_and_counts_the_rest(tmp_path: Path) -> None:
    erp = _side("erp", "employees", "code", [{"code": "E1", "mail": "ana@x.com"}, {"code": "E2", "mail": "bo@x.com"},
                                             {"code": "E3", "mail": None}])
    crm = _side("crm", "User", "Id", [{"Id": "005A", "mail": "ANA@x.com"}, {"Id": "005Z", "mail": "zed@x.com"}])
    with StateStore.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        job = SimpleNamespace(source=erp, target=crm, stream="User", store=store,
                              options=SimpleNamespace(dry_run=False))
        counts: dict[str, int] = {}
        link_stream(job, counts, ["email"])  # type: ignore[arg-type]
        assert counts == {"read": 3, "linked": 1, "unmatched": 2}
        ana = store.canonical_ids("erp", "employees", ["E1"])["E1"]
        assert store.canonical_ids("crm", "User", ["005A"]) == {"005A": ana}
        assert store.canonical_ids("crm", "User", ["005Z"]) == {}
    assert erp.connector.writes == 0 and crm.connector.writes == 0
