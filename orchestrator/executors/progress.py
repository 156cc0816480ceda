"""A slice's progress counts, written to its partition row every few seconds (not every batch)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from orchestrator.runner.observe import BatchReport, NullObserver
from orchestrator.state.partitions import PartitionBook, PartitionKey
from orchestrator.state.types import Lease

_FIELDS = ("read", "written", "quarantined", "deleted", "conflicts", "skipped")


class ProgressObserver(NullObserver):
    """Adds each committed batch's counts to the partition, at most every ``every_s`` seconds.

    What is not flushed yet is handed to the slice's final transition (``remainder``), so the
    partition's counts add up to the slice's however often the observer wrote.
    """

    def __init__(self, book: PartitionBook, lease: Lease, key: PartitionKey, every_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.book, self.lease, self.key, self.every_s, self.clock = book, lease, key, every_s, clock
        self.pending: dict[str, int] = {}
        self.flushed: dict[str, int] = {}
        self._last = clock()

    def batch_committed(self, report: BatchReport) -> None:
        for name in _FIELDS:
            value = int(getattr(report, name))
            if value:
                self.pending[name] = self.pending.get(name, 0) + value
        if self.clock() - self._last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        self._last = self.clock()
        if not self.pending:
            return
        self.book.add_progress(self.lease, self.key, self.pending)  # fenced: StaleLeaseError stops the slice
        for k, v in self.pending.items():
            self.flushed[k] = self.flushed.get(k, 0) + v
        self.pending = {}

    def remainder(self, totals: Mapping[str, int] | None = None) -> dict[str, int]:
        """What the final transition must still add: the slice's totals minus what was flushed."""
        if totals is None:
            return dict(self.pending)
        return {k: v - self.flushed.get(k, 0) for k, v in totals.items() if v - self.flushed.get(k, 0)}
