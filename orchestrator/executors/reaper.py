"""The reaper: re-publish partitions whose message is gone, so no partition waits forever.

A message can vanish in ways the broker's redelivery does not cover: a delivery acknowledged too
early (Celery's defaults on a killed pool process), a publish lost in a broker failover, a purged
queue, a worker that died between committing a slice and publishing the next, a message
dead-lettered after its delivery limit. The state store knows better than the broker:

* a ``running`` partition whose lease expired more than a grace period ago has nobody working it;
* a ``queued`` partition published long ago while the queue is empty has no message left.

Each is claimed with a conditional update (one reaper wins, however many run) and published
again; a copy that turns out to be a duplicate finds its slice moved on and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog

from orchestrator.executors import finalize
from orchestrator.executors.base import ExecutionSettings, Publisher, SliceTask
from orchestrator.state.partitions import PartitionBook, PartitionRow
from orchestrator.state.store import StateStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Reaped:
    """A partition the reaper published again, and why."""

    run_id: str
    stream: str
    partition: str
    slice: int
    reason: str


def reap(store: StateStore, publisher: Publisher, settings: ExecutionSettings) -> list[Reaped]:
    """One pass: re-publish orphaned partitions, then move every running run on (release, finish)."""
    book = PartitionBook(store)
    reaped: list[Reaped] = []
    queue_empty: bool | None = None
    for row in book.live():
        reason = _expired(book, row, settings)
        if reason is None and _forgotten(book, row, settings):
            if queue_empty is None:
                queue_empty = publisher.queue_is_empty() is True
            reason = "published long ago, not in the queue" if queue_empty else None
        if reason is not None and book.claim_republish(row):
            publisher.publish(SliceTask(row.run_id, row.sync, row.stream, row.partition, row.slice, "reaper"))
            log.warning("partition.reaped", run_id=row.run_id, stream=row.stream, partition=row.partition,
                        slice=row.slice, worker=row.worker, reason=reason)
            reaped.append(Reaped(row.run_id, row.stream, row.partition, row.slice, reason))
    for run_id in book.running_runs():
        finalize.advance(store, publisher, run_id)
    return reaped


def _expired(book: PartitionBook, row: PartitionRow, settings: ExecutionSettings) -> str | None:
    """A running partition nobody renews: its lease expired a grace period ago."""
    if row.status != "running":
        return None
    cutoff = book.now() - timedelta(seconds=settings.running_grace_s)
    if row.published_at is not None and row.published_at > book.now() - _patience(row, settings.running_grace_s):
        return None  # published (or re-published) recently: that copy may still wait in the queue
    if row.lease_expires_at is None or row.lease_expires_at <= cutoff:
        return "lease expired"
    return None


def _patience(row: PartitionRow, grace_s: float) -> timedelta:
    """Grace doubled per earlier re-publication (at most 16x): copies queued behind busy workers are
    not copied again every pass, yet a copy that was lost too is replaced."""
    return timedelta(seconds=grace_s * min(16, 2 ** row.republished))


def _forgotten(book: PartitionBook, row: PartitionRow, settings: ExecutionSettings) -> bool:
    """A queued partition published so long ago that its message should have been taken."""
    if row.status != "queued" or row.published_at is None:
        return False
    return row.published_at <= book.now() - _patience(row, settings.queued_grace_s)
