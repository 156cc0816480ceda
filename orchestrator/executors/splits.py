"""Cutting a stream into partitions: key ranges (explicit, sampled, or the last run's) and time windows.

Key ranges are half-open ``[start, end)`` on the source's leading primary-key column, the range a
connector's ``read(range=KeyRange(...))`` takes; the first starts and the last ends unbounded, so
together they cover every key, including keys created after planning. Time windows cut the
stream's cursor field the same way. A partition's id is derived from its bounds: the same layout
in the next run gives the same ids, so each partition resumes from its own checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

KeyValue = str | int
SAMPLE_PER_PARTITION = 256  # keys kept per partition while sampling: memory stays flat however big the stream


def partition_id(kind: str, index: int, bounds: Mapping[str, Any] | None) -> str:
    """``k03-1a2b3c4d``: the kind, the position, and a digest of the bounds (stable across runs)."""
    if bounds is None:
        return "0"  # the whole stream: the same checkpoint the local runner uses
    digest = hashlib.sha1(json.dumps(dict(bounds), sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{kind[0]}{index:02d}-{digest}"


def key_ranges(points: Sequence[KeyValue]) -> list[dict[str, Any]]:
    """Ranges between sorted, distinct split points: ``[None, p1), [p1, p2), ..., [pn, None)``."""
    ordered = sorted(set(points), key=_sort_key)
    edges: list[KeyValue | None] = [None, *ordered, None]
    return [{"start": a, "end": b} for a, b in zip(edges, edges[1:], strict=False)]


def _sort_key(value: KeyValue) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int) else (1, str(value))


class KeySample:
    """A uniform reservoir sample of keys (Algorithm R), seeded so that a plan can be reproduced."""

    def __init__(self, capacity: int, seed: int = 0) -> None:
        self.capacity = capacity
        self.keys: list[KeyValue] = []
        self.seen = 0
        self._rng = random.Random(seed)

    def add(self, key: Any) -> None:
        if key is None:
            return
        value: KeyValue = key if isinstance(key, int) and not isinstance(key, bool) else str(key)
        self.seen += 1
        if len(self.keys) < self.capacity:
            self.keys.append(value)
            return
        slot = self._rng.randrange(self.seen)
        if slot < self.capacity:
            self.keys[slot] = value

    def split_points(self, partitions: int) -> list[KeyValue]:
        """``partitions - 1`` quantiles of the sample (fewer when there are fewer distinct keys)."""
        ordered = sorted(set(self.keys), key=_sort_key)
        if partitions <= 1 or not ordered:
            return []
        # Never the smallest key: a range ending there would be empty.
        picks = {ordered[max(1, min(len(ordered) - 1, (i * len(ordered)) // partitions))]
                 for i in range(1, partitions)} - {ordered[0]}
        return sorted(picks, key=_sort_key)


def sample_split_points(records: Iterable[Mapping[str, Any]], key_field: str, partitions: int,
                        *, seed: int = 0) -> list[KeyValue]:
    """Split points giving ``partitions`` ranges of about equal size, from one pass over ``records``."""
    sample = KeySample(SAMPLE_PER_PARTITION * max(1, partitions), seed)
    for record in records:
        sample.add(record.get(key_field))
    return sample.split_points(partitions)


def time_windows(lower: datetime, upper: datetime, partitions: int) -> list[dict[str, Any]]:
    """``partitions`` equal windows from ``lower``; the last one is open-ended (the run's start bounds it)."""
    if upper <= lower or partitions <= 1:
        return [{"start": lower.isoformat(), "end": None}]
    step = (upper - lower) / partitions
    edges = [lower + step * i for i in range(partitions)]
    ends: list[str | None] = [e.isoformat() for e in edges[1:]] + [None]
    return [{"start": s.isoformat(), "end": e} for s, e in zip(edges, ends, strict=True)]
