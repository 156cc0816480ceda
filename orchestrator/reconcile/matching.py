"""Matching: pair each record of one system with its counterpart in the other.

The cascade tries the ID cross-reference, then external ids, then natural keys. Each rule is one pass
of a hash-partitioned join: both sides are partitioned by the rule's key (spilling to disk past a
bound), joined one bucket at a time, and whatever a pass leaves unmatched, or has no key for, goes on
to the next rule. Memory is bounded by one bucket, never by a side.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from orchestrator.reconcile.keys import EXTERNAL_IDS, MatchRule, ext_key
from orchestrator.reconcile.records import CRecord, Pair
from orchestrator.reconcile.spill import DEFAULT_BUCKETS, DEFAULT_MAX_IN_MEMORY, BucketStore, Budget

Side = Literal["left", "right"]


@dataclass(slots=True)
class Unmatched:
    side: Side
    record: CRecord


class Matcher:
    """Add both sides' records, then :meth:`run` yields pairs and the records left unmatched."""

    def __init__(self, entity: str, rules: Sequence[MatchRule], *, buckets: int = DEFAULT_BUCKETS,
                 max_in_memory: int = DEFAULT_MAX_IN_MEMORY, workdir: Path | None = None,
                 budget: Budget | None = None) -> None:
        self.entity = entity
        self.rules = list(rules)
        self._ext = EXTERNAL_IDS.get(entity, ())
        budget = budget or Budget(max_in_memory)

        def store(n: int = buckets) -> BucketStore:
            return BucketStore(n, max_in_memory, workdir, budget)

        self._passes = [(store(), store()) for _ in self.rules]
        self._keyless = (store(1), store(1))
        self.stats: dict[str, int] = {rule.name: 0 for rule in self.rules}

    def add(self, side: Side, record: CRecord) -> None:
        self._route(side, record, 0)

    def _route(self, side: Side, record: CRecord, start: int) -> None:
        index = 0 if side == "left" else 1
        for step in range(start, len(self.rules)):
            key = self.rules[step].key(record)
            if key is not None:
                self._passes[step][index].add(key, (key, record))
                return
        self._keyless[index].add(record.key, (record.key, record))

    def run(self) -> Iterator[Pair | Unmatched]:
        """Every pair, then every record no rule could match (each side in key order per bucket)."""
        try:
            for step, rule in enumerate(self.rules):
                left_store, right_store = self._passes[step]
                for bucket in range(left_store.buckets):
                    yield from self._join(step, rule, left_store.bucket(bucket), right_store.bucket(bucket))
                left_store.close()
                right_store.close()
            for side, store in zip(("left", "right"), self._keyless, strict=True):
                for items in store:
                    for _, record in sorted(items, key=lambda item: item[0]):
                        yield Unmatched(side, record)  # type: ignore[arg-type]
        finally:
            self.close()

    def _join(self, step: int, rule: MatchRule, left: list[tuple[str, CRecord]],
              right: list[tuple[str, CRecord]]) -> Iterator[Pair]:
        index: dict[str, list[CRecord]] = {}
        for key, record in sorted(right, key=lambda item: item[1].key):
            index.setdefault(key, []).append(record)
        for key, record in sorted(left, key=lambda item: item[1].key):
            candidates = index.get(key)
            partner = self._take(record, candidates) if candidates else None
            if partner is None:
                self._route("left", record, step + 1)
                continue
            self.stats[rule.name] += 1
            yield Pair(record, partner, rule.name)
        for records in index.values():
            for record in records:
                self._route("right", record, step + 1)

    def _take(self, record: CRecord, candidates: list[CRecord]) -> CRecord | None:
        """The first candidate whose identity does not contradict ``record``'s (removed from the list)."""
        for position, candidate in enumerate(candidates):
            if self._compatible(record, candidate):
                return candidates.pop(position)
        return None

    def _compatible(self, left: CRecord, right: CRecord) -> bool:
        """Records holding different canonical ids or different external ids are never the same record."""
        if left.canonical_id and right.canonical_id and left.canonical_id != right.canonical_id:
            return False
        for path in self._ext:
            a, b = ext_key(left.get(path)), ext_key(right.get(path))
            if a is not None and b is not None and a != b:
                return False
        return True

    def close(self) -> None:
        for left_store, right_store in self._passes:
            left_store.close()
            right_store.close()
        for store in self._keyless:
            store.close()
