"""What the detectors of one entity know: the job, both systems, the rules, the clock and the sync history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from orchestrator.reconcile.normalise import Normalisers


class SyncHistory(Protocol):
    """What the syncs between the two systems last did, for telling stale and conflicting edits apart."""

    def last_sync_at(self, entity: str) -> datetime | None:
        """When a sync last finished propagating ``entity`` between the two systems (None: never)."""

    def last_values(self, entity: str, canonical_id: str) -> Mapping[str, Any] | None:
        """The flat canonical values a sync last wrote for the record (None: unknown)."""


class NoHistory:
    """No sync has run between the systems: every difference is a plain field mismatch."""

    def last_sync_at(self, entity: str) -> datetime | None:
        return None

    def last_values(self, entity: str, canonical_id: str) -> Mapping[str, Any] | None:
        return None


@dataclass(slots=True)
class Owners:
    """Who may own records in one system: active users, inactive users, queues (by normalised id)."""

    inactive: set[str] = field(default_factory=set)
    queues: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)


@dataclass(slots=True)
class EntityContext:
    job: str
    entity: str
    left: str  # system names
    right: str
    normalisers: Normalisers
    compared: tuple[str, ...]  # canonical paths both sides' mappings fill
    now: datetime
    lag: timedelta
    history: SyncHistory = field(default_factory=NoHistory)
    formula_fields: frozenset[str] = frozenset()  # canonical paths a system computes by formula
    owners: dict[str, Owners] = field(default_factory=dict)  # system -> owners
    queue_allowed: frozenset[str] = frozenset()  # systems where this entity may be owned by a queue

    def other(self, system: str) -> str:
        return self.right if system == self.left else self.left
