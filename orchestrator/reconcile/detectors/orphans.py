"""orphan_reference: a reference to a record that does not exist in the same system.

A contact whose account was deleted, an opportunity pointing at a purged customer: the link is
checked against the keys (native, normalised to 18-character ids) and canonical ids of the target
entity as read in this run. Parents are read before children; self-references (a parent account)
are checked once the entity is complete, so order within a stream does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.finding import Finding, RecordRef
from orchestrator.reconcile.normalise import id_key
from orchestrator.reconcile.records import CRecord

REFERENCES: dict[str, dict[str, str]] = {
    "Account": {"parent_id": "Account"},
    "Contact": {"account_id": "Account"},
    "Opportunity": {"account_id": "Account"},
    "Lead": {"converted_account_id": "Account"},
}
"""Canonical reference fields checked for orphans, and the entity each points at."""
REF_PREFIX = "ref:"
"""``CRecord.native`` keys holding a reference as the system wrote it (``ref:account_id``)."""


@dataclass(slots=True)
class KeyIndex:
    """Keys and canonical ids of one entity in one system (live records only)."""

    keys: set[str] = field(default_factory=set)
    canonical: set[str] = field(default_factory=set)

    def add(self, record: CRecord) -> None:
        if record.deleted:
            return
        self.keys.add(id_key(record.key) or record.key)
        if record.canonical_id:
            self.canonical.add(record.canonical_id)

    def __contains__(self, value: object) -> bool:
        return value in self.canonical or id_key(value) in self.keys


@dataclass(slots=True)
class OrphanDetector:
    """Feed every record of every entity (parents first); collect findings at the end of each entity."""

    indexes: dict[tuple[str, str], KeyIndex] = field(default_factory=dict)
    _pending: list[tuple[CRecord, str, str, str]] = field(default_factory=list)

    def index(self, system: str, entity: str) -> KeyIndex:
        return self.indexes.setdefault((system, entity), KeyIndex())

    def wanted(self, entity: str) -> bool:
        """Whether any checked reference points at ``entity`` (so its keys must be indexed)."""
        return any(target == entity for refs in REFERENCES.values() for target in refs.values())

    def add(self, record: CRecord) -> None:
        if record.deleted:
            return
        for path, target in REFERENCES.get(record.entity, {}).items():
            value = record.native.get(REF_PREFIX + path, record.get(path))
            if value in (None, ""):
                continue
            if target == record.entity or str(value) not in self.index(record.system, target):
                self._pending.append((_slim(record), path, target, str(value)))

    def findings(self) -> Iterator[Finding]:
        """Check what was pending against the now-complete indexes."""
        pending, self._pending = self._pending, []
        for record, path, target, value in pending:
            if value in self.index(record.system, target):
                continue
            yield Finding(
                code=FindingCode.ORPHAN_REFERENCE, entity=record.entity,
                records=(RecordRef(record.system, record.key, record.canonical_id),), fields=(path,),
                values={path: {record.system: value}}, subject=target,
                message=f"{path} points at a {target} that does not exist in {record.system}",
            )


def _slim(record: CRecord) -> CRecord:
    """Keep only identity: a pending check must not hold a whole record in memory."""
    return CRecord(record.system, record.entity, record.key, {}, record.canonical_id)
