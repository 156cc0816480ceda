"""Hash partitions that spill to disk: how reconciliation keeps memory flat while sides grow.

Records are appended to one of N buckets by the hash of a key. Buckets live in memory until the
store holds more than ``max_in_memory`` records, then every bucket's buffer is appended to its own
file as a pickled chunk. Reading a bucket back returns its records in insertion order, so two sides
partitioned by the same key meet in the same bucket and can be joined one bucket at a time.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

DEFAULT_BUCKETS = 64
DEFAULT_MAX_IN_MEMORY = 100_000


class Budget:
    """One memory bound shared by several stores: past it, every store spills its buffers to disk."""

    def __init__(self, limit: int = DEFAULT_MAX_IN_MEMORY) -> None:
        self.limit = limit
        self.used = 0
        self.stores: list[BucketStore] = []

    def charge(self, count: int = 1) -> None:
        self.used += count
        if self.used >= self.limit:
            for store in self.stores:
                store.flush()
            self.used = 0


class BucketStore:
    """N hash buckets of arbitrary picklable items, in memory up to a bound and on disk beyond it."""

    def __init__(self, buckets: int = DEFAULT_BUCKETS, max_in_memory: int = DEFAULT_MAX_IN_MEMORY,
                 workdir: Path | None = None, budget: Budget | None = None) -> None:
        self.buckets = max(1, buckets)
        self.max_in_memory = max_in_memory
        self.budget = budget
        if budget is not None:
            budget.stores.append(self)
        self._workdir = workdir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._buffers: list[list[Any]] = [[] for _ in range(self.buckets)]
        self._files: list[BinaryIO | None] = [None] * self.buckets
        self._buffered = 0
        self.count = 0
        self.spilled = False

    def bucket_of(self, key: str) -> int:
        return hash(key) % self.buckets

    def add(self, key: str, item: Any) -> None:
        self._buffers[hash(key) % self.buckets].append(item)
        self._buffered += 1
        self.count += 1
        if self.budget is not None:
            self.budget.charge()
        elif self._buffered >= self.max_in_memory:
            self.flush()

    def extend(self, keyed: list[tuple[str, Any]]) -> None:
        """Several (key, item) at once: the memory bound is checked once for all of them."""
        buffers, buckets = self._buffers, self.buckets
        for key, item in keyed:
            buffers[hash(key) % buckets].append(item)
        self._buffered += len(keyed)
        self.count += len(keyed)
        if self.budget is not None:
            self.budget.charge(len(keyed))
        elif self._buffered >= self.max_in_memory:
            self.flush()

    def flush(self) -> None:
        """Append every non-empty buffer to its bucket file."""
        if not self._buffered:
            return
        for index, buffer in enumerate(self._buffers):
            if buffer:
                pickle.dump(buffer, self._file(index), protocol=pickle.HIGHEST_PROTOCOL)
                self._buffers[index] = []
        self._buffered = 0
        self.spilled = True

    def _file(self, index: int) -> BinaryIO:
        handle = self._files[index]
        if handle is None:
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="crmsync-reconcile-", dir=self._workdir)
            handle = open(Path(self._tmp.name) / f"b{index:05d}.pkl", "w+b")  # closed in close()
            self._files[index] = handle
        return handle

    def bucket(self, index: int) -> list[Any]:
        """Every item of one bucket, spilled chunks first, in insertion order."""
        items: list[Any] = []
        handle = self._files[index]
        if handle is not None:
            handle.flush()
            handle.seek(0)
            while True:
                try:
                    items.extend(pickle.load(handle))  # our own temp file, written above
                except EOFError:
                    break
            handle.seek(0, 2)
        items.extend(self._buffers[index])
        return items

    def __iter__(self) -> Iterator[list[Any]]:
        for index in range(self.buckets):
            yield self.bucket(index)

    def close(self) -> None:
        if self.budget is not None and self in self.budget.stores:
            self.budget.stores.remove(self)
        for handle in self._files:
            if handle is not None:
                handle.close()
        self._files = [None] * self.buckets
        self._buffers = [[] for _ in range(self.buckets)]
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> BucketStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
