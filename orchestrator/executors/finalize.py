"""Moving a distributed run on when a partition ends: release waiting streams, then finish the run.

Called by the worker that ended a partition and, as a safety net, by every reaper pass (a worker
may die between ending the last partition and finishing the run). Both steps are claims in the
state store, so any number of callers may race: one releases each stream, one finishes the run.
"""

from __future__ import annotations

import socket
from collections import defaultdict
from typing import Any

import structlog

from connectors.base import Cursor
from orchestrator.executors.base import Publisher, SliceTask
from orchestrator.runner.streams import StreamOutcome
from orchestrator.runner.sync import run_status
from orchestrator.state.partitions import TERMINAL, WAITING, PartitionBook, PartitionRow
from orchestrator.state.store import StateStore
from orchestrator.state.types import RunRecord

log = structlog.get_logger(__name__)
CURSOR_LEASE_TTL_S = 60.0


def advance(store: StateStore, publisher: Publisher, run_id: str) -> str | None:
    """Release streams whose parents ended and finish the run when every partition ended.

    Returns the run's final status when this call finished it, else None.
    """
    run = store.get_run(run_id)
    if run is None or run.status != "running":
        return None
    book = PartitionBook(store)
    rows = book.for_run(run_id)
    if run.cancel_requested:
        book.cancel_waiting(run_id)
    else:
        _release_ready(book, publisher, run, rows)
    _close_time_windows(store, run, rows)
    status = book.complete_run(run_id, summarize)
    if status is not None:
        log.info("run.finished", run_id=run_id, sync=run.sync, status=status, partitions=len(rows))
    return status


def _release_ready(book: PartitionBook, publisher: Publisher, run: RunRecord, rows: list[PartitionRow]) -> None:
    parents: dict[str, list[str]] = dict(run.params.get("parents") or {})
    ended: dict[str, bool] = defaultdict(lambda: True)
    for row in rows:
        ended[row.stream] = ended[row.stream] and row.status in TERMINAL
    ready = sorted({r.stream for r in rows if r.status == WAITING
                    and all(ended[p] for p in parents.get(r.stream, []))})
    for row in book.release(run.run_id, ready):
        publisher.publish(SliceTask(run.run_id, run.sync, row.stream, row.partition, row.slice, "release"))
        log.info("partition.released", run_id=run.run_id, stream=row.stream, partition=row.partition)


def _close_time_windows(store: StateStore, run: RunRecord, rows: list[PartitionRow]) -> None:
    """Streams cut into time windows, all done: their stream cursor moves to the run's start.

    The windows' own checkpoints only serve this run; the next incremental run (local or
    partitioned) starts from the stream cursor, as if one worker had read up to the run's start.
    """
    by_stream: dict[str, list[PartitionRow]] = defaultdict(list)
    for row in rows:
        if row.kind == "time":
            by_stream[row.stream].append(row)
    for stream, parts in by_stream.items():
        if all(p.status == "done" for p in parts):
            _commit_stream_cursor(store, run, stream)


def _commit_stream_cursor(store: StateStore, run: RunRecord, stream: str) -> None:
    lease = store.acquire_lease(run.sync, stream, "0", f"planner:{socket.gethostname()}", CURSOR_LEASE_TTL_S)
    if lease is None:  # a local run holds the stream: it keeps its own cursor; ours would only save re-reading
        log.warning("run.stream_cursor_skipped", run_id=run.run_id, stream=stream)
        return
    try:
        cursor = {"source": Cursor(value=run.started_at).to_json()}
        store.commit_batch(lease, cursor=cursor, run_id=None)
    finally:
        store.release_lease(lease)


def summarize(rows: list[PartitionRow]) -> tuple[str, str, dict[str, Any], dict[str, tuple[str, str]]]:
    """Run status, reason, summary and per-stream (status, error) from ended partitions."""
    by_stream: dict[str, list[PartitionRow]] = defaultdict(list)
    for row in rows:
        by_stream[row.stream].append(row)
    outcomes = [_stream_outcome(stream, parts) for stream, parts in by_stream.items()]
    status, reason = run_status(outcomes)
    totals: dict[str, int] = {}
    for row in rows:
        for k, v in row.counts.items():
            totals[k] = totals.get(k, 0) + v
    summary = {"status": status, "reason": reason, "totals": totals,
               "partitions": {"total": len(rows), **_count(r.status for r in rows),
                              "taken_over": sum(1 for r in rows if r.takeovers),
                              "republished_by_reaper": sum(r.republished for r in rows)},
               "streams": {o.stream: {"status": o.status, "reason": o.reason, "partitions": len(by_stream[o.stream])}
                           for o in outcomes}}
    return status, reason, summary, {o.stream: (o.status, o.reason) for o in outcomes}


def _stream_outcome(stream: str, parts: list[PartitionRow]) -> StreamOutcome:
    statuses = {p.status for p in parts}
    bad = [p for p in parts if p.status != "done"]
    if not bad:
        return StreamOutcome(stream)
    first = next((p.error for p in bad if p.error), None) or bad[0].status
    reason = f"{len(bad)} of {len(parts)} partitions {'/'.join(sorted(statuses - {'done'}))}: {first}"
    if statuses == {"cancelled"} or statuses == {"cancelled", "done"}:
        return StreamOutcome(stream, "cancelled" if statuses == {"cancelled"} else "partial", reason)
    return StreamOutcome(stream, "failed" if "done" not in statuses else "partial", reason)


def _count(statuses: Any) -> dict[str, int]:
    found: dict[str, int] = {}
    for status in statuses:
        found[status] = found.get(status, 0) + 1
    return found
