"""A polymorphic reference is an orphan only when every entity it may point at was read."""

from __future__ import annotations

from orchestrator.reconcile.detectors.orphans import OrphanDetector
from orchestrator.reconcile.records import CRecord


def _record(entity: str, key: str, **values: object) -> CRecord:
    return CRecord("crm", entity, key, dict(values), None)


def test_unread_target_entity_means_cannot_tell() -> None:
    detector = OrphanDetector()
    detector.index("crm", "Account").add(_record("Account", "001A"))
    detector.add(_record("Activity", "00T1", what_id="006X"))  # an opportunity: not reconciled here
    assert list(detector.findings()) == []


def test_all_targets_read_and_missing_is_an_orphan() -> None:
    detector = OrphanDetector()
    detector.index("crm", "Account").add(_record("Account", "001A"))
    detector.index("crm", "Opportunity")
    detector.add(_record("Activity", "00T1", what_id="006X"))
    detector.add(_record("Activity", "00T2", what_id="001A"))
    found = list(detector.findings())
    assert [(f.code.value if hasattr(f.code, "value") else f.code, f.records[0].key) for f in found] == [
        ("orphan_reference", "00T1")]
