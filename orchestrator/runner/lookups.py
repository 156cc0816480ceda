"""Reference lookups through the ID cross-reference, fetched once per batch, never per record.

A contact's native ``AccountId`` must become the canonical account id (forward), and the canonical
account id must become the target's native account key (reverse). Both directions are prefetched
for a whole batch with one query per referenced entity, then answered from memory; a miss that
was not prefetched still works (one query), so correctness never depends on the prefetch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from orchestrator.state.store import StateStore


class XrefLookup:
    """``lookup(entity, native_id) -> canonical id`` for one system, cached for one batch."""

    def __init__(self, store: StateStore, system: str, object_of: Callable[[str], str | None]) -> None:
        self.store, self.system, self.object_of = store, system, object_of
        self._cache: dict[str, dict[str, str | None]] = defaultdict(dict)

    def prefetch(self, entity: str, native_ids: Iterable[str]) -> None:
        obj = self.object_of(entity)
        wanted = [str(n) for n in native_ids if n not in (None, "") and str(n) not in self._cache[entity]]
        if obj is None or not wanted:
            return
        found = self.store.canonical_ids(self.system, obj, wanted)
        self._cache[entity].update({n: found.get(n) for n in wanted})

    def __call__(self, entity: str, native_id: str) -> str | None:
        key = str(native_id)
        if key not in self._cache[entity]:
            self.prefetch(entity, [key])
        return self._cache[entity].get(key)


class ReverseLookup:
    """``reverse_lookup(entity, canonical_id) -> native id`` in one system, cached for one batch."""

    def __init__(self, store: StateStore, system: str, object_of: Callable[[str], str | None]) -> None:
        self.store, self.system, self.object_of = store, system, object_of
        self._cache: dict[str, dict[str, str | None]] = defaultdict(dict)

    def prefetch(self, entity: str, canonical_ids: Iterable[str]) -> None:
        wanted = [c for c in canonical_ids if c and c not in self._cache[entity]]
        if not wanted:
            return
        found = self.store.native_ids(self.system, entity, wanted, object=self.object_of(entity))
        self._cache[entity].update({c: found.get(c) for c in wanted})

    def remember(self, entity: str, canonical_id: str, native_id: str) -> None:
        """Teach the cache a link made in this batch (a parent written moments ago)."""
        self._cache[entity][canonical_id] = native_id

    def __call__(self, entity: str, canonical_id: str) -> str | None:
        if canonical_id not in self._cache[entity]:
            self.prefetch(entity, [canonical_id])
        return self._cache[entity].get(canonical_id)
