"""The state store: runs, fenced leases and checkpoints, the ID cross-reference, quarantine, findings.

One class, one place to read the whole API; each method is a thin call into the module that owns
the idea (runs.py, leases.py, xref.py, quarantine.py, findings.py, privacy.py). SQLAlchemy Core
only. SQLite (WAL, busy timeout) for one machine; PostgreSQL for several workers, where safety
comes from row locks, conditional updates and unique constraints, never from in-process locks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, overload

from orchestrator.state import findings as _findings
from orchestrator.state import leases as _leases
from orchestrator.state import privacy as _privacy
from orchestrator.state import quarantine as _quarantine
from orchestrator.state import runs as _runs
from orchestrator.state import xref as _xref
from orchestrator.state.db import Database, utcnow
from orchestrator.state.migrations import current_version, migrate
from orchestrator.state.types import (
    Finding,
    FindingsDelta,
    FindingStatus,
    ForgetResult,
    Lease,
    PartitionInfo,
    QuarantineItem,
    QuarantineRecord,
    ReasonGroup,
    RunRecord,
    StoredFinding,
    SyncStateRow,
    TrendPoint,
    XrefRow,
)


class StateStore:
    """Everything crmsync remembers between runs. Open with ``StateStore.open(url)``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- lifecycle -------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, schema: str | None = None,
             clock: Callable[[], datetime] = utcnow) -> StateStore:
        """Connect to ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``) and bring the schema up to date.

        ``schema`` puts every table in that PostgreSQL schema (created if missing). ``clock``
        returns aware UTC datetimes; lease expiry uses it, so tests move time without sleeping.
        """
        db = Database.connect(url, schema=schema, clock=clock)
        if migrate:
            _migrate(db)
        return cls(db)

    def close(self) -> None:
        """Release every pooled connection."""
        self._db.engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The URL, with any password hidden."""
        return self._db.engine.url.render_as_string(hide_password=True)

    def schema_version(self) -> int:
        """The migration version the database is at (0 when empty)."""
        with self._db.begin() as conn:
            return current_version(conn)

    # -- runs ------------------------------------------------------------------------------------

    def start_run(self, sync: str, kind: str, params: Mapping[str, Any] | None = None) -> str:
        """Record a run as ``running`` and return its id. ``kind``: sync, reconcile, heal, retry..."""
        return _runs.start_run(self._db, sync, kind, params or {})

    def finish_run(self, run_id: str, status: str, summary: Mapping[str, Any],
                   error: str | None = None) -> None:
        """Close a run with its final status (succeeded, partial, failed, cancelled) and summary."""
        _runs.finish_run(self._db, run_id, status, summary, error)

    def record_stream(self, run_id: str, stream: str, *, status: str, counts: Mapping[str, int] | None = None,
                      error: str | None = None) -> None:
        """Set a stream's status and error, creating its row if needed.

        ``counts`` are ADDED to the stream's counts (``commit_batch`` already adds each batch's
        counts), so pass only increments no batch carried (retries, skipped...), or nothing.
        """
        _runs.record_stream(self._db, run_id, stream, status=status, counts=counts or {}, error=error)

    def list_runs(self, limit: int = 20, sync: str | None = None, *, kind: str | None = None,
                  status: str | None = None) -> list[RunRecord]:
        """The most recent runs first, with their streams."""
        return _runs.list_runs(self._db, limit=limit, sync=sync, kind=kind, status=status)

    def get_run(self, run_id: str) -> RunRecord | None:
        """One run with its streams; a unique prefix of the id is accepted (as printed by ``runs``)."""
        return _runs.get_run(self._db, run_id)

    def request_cancel(self, run_id: str) -> bool:
        """Ask a running run to stop after its current batch; False when it is not running."""
        return _runs.request_cancel(self._db, run_id)

    def is_cancel_requested(self, run_id: str) -> bool:
        """True once someone asked the run to stop (the runner checks between batches)."""
        return _runs.is_cancel_requested(self._db, run_id)

    # -- leases and partitions (fenced) ----------------------------------------------------------

    def acquire_lease(self, sync: str, stream: str, partition: str, owner: str, ttl_s: float) -> Lease | None:
        """Take the partition's lease if it is free, expired, or already ``owner``'s; None if someone else holds it.

        Every grant increments the epoch, so writes of any earlier holder are fenced off.
        """
        return _leases.acquire(self._db, sync, stream, partition, owner, ttl_s)

    def renew_lease(self, lease: Lease) -> Lease:
        """Extend the lease by its TTL; raises StaleLeaseError when its epoch is no longer current."""
        return _leases.renew(self._db, lease)

    def release_lease(self, lease: Lease) -> bool:
        """Give the lease up (idempotent); False when it was no longer ours."""
        return _leases.release(self._db, lease)

    def force_release(self, sync: str, stream: str, partition: str = "0") -> bool:
        """Operator override: free the lease and bump its epoch, so the old holder can no longer write."""
        return _leases.force_release(self._db, sync, stream, partition)

    def list_leases(self, sync: str | None = None, *, live_only: bool = False) -> list[PartitionInfo]:
        """Lease and partition rows, optionally only those held right now."""
        return _leases.list_partitions(self._db, sync=sync, live_only=live_only)

    def plan_partitions(self, run_id: str, sync: str, stream: str,
                        bounds: Mapping[str, Mapping[str, Any] | None]) -> None:
        """Register partitions (name -> key or time bounds) of a stream as ``pending`` for ``run_id``.

        Existing rows keep their epoch (fencing stays monotonic); a held lease is left alone.
        """
        _leases.plan_partitions(self._db, run_id, sync, stream, bounds)

    def finish_partition(self, lease: Lease, status: Literal["done", "failed"] = "done") -> None:
        """Mark the leased partition done (or failed) and release the lease; fenced like a checkpoint."""
        _leases.finish_partition(self._db, lease, status)

    def list_partitions(self, sync: str | None = None, *, run_id: str | None = None,
                        stream: str | None = None) -> list[PartitionInfo]:
        """Partitions with their status and lease, for planners and ``crmsync runs show``."""
        return _leases.list_partitions(self._db, sync=sync, run_id=run_id, stream=stream)

    def orphaned_partitions(self) -> list[PartitionInfo]:
        """Partitions pending or running whose lease is free or expired: what a reaper re-publishes."""
        return _leases.orphaned(self._db)

    # -- checkpoints -----------------------------------------------------------------------------

    def commit_batch(self, lease: Lease, *, cursor: Mapping[str, Any] | None, xref: Sequence[XrefRow] = (),
                     quarantine: Sequence[QuarantineItem] = (), counts: Mapping[str, int] | None = None,
                     run_id: str | None = None, resolved_keys: Sequence[str] = (),
                     sync_state: Sequence[SyncStateRow] = (), relink: Sequence[XrefRow] = ()) -> None:
        """Persist one accepted batch in ONE transaction, fenced by the lease.

        Checks the lease epoch first (raises StaleLeaseError, writing nothing, when another worker
        took over), renews the lease, stores the cursor (None keeps the previous one), adds
        cross-reference rows (existing links are kept), quarantines items, marks open quarantine
        rows of ``resolved_keys`` (native keys written successfully now) resolved, stores two-way
        sync state, and adds ``counts`` to the run's stream row. ``relink`` rows replace existing
        links (what a write taught us: the record it landed on is the source record's twin).
        """
        _leases.commit_batch(self._db, lease, cursor=cursor, xref=xref, quarantine=quarantine,
                             counts=counts or {}, run_id=run_id, resolved_keys=resolved_keys,
                             sync_state=sync_state, relink=relink)

    def get_cursor(self, sync: str, stream: str, partition: str = "0") -> dict[str, Any] | None:
        """The last committed cursor (JSON as given to commit_batch), or None to start from scratch."""
        return _leases.get_cursor(self._db, sync, stream, partition)

    def reset_cursor(self, sync: str, stream: str | None = None) -> int:
        """Forget the cursors of a sync (or one stream), so the next run reads everything; returns rows removed."""
        return _leases.reset_cursor(self._db, sync, stream)

    # -- ID cross-reference ----------------------------------------------------------------------

    def canonical_ids(self, system: str, object: str, native_ids: Iterable[str]) -> dict[str, str]:
        """native id -> canonical id for those already known (batched lookups)."""
        return _xref.canonical_ids(self._db, system, object, native_ids)

    def native_ids(self, system: str, entity: str, canonical_ids: Iterable[str], *,
                   object: str | None = None) -> dict[str, str]:
        """canonical id -> native id in ``system`` (optionally one object) for those known."""
        return _xref.native_ids(self._db, system, entity, canonical_ids, object=object)

    def ensure_canonical_ids(self, system: str, object: str, entity: str, native_ids: Iterable[str]) -> dict[str, str]:
        """native id -> canonical id, assigning new UUIDs to unknown ids; idempotent and race-safe."""
        return _xref.ensure_canonical_ids(self._db, system, object, entity, native_ids)

    def link(self, system: str, object: str, native_id: str, canonical_id: str, entity: str) -> None:
        """Point (system, object, native_id) at ``canonical_id``, replacing any earlier link."""
        _xref.link(self._db, XrefRow(system, object, native_id, canonical_id, entity))

    def customer_view(self, any_id: str) -> list[XrefRow]:
        """Every system's record of the customer behind ``any_id`` (a canonical or any native id)."""
        return _xref.customer_view(self._db, any_id)

    # -- two-way sync state ----------------------------------------------------------------------

    def get_sync_state(self, sync: str, entity: str, canonical_ids: Iterable[str]) -> dict[str, SyncStateRow]:
        """canonical id -> what the two-way sync last wrote, for those it has seen."""
        return _xref.get_sync_state(self._db, sync, entity, canonical_ids)

    # -- quarantine ------------------------------------------------------------------------------

    def add_quarantine(self, items: Sequence[QuarantineItem]) -> list[int]:
        """Quarantine records; an open row for the same record is updated instead of duplicated. Returns ids."""
        return _quarantine.add_items(self._db, items)

    @overload
    def list_quarantine(self, sync: str | None = ..., status: str | None = ...,
                        group_by_reason: Literal[False] = ..., *, limit: int = ...) -> list[QuarantineRecord]: ...

    @overload
    def list_quarantine(self, sync: str | None, status: str | None,
                        group_by_reason: Literal[True], *, limit: int = ...) -> list[ReasonGroup]: ...

    @overload
    def list_quarantine(self, sync: str | None = ..., status: str | None = ..., *,
                        group_by_reason: Literal[True], limit: int = ...) -> list[ReasonGroup]: ...

    def list_quarantine(self, sync: str | None = None, status: str | None = "open", group_by_reason: bool = False,
                        *, limit: int = 100) -> list[QuarantineRecord] | list[ReasonGroup]:
        """Quarantined records (newest first, without payloads), or counts per (reason code, field).

        ``status`` None means every status.
        """
        if group_by_reason:
            return _quarantine.groups(self._db, sync=sync, status=status)
        return _quarantine.list_records(self._db, sync=sync, status=status, limit=limit)

    def get_quarantine(self, id: int) -> QuarantineRecord | None:
        """One quarantined record with its payload."""
        return _quarantine.get(self._db, id)

    def iter_quarantine(self, *, sync: str | None = None, ids: Sequence[int] | None = None,
                        status: str | None = "open", batch_size: int = 500) -> Iterator[list[QuarantineRecord]]:
        """Quarantined records with payloads, in id order, one batch at a time (for ``quarantine retry``)."""
        return _quarantine.iter_batches(self._db, sync=sync, ids=ids, status=status, batch_size=batch_size)

    def mark_quarantine(self, ids: Sequence[int], status: str) -> int:
        """Set the status (open, retried, resolved, discarded) of rows; returns rows changed."""
        return _quarantine.mark(self._db, ids, status)

    def bump_attempts(self, ids: Sequence[int]) -> int:
        """Count one more retry attempt on each row; returns rows changed."""
        return _quarantine.bump_attempts(self._db, ids)

    # -- findings --------------------------------------------------------------------------------

    def upsert_findings(self, job: str, run_id: str, findings: Iterable[Finding], *,
                        resolve_unseen: bool = True) -> FindingsDelta:
        """Store one run's findings of ``job`` and classify them as new, persisting or resolved.

        With ``resolve_unseen`` (the default) every open finding of the job not reported in this
        run becomes resolved. A job that reports in several calls per run (partitions) passes
        False and calls ``resolve_unseen`` once at the end.
        """
        return _findings.upsert(self._db, job, run_id, findings, resolve_unseen=resolve_unseen)

    def resolve_unseen(self, job: str, run_id: str) -> list[StoredFinding]:
        """Resolve the job's open findings that ``run_id`` did not report; returns them."""
        return _findings.resolve_unseen(self._db, job, run_id)

    def list_findings(self, job: str, status: FindingStatus = "open", *, code: str | None = None,
                      limit: int | None = None) -> list[StoredFinding]:
        """Findings of a job by status (open, resolved, all), optionally of one code."""
        return _findings.list_findings(self._db, job, status=status, code=code, limit=limit)

    def findings_trend(self, job: str, limit: int = 52) -> list[TrendPoint]:
        """Per run of the job, oldest first: new, persisting, resolved and open counts (also per code)."""
        return _findings.trend(self._db, job, limit=limit)

    # -- personal data ---------------------------------------------------------------------------

    def purge(self, older_than_days: int) -> dict[str, int]:
        """Delete resolved/discarded quarantine rows and resolved findings older than the retention."""
        return _privacy.purge(self._db, older_than_days)

    def forget(self, identifier: str) -> ForgetResult:
        """Erase one person's data (by canonical id, any native id, or an email): quarantine rows,
        finding values, cross-reference rows and two-way sync state. Returns what was removed."""
        return _privacy.forget(self._db, identifier)


def _migrate(db: Database) -> None:
    migrate(db)
