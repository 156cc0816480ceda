"""Row diff of mirrors: two tables of the same shape compared by key-range checksums in the database.

Both databases hash each key range (count plus an order-independent sum of row hashes, computed where
the data lives, see ``ChecksumConnector.range_checksums``); equal ranges are skipped without moving a
row, and only the rows of ranges that differ are read, both sides at once, and compared key by key.
Range boundaries are learned from the keys of a full pass and kept in the state store, so the first
diff of a mirror reads everything and the next ones read only what changed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from connectors.base import ChecksumConnector, Connector, KeyRange
from orchestrator.reconcile.spill import BucketStore
from orchestrator.reconcile.tables import database, key_ranges

SAMPLE = 4096  # keys kept (reservoir) to cut boundaries from
TARGET_RANGES = 256


@dataclass(slots=True)
class RowDiff:
    """Keys only in one table, keys whose rows differ, and what it took to find them."""

    left_only: list[str] = field(default_factory=list)
    right_only: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    ranges: int = 0
    equal_ranges: int = 0
    rows_read: int = 0
    seconds: float = 0.0
    boundaries: list[Any] = field(default_factory=list)

    @property
    def differing(self) -> set[str]:
        return set(self.left_only) | set(self.right_only) | set(self.changed)


def ranges_of(boundaries: Sequence[Any]) -> list[KeyRange]:
    """Half-open ranges covering the whole key space: (-inf, b0), [b0, b1), ..., [bn, +inf)."""
    edges: list[Any] = [None, *boundaries, None]
    return [KeyRange(start=a, end=b) for a, b in zip(edges, edges[1:], strict=False)]


def cut(sample: Sequence[Any], ranges: int = TARGET_RANGES) -> list[Any]:
    """Boundaries splitting a sorted key sample into ``ranges`` parts of about equal size."""
    ordered = sorted(set(sample))
    if len(ordered) < 2:
        return []
    step = max(1, len(ordered) // ranges)
    return ordered[step::step]


class Reservoir:
    """A uniform sample of the keys streamed past it (Algorithm R), for learning range boundaries."""

    def __init__(self, size: int = SAMPLE, seed: int = 7) -> None:
        self.size, self.seen, self.keys = size, 0, []  # type: ignore[var-annotated]
        self._random = random.Random(seed)

    def add(self, key: Any) -> None:
        self.seen += 1
        if len(self.keys) < self.size:
            self.keys.append(key)
        else:
            slot = self._random.randrange(self.seen)
            if slot < self.size:
                self.keys[slot] = key


def _digest(row: dict[str, Any], columns: Sequence[str]) -> int:
    return hash(tuple(row.get(c) for c in columns))


def _rows(connector: Connector, stream: str, key: str, columns: Sequence[str], key_range: KeyRange | None
          ) -> Iterator[tuple[Any, int]]:
    for batch in connector.read(stream, None, key_range):
        for row in batch.records:
            yield row[key], _digest(row, columns)


def _compare(left: dict[Any, int], right: dict[Any, int], out: RowDiff) -> None:
    for key, digest in left.items():
        other = right.get(key)
        if other is None:
            out.left_only.append(str(key))
        elif other != digest:
            out.changed.append(str(key))
    out.right_only.extend(str(k) for k in right.keys() - left.keys())


def diff_ranges(left: ChecksumConnector, right: ChecksumConnector, stream: str, key: str, columns: Sequence[str],
                boundaries: Sequence[Any], right_stream: str | None = None, workers: int = 4) -> RowDiff:
    """Checksums for every range on both sides, then rows only for the ranges that differ."""
    started = time.perf_counter()
    right_stream = right_stream or stream
    ranges = ranges_of(boundaries)
    out = RowDiff(ranges=len(ranges), boundaries=list(boundaries))
    with ThreadPoolExecutor(max(2, workers)) as pool:
        # The whole table's count rides along: the ranges must add up to it, or the boundaries do not
        # partition the keys in the database's own order (a collation Python sorts differently).
        sums = pool.map(lambda side: side[0].range_checksums(side[1], columns, [*ranges, KeyRange()]),
                        [(left, stream), (right, right_stream)])
        left_sums, right_sums = list(sums)
        for found in (left_sums, right_sums):
            if sum(c.count for c in found[:-1]) != found[-1].count:
                raise ValueError("key-range boundaries do not partition the table in the database's order")
        differing = [r for r, a, b in zip(ranges, left_sums[:-1], right_sums[:-1], strict=True) if a != b]
        out.equal_ranges = len(ranges) - len(differing)

        def fetch(job: tuple[Connector, str, KeyRange]) -> dict[Any, int]:
            return dict(_rows(job[0], job[1], key, columns, job[2]))

        jobs = [(c, s, r) for r in differing for c, s in ((left, stream), (right, right_stream))]
        fetched = pool.map(fetch, jobs)
        for left_rows in fetched:
            right_rows = next(fetched)
            out.rows_read += len(left_rows) + len(right_rows)
            _compare(left_rows, right_rows, out)
    out.seconds = time.perf_counter() - started
    return out


def diff_full(left: Connector, right: Connector, stream: str, key: str, columns: Sequence[str],
              right_stream: str | None = None, buckets: int = 64, on_row: Callable[[str, dict[str, Any]], None]
              | None = None) -> RowDiff:
    """The first diff of a mirror: both tables streamed whole (in parallel), hash-partitioned by key with
    bounded memory, compared bucket by bucket; the keys seen teach the range boundaries for next time."""
    started = time.perf_counter()
    right_stream = right_stream or stream
    sample = Reservoir()
    stores = (BucketStore(buckets), BucketStore(buckets))
    out = RowDiff()

    def stream_side(index: int) -> int:
        connector, name = ((left, stream), (right, right_stream))[index]
        count = 0
        for batch in connector.read(name):
            for row in batch.records:
                k = row[key]
                if index == 0:
                    sample.add(k)
                stores[index].add(str(k), (k, _digest(row, columns)))
                count += 1
        return count

    with ThreadPoolExecutor(2) as pool:
        out.rows_read = sum(pool.map(stream_side, (0, 1)))
    try:
        for index in range(buckets):
            _compare(dict(stores[0].bucket(index)), dict(stores[1].bucket(index)), out)
    finally:
        for store in stores:
            store.close()
    out.boundaries = cut(sample.keys)
    out.ranges = len(out.boundaries) + 1
    out.seconds = time.perf_counter() - started
    return out


def load_boundaries(store: Any, job: str, entity: str) -> list[Any] | None:
    db = database(store)
    query = sa.select(key_ranges.c.boundaries).where((key_ranges.c.job == job) & (key_ranges.c.entity == entity))
    with db.begin() as conn:
        text = conn.execute(query).scalar()
    return None if text is None else list(orjson.loads(text))


def save_boundaries(store: Any, job: str, entity: str, boundaries: Sequence[Any]) -> None:
    db = database(store)
    payload = orjson.dumps(list(boundaries), default=str).decode()
    with db.begin() as conn:
        where = (key_ranges.c.job == job) & (key_ranges.c.entity == entity)
        if not conn.execute(key_ranges.update().where(where).values(boundaries=payload, updated_at=db.now())
                            ).rowcount:
            conn.execute(key_ranges.insert().values(job=job, entity=entity, boundaries=payload, updated_at=db.now()))


def diff_mirror(left: ChecksumConnector, right: ChecksumConnector, stream: str, key: str, columns: Sequence[str],
                *, store: Any | None = None, job: str = "", entity: str = "", right_stream: str | None = None
                ) -> RowDiff:
    """Range checksums when boundaries are known for this job and entity, a full pass (that learns them)
    otherwise."""
    boundaries = load_boundaries(store, job, entity) if store is not None else None
    if boundaries:
        try:
            return diff_ranges(left, right, stream, key, columns, boundaries, right_stream)
        except ValueError:
            pass  # boundaries out of the database's order: relearn them with a full pass
    result = diff_full(left, right, stream, key, columns, right_stream)
    if store is not None and result.boundaries:
        save_boundaries(store, job, entity, result.boundaries)
    return result
