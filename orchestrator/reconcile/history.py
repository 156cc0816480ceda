"""Sync history from the state store: when the syncs between a job's two systems last ran, and what
a two-way sync last wrote for a record. This is what tells a stale edit from a conflict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from orchestrator.reconcile.fieldkinds import flatten

FINISHED = ("succeeded", "partial")


class StoreHistory:
    """``syncs``: the names of the syncs that move data between the job's two systems."""

    def __init__(self, store: Any, syncs: Sequence[str], entities_by_sync: Mapping[str, Sequence[str]] | None = None
                 ) -> None:
        self.store, self.syncs = store, list(syncs)
        self.entities_by_sync = {k: set(v) for k, v in (entities_by_sync or {}).items()}
        self._at: dict[str, datetime | None] = {}
        self._values: dict[tuple[str, str], Mapping[str, Any] | None] = {}

    def _relevant(self, entity: str) -> list[str]:
        return [s for s in self.syncs if s not in self.entities_by_sync or entity in self.entities_by_sync[s]]

    def last_sync_at(self, entity: str) -> datetime | None:
        if entity not in self._at:
            times = []
            for sync in self._relevant(entity):
                for status in FINISHED:
                    runs = self.store.list_runs(1, sync, kind="sync", status=status)
                    times += [r.finished_at for r in runs if r.finished_at is not None]
            self._at[entity] = max(times, default=None)
        return self._at[entity]

    def last_values(self, entity: str, canonical_id: str) -> Mapping[str, Any] | None:
        key = (entity, canonical_id)
        if key not in self._values:
            found = None
            for sync in self._relevant(entity):
                row = self.store.get_sync_state(sync, entity, [canonical_id]).get(canonical_id)
                if row is not None and row.values is not None:
                    found = flatten(row.values)
                    break
            self._values[key] = found
        return self._values[key]


def syncs_between(config: Any, left: str, right: str) -> dict[str, list[str]]:
    """Sync name -> entities, for every configured sync between ``left`` and ``right`` (either way)."""
    return {name: [o.entity for o in sync.objects] for name, sync in config.syncs.items()
            if {sync.source, sync.target} == {left, right}}
