"""A connector's deleted rows reach reconciliation with their fields, so a merge loser keeps its master.

Salesforce's recycle bin holds a merged-away record with MasterRecordId; the Salesforce connector
puts such rows in ``Batch.deleted_records`` (their keys stay in ``tombstones`` for syncs), and
reconciliation maps them like any record: deleted, with the master's id for the merged detector.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import Batch
from connectors.salesforce.objects import id_for
from mappings import MappingSet
from orchestrator.reconcile.detectors.deleted import MASTER
from orchestrator.reconcile.sides import TOMBSTONE, SideReader, SideSpec, XrefSource

SPECS = Path(__file__).resolve().parents[2] / "mappings" / "specs" / "salesforce"
STAMP = "2024-05-01T10:00:00.000+0000"


def contact(n: int, **extra: Any) -> dict[str, Any]:
    return {"Id": id_for("003", n), "LastName": f"Name {n}", "IsDeleted": False, "HasOptedOutOfEmail": False,
            "SystemModstamp": STAMP,
            "LastModifiedDate": STAMP, "CreatedDate": STAMP, **extra}


class OneBatch:
    """A connector that returns one batch for Contact."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch

    def read(self, stream: str, cursor: Any = None, range: Any = None) -> Iterator[Batch]:
        yield self.batch


def read(batch: Batch) -> list[Any]:
    side = SideSpec("crm", OneBatch(batch), MappingSet.load(SPECS), describe={"Contact": None})  # type: ignore[arg-type,dict-item]
    reader = SideReader(side, "Contact", XrefSource(None), lambda system, entity, native: None)
    return [r for b in reader.batches() for r in b.records]


def test_a_deleted_row_with_its_fields_is_a_deleted_record_that_names_its_master() -> None:
    master, loser, gone = contact(1), contact(2, IsDeleted=True, MasterRecordId=id_for("003", 1)), id_for("003", 3)
    records = read(Batch([master], None, [loser["Id"], gone], deleted_records=[loser]))
    by_key = {r.key: r for r in records}
    assert set(by_key) == {master["Id"], loser["Id"], gone}  # the loser once, not also as a bare tombstone
    assert by_key[loser["Id"]].deleted and by_key[loser["Id"]].native[MASTER] == master["Id"]
    assert by_key[gone].deleted and by_key[gone].native == {TOMBSTONE: True}  # only a key: still a tombstone
    assert not by_key[master["Id"]].deleted and MASTER not in by_key[master["Id"]].native
