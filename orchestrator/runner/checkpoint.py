"""Checkpoints: reading batches within the run's bounds, and committing each batch in one fenced transaction.

Shared by one-way and two-way partitions. The kill points of the crash test sit here, around
the moments that matter: after a read, between a target write and its checkpoint, after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from connectors.base import Batch, Cursor, KeyRange, ReadRange, TimeWindow
from orchestrator.runner import pipeline
from orchestrator.runner.job import Side, StreamJob
from orchestrator.runner.observe import BatchReport
from orchestrator.state.types import Lease, SyncStateRow

log = structlog.get_logger(__name__)
PREVIEW_LIMIT = 100  # records kept per stream slice to show what a dry run would write


@dataclass(slots=True)
class PartitionResult:
    """What a slice did: ``done`` when the partition has nothing more to read in this run."""

    done: bool
    counts: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)

    def absorb(self, counts: dict[str, int]) -> None:
        for k, v in counts.items():
            self.counts[k] = self.counts.get(k, 0) + v


def read_batches(job: StreamJob, side: Side, start: dict[str, Any] | None) -> Iterator[Batch]:
    """The source's batches from ``start``, at most ``job.batch_size`` records each, never past the run's
    start time where the stream has a time cursor, and within the job's key range or time window.

    A connector page larger than the sync's batch size is cut into pieces; only the last piece
    carries the page's cursor, so a crash inside a page re-reads that page, never skips part of it.
    """
    timed = time_cursor(side)
    read_range = bounded_range(job, timed, side.timezone)
    for page in side.connector.read(side.object, Cursor.from_json(start), range=read_range):
        # A key range cannot carry the time bound too: a page reaching past the run's start is
        # written but its cursor is not kept, and the partition ends there (the next run re-reads it).
        past = timed and isinstance(read_range, KeyRange) and past_start(page.cursor, job, side)
        if past:
            page = Batch(records=page.records, cursor=None, tombstones=page.tombstones, errors=page.errors)
        for batch in split(page, job.batch_size):
            job.kill.hit("after_read")
            yield batch
        if past:
            return


def bounded_range(job: StreamJob, timed: bool, zone: str | None = None) -> ReadRange | None:
    """The job's range (a partition's, or the whole stream), its time window ending at the run's start.

    The end is given in the system's zone (``zone``): a system of naive local times compares its
    wall times with it, and an aware value still names the same instant for everyone else.
    """
    started = job.options.started_at.astimezone(ZoneInfo(zone)) if zone else job.options.started_at
    read_range = job.read_range
    if read_range is None:
        return TimeWindow(end=started) if timed else None
    if isinstance(read_range, TimeWindow) and timed:
        end = started if read_range.end is None else min(read_range.end, started)
        return TimeWindow(start=read_range.start, end=end)
    return read_range


def past_start(cursor: Cursor | None, job: StreamJob, side: Side) -> bool:
    """True when a page's cursor (a date-time) is later than the run's start."""
    value = cursor.value if cursor is not None else None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return False
    if not isinstance(value, datetime):
        return False
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(side.timezone or "UTC"))
    return value > job.options.started_at


def split(page: Batch, size: int) -> Iterator[Batch]:
    if len(page.records) <= size:
        yield page
        return
    starts = range(0, len(page.records), size)
    for n, at in enumerate(starts):
        last = n == len(starts) - 1
        yield Batch(records=page.records[at:at + size], cursor=page.cursor if last else None,
                    tombstones=page.tombstones if last else [], errors=page.errors if n == 0 else [])


def time_cursor(side: Side) -> bool:
    """True when the stream's cursor field is a date-time (so a time window can bound the read)."""
    spec = side.stream_spec
    if spec is None or spec.cursor_field is None:
        return False
    found = spec.field(spec.cursor_field)
    return found is not None and found.type == "datetime"


def commit(job: StreamJob, lease: Lease, outcome: pipeline.Outcome, cursor: dict[str, Any] | None,
           result: PartitionResult, sync_state: Sequence[SyncStateRow] = ()) -> None:
    """Checkpoint the batch (cursor, xref, quarantine, counts, sync state) in one fenced transaction."""
    if job.options.dry_run:  # the preview is for a person to read: keep memory flat on big dry runs
        result.preview.extend(outcome.preview[:max(0, PREVIEW_LIMIT - len(result.preview))])
        result.absorb(outcome.counts)
        return
    if job.options.ids:
        cursor = None  # a partial re-sync of chosen records must not move the stream's cursor
    job.kill.hit("after_write_before_commit")
    job.store.commit_batch(lease, cursor=cursor, xref=outcome.xref, quarantine=outcome.quarantine,
                           counts=outcome.counts, run_id=job.options.run_id, resolved_keys=outcome.resolved_keys,
                           sync_state=sync_state, relink=outcome.relink)
    job.kill.hit("after_commit")
    result.absorb(outcome.counts)
    report = BatchReport(job.sync, job.stream, outcome.counts.get("read", 0), outcome.counts.get("written", 0),
                         outcome.counts.get("quarantined", 0), outcome.counts.get("deleted", 0),
                         outcome.counts.get("conflicts", 0), outcome.counts.get("skipped", 0),
                         round((time.perf_counter() - outcome.started) * 1000, 1))
    log.info("sync.batch.written", read=report.read, written=report.written, quarantined=report.quarantined,
             deleted=report.deleted, conflicts=report.conflicts, ms=report.ms)
    for item in outcome.quarantine:
        log.info("record.quarantined", native_key=item.native_key, stage=item.stage,
                 codes=sorted({r.code for r in item.reasons}), fields=sorted({r.field for r in item.reasons}))
    job.observer.batch_committed(report)


def stop_requested(job: StreamJob, deadline: float | None, clock: Callable[[], float],
                   result: PartitionResult) -> bool:
    """Between batches: a cancel request ends the stream; a spent time budget ends the slice."""
    if not job.options.dry_run and job.store.is_cancel_requested(job.options.run_id):
        result.cancelled = True
        return True
    return deadline is not None and clock() >= deadline


def cursor_json(cursor: Cursor | None, previous: dict[str, Any] | None) -> dict[str, Any] | None:
    return previous if cursor is None else cursor.to_json()
