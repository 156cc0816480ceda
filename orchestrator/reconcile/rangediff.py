"""Row diff of mirrors: two tables of the same shape compared by key-range checksums in the database.

Both databases hash each key range (count plus an order-independent sum of row hashes, computed where
the data lives, see ``ChecksumConnector.range_checksums``); equal ranges are skipped without moving a
row. A range that differs is bisected (its parts checksummed in turn) while that is cheaper than
reading it, judged by how dense the differences look; the ranges left are read both sides at once and
compared key by key, as one 64-bit hash per row computed in the database where the connector can
(``row_digests``), as whole rows otherwise. Range boundaries are learned from the keys of a full pass and
kept in the state store, so the first diff of a mirror reads everything and the next ones read only
what changed.
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
from connectors.sql import checksums as sql_checksums
from connectors.sql.connector import SqlConnector
from orchestrator.reconcile.spill import BucketStore
from orchestrator.reconcile.tables import database, key_ranges

SAMPLE = 16384  # keys kept (reservoir) to cut boundaries from
FINE_RANGES = 4096  # boundaries learned: the finest ranges bisection can reach
TARGET_RANGES = 256  # ranges checksummed first
SPLIT = 16  # parts a differing range is bisected into
MIN_BISECT_ROWS = 2048  # a smaller range is read rather than bisected (a query costs about that many rows)
LEAF_ROWS = 50_000  # adjacent differing ranges are read together up to this many rows (fewer queries)
PROBE = 16  # segments of a level checksummed first, to judge whether checksumming the rest pays
READ_COST = 2.0  # reading a row's hash costs about this many times checksumming it (measured, PostgreSQL)
ROW_READ_COST = 6.0  # reading the whole row and hashing it here instead

DigestReader = Callable[[str, Sequence[str], KeyRange | None], Iterator[tuple[Any, int]]]


@dataclass(slots=True)
class RowDiff:
    """Keys only in one table, keys whose rows differ, and what it took to find them."""

    left_only: list[str] = field(default_factory=list)
    right_only: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    ranges: int = 0  # ranges checksummed first
    equal_ranges: int = 0  # of those, equal (skipped)
    rows_read: int = 0
    seconds: float = 0.0
    boundaries: list[Any] = field(default_factory=list)
    checksums: int = 0  # range checksums computed per side, every level
    levels: int = 0

    @property
    def differing(self) -> set[str]:
        return set(self.left_only) | set(self.right_only) | set(self.changed)


def ranges_of(boundaries: Sequence[Any]) -> list[KeyRange]:
    """Half-open ranges covering the whole key space: (-inf, b0), [b0, b1), ..., [bn, +inf)."""
    edges: list[Any] = [None, *boundaries, None]
    return [KeyRange(start=a, end=b) for a, b in zip(edges, edges[1:], strict=False)]


def cut(sample: Sequence[Any], ranges: int = FINE_RANGES) -> list[Any]:
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


def digest_reader(connector: Connector) -> tuple[DigestReader, str] | None:
    """Per-row hashes computed where the data lives, with what makes two sides' hashes comparable.

    A connector offering ``row_digests(stream, columns, range)`` is used as it is; the SQL connector's
    are its checksum module's (the hash its range checksums sum). None: rows are read and hashed here.
    """
    method = getattr(connector, "row_digests", None)
    if callable(method):
        return method, f"{type(connector).__name__}"
    if isinstance(connector, SqlConnector):
        def read(stream: str, columns: Sequence[str], key_range: KeyRange | None) -> Iterator[tuple[Any, int]]:
            return sql_checksums.row_digests(connector.client, connector.stream(stream), columns, key_range)
        return read, f"sql:{connector.client.family}"
    return None


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


@dataclass(slots=True)
class _Sides:
    """The two tables of a mirror and how to read their rows' hashes."""

    left: Connector
    right: Connector
    streams: tuple[str, str]
    key: str
    columns: Sequence[str]
    readers: tuple[DigestReader, DigestReader] | None

    @classmethod
    def of(cls, left: Connector, right: Connector, stream: str, right_stream: str | None, key: str,
           columns: Sequence[str]) -> _Sides:
        found = digest_reader(left), digest_reader(right)
        comparable = found[0] is not None and found[1] is not None and found[0][1] == found[1][1]
        readers = (found[0][0], found[1][0]) if comparable and found[0] and found[1] else None
        return cls(left, right, (stream, right_stream or stream), key, columns, readers)

    def hashes(self, index: int, key_range: KeyRange | None) -> Iterator[tuple[Any, int]]:
        """(key, row hash) of one side's live rows in ``key_range``; the same function for both sides."""
        if self.readers is not None:
            return self.readers[index](self.streams[index], self.columns, key_range)
        return _rows((self.left, self.right)[index], self.streams[index], self.key, self.columns, key_range)

    def fetch(self, job: tuple[int, KeyRange]) -> dict[Any, int]:
        index, key_range = job
        connector = (self.left, self.right)[index]
        retry = getattr(connector, "retry", None)
        if retry is not None and self.readers is not None:  # a failed range is read again whole
            return retry.call(lambda: dict(self.hashes(index, key_range)))
        return dict(self.hashes(index, key_range))

    @property
    def read_cost(self) -> float:
        return READ_COST if self.readers is not None else ROW_READ_COST


