"""The record reconciliation works on: one system's record, mapped to canonical and flattened.

``values`` hold the canonical values as mapped (shown in findings); ``native`` keeps the few native
fields that canonical does not carry but checks need (the merge master, the owner id as the system
wrote it, formula inputs). Records are plain slotted objects so that a million of them pickle fast
when a side spills to disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.reconcile.finding import RecordRef


@dataclass(slots=True)
class CRecord:
    system: str
    entity: str
    key: str  # native key, as the system writes it
    values: dict[str, Any]  # flat canonical values (dotted paths)
    canonical_id: str | None = None  # from the ID cross-reference, when the record was synced before
    updated_at: datetime | None = None  # aware, UTC
    deleted: bool = False
    native: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> RecordRef:
        return RecordRef(self.system, self.key, self.canonical_id)

    def get(self, path: str) -> Any:
        return self.values.get(path)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the constructor's arguments: a slotted object's default state (a dict of slot names
        set back one by one) takes twice as long to dump and half again as long to load."""
        return (CRecord, (self.system, self.entity, self.key, self.values, self.canonical_id, self.updated_at,
                          self.deleted, self.native))


@dataclass(slots=True, frozen=True)
class Rejection:
    """A record the mapper refused: its key, the canonical fields and stable reason codes (never values)."""

    system: str
    entity: str
    key: str
    reasons: tuple[tuple[str, str], ...]  # (reason code, canonical field)
    native_values: Mapping[str, Any] = field(default_factory=dict)  # field -> the value refused, for the report


@dataclass(slots=True)
class Pair:
    """Two records matched across systems, and how they were matched."""

    left: CRecord
    right: CRecord
    rule: str  # xref, external_id:<field>, natural:<name>
