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

REFERENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "Account": {"parent_id": ("Account",), "owner_id": ("User",)},
    "Contact": {"account_id": ("Account",), "owner_id": ("User",)},
    "Opportunity": {"account_id": ("Account",), "owner_id": ("User",)},
    "Lead": {"converted_account_id": ("Account",), "owner_id": ("User",)},
    "Activity": {"who_id": ("Contact", "Lead"), "what_id": ("Account", "Opportunity"), "owner_id": ("User",)},
}
"""Canonical reference fields checked for orphans, and the entities each may point at."""
REF_PREFIX = "ref:"
"""``CRecord.native`` keys holding a reference as the system wrote it (``ref:account_id``)."""
QUEUE_PREFIX = "00G"


@dataclass(slots=True)
class KeyIndex:
    """Keys and canonical ids of one entity in one system. Deleted rows count: a reference to a
    soft-deleted customer points at a row that is there (the delete is its own finding)."""

    keys: set[str] = field(default_factory=set)
    canonical: set[str] = field(default_factory=set)

    def add(self, record: CRecord) -> None:
        self.keys.add(id_key(record.key) or record.key)
        if record.canonical_id:
            self.canonical.add(record.canonical_id)

    def __contains__(self, value: object) -> bool:
        return value in self.canonical or id_key(value) in self.keys


@dataclass(slots=True)
class OrphanDetector:
    """Feed every record of every entity; collect the findings once every entity has been read."""

    indexes: dict[tuple[str, str], KeyIndex] = field(default_factory=dict)
    _pending: list[tuple[CRecord, str, tuple[str, ...], str]] = field(default_factory=list)
    _known: dict[tuple[str, tuple[str, ...]], list[KeyIndex]] = field(default_factory=dict)

    def index(self, system: str, entity: str) -> KeyIndex:
        """The index of an entity read from ``system`` (created when the entity is read)."""
        found = self.indexes.get((system, entity))
        if found is None:
            found = self.indexes[(system, entity)] = KeyIndex()
            self._known.clear()
        return found

    def _found(self, system: str, targets: tuple[str, ...], value: str) -> bool | None:
        """True/False when some target entity was read from the system, None when none was (cannot tell)."""
        known = self._known.get((system, targets))
        if known is None:  # looked up once per (system, targets), not per record
            known = self._known[(system, targets)] = [self.indexes[(system, t)] for t in targets
                                                      if (system, t) in self.indexes]
        if any(value in index for index in known):
            return True
        # Not among what was read: an orphan only if every entity it may point at was read (a task's
        # what_id may name an opportunity when the job does not reconcile opportunities).
        return False if len(known) == len(targets) else None

    def add(self, record: CRecord) -> None:
        if record.deleted:
            return
        for path, targets in REFERENCES.get(record.entity, {}).items():
            value = record.native.get(REF_PREFIX + path, record.get(path))
            if value in (None, "") or (path == "owner_id" and str(value).startswith(QUEUE_PREFIX)):
                continue
            # Pending only when the reference is not found among targets that are being read; a reference to
            # an entity nobody reads here can never be judged and is not kept (memory stays flat).
            if self._found(record.system, targets, str(value)) is False:
                self._pending.append((_slim(record), path, targets, str(value)))

    def findings(self) -> Iterator[Finding]:
        """Check what was pending against the now-complete indexes."""
        pending, self._pending = self._pending, []
        for record, path, targets, value in pending:
            if self._found(record.system, targets, value) is not False:
                continue
            yield Finding(
                code=FindingCode.ORPHAN_REFERENCE, entity=record.entity,
                records=(RecordRef(record.system, record.key, record.canonical_id),), fields=(path,),
                values={path: {record.system: value}}, subject="/".join(targets),
                message=f"{path} points at a {' or '.join(targets)} that does not exist in {record.system}",
            )


def _slim(record: CRecord) -> CRecord:
    """Keep only identity: a pending check must not hold a whole record in memory."""
    return CRecord(record.system, record.entity, record.key, {}, record.canonical_id)