def _segments(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` (indexes of fine ranges) cut into at most ``parts`` contiguous, non-empty slices."""
    parts = max(1, min(parts, hi - lo))
    edges = [lo + (hi - lo) * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


@dataclass(slots=True)
class _Segment:
    """A run ``[lo, hi)`` of fine ranges and its rows (the larger side's count, or an estimate)."""

    lo: int
    hi: int
    rows: float


class _Walk:
    """One diff's descent: checksum a level of segments, bisect what differs, collect what is to be read.

    Each level is checksummed a sample (PROBE segments) first: when the sample says too few of the rest
    would be equal to pay for their checksums (dense differences: a mass update, or 1% of rows spread
    over every range), the rest are read without being checksummed. The same test, one level down,
    decides whether bisecting is worth it.
    """

    def __init__(self, pool: ThreadPoolExecutor, sides: _Sides, edges: list[Any], out: RowDiff) -> None:
        self.pool, self.sides, self.edges, self.out = pool, sides, edges, out
        self.covered = [0, 0]  # rows per side accounted for by equal segments (their counts)
        self.leaves: list[_Segment] = []

    def range(self, segment: _Segment) -> KeyRange:
        return KeyRange(start=self.edges[segment.lo], end=self.edges[segment.hi])

    def level(self, segments: list[_Segment]) -> list[_Segment]:
        """Checksum (some of) ``segments``; returns the next level (the parts of the differing ones)."""
        stride = max(1, len(segments) // PROBE)
        probe = segments[::stride]
        differing = self._check(probe)
        checked = len(probe)
        rest = [s for i, s in enumerate(segments) if i % stride]
        if rest and self._worth_checking(len(probe) - len(differing), len(probe)):
            differing += self._check(rest)
            checked += len(rest)
        else:
            self.leaves.extend(rest)
        if self.out.levels == 0:
            self.out.equal_ranges = checked - len(differing)
        self.out.levels += 1
        self.out.checksums += checked
        below: list[_Segment] = []
        for seg in differing:
            if seg.hi - seg.lo > 1 and seg.rows >= MIN_BISECT_ROWS:
                parts = _segments(seg.lo, seg.hi, SPLIT)
                below.extend(_Segment(a, b, seg.rows * (b - a) / (seg.hi - seg.lo)) for a, b in parts)
            else:
                self.leaves.append(seg)
        return below

    def _worth_checking(self, equal: int, checked: int) -> bool:
        """Checksumming a segment costs one pass over its rows and saves a read (``read_cost`` passes) when
        it proves equal: worth it while the sample's share of equal segments (smoothed) says so."""
        return (equal + 1) / (checked + 2) * self.sides.read_cost > 1

    def _check(self, segments: list[_Segment]) -> list[_Segment]:
        """Both sides' checksums of ``segments`` (in parallel); the differing ones, with their row counts."""
        ranges = [self.range(s) for s in segments]

        def side(index: int) -> list[Any]:
            connector = (self.sides.left, self.sides.right)[index]
            assert isinstance(connector, ChecksumConnector)
            return connector.range_checksums(self.sides.streams[index], self.sides.columns, ranges)

        left_sums, right_sums = self.pool.map(side, (0, 1))
        differing = []
        for seg, a, b in zip(segments, left_sums, right_sums, strict=True):
            if a == b:
                self.covered[0] += a.count
                self.covered[1] += b.count
            else:
                differing.append(_Segment(seg.lo, seg.hi, max(a.count, b.count)))
        return differing

    def read(self) -> None:
        """The rows (hashes) of every leaf, both sides at once, compared key by key."""
        fetched = self.pool.map(self.sides.fetch, [(i, r) for r in self._coalesced() for i in (0, 1)])
        for left_rows in fetched:
            right_rows = next(fetched)
            self.covered[0] += len(left_rows)
            self.covered[1] += len(right_rows)
            self.out.rows_read += len(left_rows) + len(right_rows)
            _compare(left_rows, right_rows, self.out)

    def _coalesced(self) -> list[KeyRange]:
        """Adjacent leaves merged into reads of at most LEAF_ROWS rows: one query each, not one a range."""
        merged: list[_Segment] = []
        for seg in sorted(self.leaves, key=lambda s: s.lo):
            last = merged[-1] if merged else None
            if last is not None and last.hi == seg.lo and last.rows + seg.rows <= LEAF_ROWS:
                merged[-1] = _Segment(last.lo, seg.hi, last.rows + seg.rows)
            else:
                merged.append(seg)
        return [self.range(s) for s in merged]


def diff_ranges(left: ChecksumConnector, right: ChecksumConnector, stream: str, key: str, columns: Sequence[str],
                boundaries: Sequence[Any], right_stream: str | None = None, workers: int = 4) -> RowDiff:
    """Checksums for ranges on both sides, bisecting those that differ while worth it, then the rows (their
    hashes) of the differing ranges left."""
    started = time.perf_counter()
    sides = _Sides.of(left, right, stream, right_stream, key, columns)
    edges: list[Any] = [None, *boundaries, None]
    out = RowDiff(boundaries=list(boundaries))
    with ThreadPoolExecutor(max(2, workers)) as pool:
        # Every row must be accounted for once (equal segments' counts plus rows read add up to the
        # table's count), or the boundaries do not partition the keys in the database's own order (a
        # collation Python sorts differently). The count comes with a checksum of the key alone (cheap).
        totals = pool.map(lambda i: (left, right)[i].range_checksums(sides.streams[i], [key], [KeyRange()])[0].count,
                          (0, 1))
        walk = _Walk(pool, sides, edges, out)
        level = [_Segment(a, b, 0) for a, b in _segments(0, len(edges) - 1, TARGET_RANGES)]
        out.ranges = len(level)
        tables = list(totals)
        for seg in level:
            seg.rows = max(tables) / len(level)  # an estimate until counted
        while level:
            level = walk.level(level)
        walk.read()
    if walk.covered != tables:
        raise ValueError("key-range boundaries do not partition the table in the database's order")
    out.seconds = time.perf_counter() - started
    return out


def diff_full(left: Connector, right: Connector, stream: str, key: str, columns: Sequence[str],
              right_stream: str | None = None, buckets: int = 64, on_row: Callable[[str, dict[str, Any]], None]
              | None = None) -> RowDiff:
    """The first diff of a mirror: both tables streamed whole (in parallel, row hashes where the database
    computes them), hash-partitioned by key with bounded memory, compared bucket by bucket; the keys seen
    teach the range boundaries for next time."""
    started = time.perf_counter()
    sides = _Sides.of(left, right, stream, right_stream, key, columns)
    sample = Reservoir()
    stores = (BucketStore(buckets), BucketStore(buckets))
    out = RowDiff()

    def stream_side(index: int) -> int:
        count = 0
        for k, digest in sides.hashes(index, None):
            if index == 0:
                sample.add(k)
            stores[index].add(str(k), (k, digest))
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
    out.ranges = min(TARGET_RANGES, len(out.boundaries) + 1)
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
