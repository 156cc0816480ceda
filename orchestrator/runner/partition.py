"""``run_partition``: work a bounded slice of one stream partition's batches, checkpointing each.

The same function runs in-process (``executor=local``: one partition per stream, looped until
done) and, later, inside a Celery task that works a time slice and re-enqueues itself. It is a
function of the job (built from config and the state store), the fenced lease and a time budget;
everything it learns is committed to the state store, batch by batch, before it returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from connectors.base import Batch
from orchestrator.runner import pipeline, twoway
from orchestrator.runner.checkpoint import PartitionResult, commit, cursor_json, read_batches, stop_requested
from orchestrator.runner.deletes import apply_tombstones
from orchestrator.runner.job import StreamJob
from orchestrator.state.types import Lease

__all__ = ["PartitionResult", "run_partition"]


def run_partition(job: StreamJob, lease: Lease, budget_s: float | None = None, *,
                  clock: Callable[[], float] = time.monotonic) -> PartitionResult:
    """Work batches of ``job`` until the stream is read, the time budget is spent, or a cancel arrives.

    Raises what stops the stream (connector errors, ``StaleLeaseError`` when the lease was lost);
    every batch committed before that stays committed.
    """
    deadline = None if budget_s is None else clock() + budget_s
    if job.two_way:
        return twoway.run_two_way(job, lease, deadline, clock)
    result = PartitionResult(done=False)
    state = job.store.get_cursor(job.sync, job.stream, lease.partition)
    start = None if job.options.full_refresh and job.options.dry_run else (state or {}).get("source")
    for batch in read_batches(job, job.source, start):
        outcome = process_one_way(job, batch)
        commit(job, lease, outcome, {"source": cursor_json(batch.cursor, start)} if batch.cursor else None, result)
        start = cursor_json(batch.cursor, start)
        # The time budget ends a slice only where a checkpoint moved: stopping inside a connector page
        # (split into several batches) would re-read the page next slice and never get past it.
        if stop_requested(job, deadline if batch.cursor else None, clock, result):
            return result
    result.done = True
    return result


def process_one_way(job: StreamJob, batch: Batch) -> pipeline.Outcome:
    outcome = pipeline.Outcome()
    pipeline.map_source(job, batch, outcome)
    pairs = pipeline.to_target(job, outcome.rows, outcome)
    pipeline.write_target(job, pairs, outcome)
    apply_tombstones(job, batch.tombstones, outcome)
    return outcome


