"""Partitions of a distributed run: one row per (run, stream, partition), the state store's view of the work.

The ``leases`` table says who may write a partition (owner, epoch); this table says what became of
the partition in one run: its key range or time window, status (queued, running, done, failed,
cancelled), the slice it is on, the deliveries that started it, the worker that has it, which
worker it was taken over from and whether a broker redelivery or the reaper recovered it, its
last error and its progress counts. Every transition a worker makes is fenced by its lease in the
same transaction, so a worker that lost its lease changes nothing here either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orchestrator.state import runs as _runs
from orchestrator.state import schema as t
from orchestrator.state.db import Database, dumps, loads
from orchestrator.state.types import Lease, StaleLeaseError

if TYPE_CHECKING:  # the store imports the migrations, which import this module
    from orchestrator.state.store import StateStore

metadata = sa.MetaData()
TERMINAL = ("done", "failed", "cancelled")
LIVE = ("queued", "running")  # published: a message exists, or should
WAITING = "waiting"  # planned, not published: its stream waits for the streams it looks up

partitions = sa.Table(
    "partitions", metadata,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("stream", sa.String(200), primary_key=True),
    sa.Column("partition", sa.String(200), primary_key=True),
    sa.Column("sync", sa.String(200), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # order within the stream's plan
    sa.Column("kind", sa.String(8), nullable=False),  # key, time, or all (the whole stream)
    sa.Column("bounds", sa.Text),  # {"start": ..., "end": ...} half-open, JSON
    sa.Column("status", sa.String(12), nullable=False),  # waiting, queued, running, done, failed, cancelled
    sa.Column("slice", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),  # deliveries that started the current slice
    sa.Column("worker", sa.String(300)),
    sa.Column("taken_over_from", sa.String(300)),
    sa.Column("recovered_by", sa.String(12)),  # redelivery or reaper (the latest recovery)
    sa.Column("takeovers", sa.Integer, nullable=False),
    sa.Column("republished", sa.Integer, nullable=False),  # times the reaper re-published it
    sa.Column("error", sa.Text),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Column("published_at", t.UTCDateTime()),
    sa.Column("started_at", t.UTCDateTime()),
    sa.Column("finished_at", t.UTCDateTime()),
    sa.Column("updated_at", t.UTCDateTime(), nullable=False),
    sa.Index("ix_partitions_live", "status", "published_at"),
)
P = partitions
L = t.leases


def create(conn: Connection) -> None:
    """Migration 3 (and part of a new store's baseline): create the partitions table if missing."""
    metadata.create_all(conn, checkfirst=True)


@dataclass(frozen=True, slots=True)
class PartitionKey:
    run_id: str
    stream: str
    partition: str


@dataclass(frozen=True, slots=True)
class NewPartition:
    """A partition as the planner registers it."""

    stream: str
    partition: str
    kind: str
    bounds: Mapping[str, Any] | None
    position: int


@dataclass(frozen=True, slots=True)
class PartitionRow:
    """One partition of one run, as workers, reapers and ``crmsync runs show`` see it."""

    run_id: str
    sync: str
    stream: str
    partition: str
    position: int
    kind: str
    bounds: dict[str, Any] | None
    status: str
    slice: int
    attempts: int
    worker: str | None
    taken_over_from: str | None
    recovered_by: str | None
    takeovers: int
    republished: int
    error: str | None
    counts: dict[str, int] = field(default_factory=dict)
    published_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    lease_expires_at: datetime | None = None

    @property
    def key(self) -> PartitionKey:
        return PartitionKey(self.run_id, self.stream, self.partition)


def _where(key: PartitionKey) -> sa.ColumnElement[bool]:
    return (P.c.run_id == key.run_id) & (P.c.stream == key.stream) & (P.c.partition == key.partition)


def _lease_held(lease: Lease) -> sa.ColumnElement[bool]:
    return ((L.c.sync == lease.sync) & (L.c.stream == lease.stream) & (L.c.partition == lease.partition)
            & (L.c.owner == lease.owner) & (L.c.epoch == lease.epoch))


def _row(row: Any, expires: datetime | None = None) -> PartitionRow:
    return PartitionRow(row.run_id, row.sync, row.stream, row.partition, int(row.position), row.kind,
                        loads(row.bounds), row.status, int(row.slice), int(row.attempts), row.worker,
                        row.taken_over_from, row.recovered_by, int(row.takeovers), int(row.republished), row.error,
                        dict(loads(row.counts) or {}), row.published_at, row.started_at, row.finished_at,
                        row.updated_at, expires)


def _new_row(run_id: str, sync: str, p: NewPartition, waits: bool, now: datetime) -> dict[str, Any]:
    return {"run_id": run_id, "stream": p.stream, "partition": p.partition, "sync": sync, "position": p.position,
            "kind": p.kind, "bounds": None if p.bounds is None else dumps(dict(p.bounds)),
            "status": WAITING if waits else "queued", "slice": 0, "attempts": 0, "worker": None,
            "taken_over_from": None, "recovered_by": None, "takeovers": 0, "republished": 0, "error": None,
            "counts": dumps({}), "published_at": None if waits else now, "started_at": None, "finished_at": None,
            "updated_at": now}


def _merge(counts: Mapping[str, int], more: Mapping[str, int]) -> dict[str, int]:
    merged = dict(counts)
    for k, v in more.items():
        merged[k] = merged.get(k, 0) + int(v)
    return merged


class PartitionBook:
    """The partitions of distributed runs in one state store (SQLite or PostgreSQL)."""

    def __init__(self, store: StateStore) -> None:
        self._db: Database = store._db  # the store's engine and clock: one database, one clock

    def now(self) -> datetime:
        return self._db.now()

    # -- planning --------------------------------------------------------------------------------

    def register(self, run_id: str, sync: str, parts: Sequence[NewPartition], *,
                 waiting: Iterable[str] = ()) -> None:
        """Record a run's partitions as queued (slice 0), or ``waiting`` for streams that wait on
        others, all in one transaction."""
        now = self._db.now()
        held = set(waiting)
        rows = [_new_row(run_id, sync, p, p.stream in held, now) for p in parts]
        with self._db.begin() as conn:
            if rows:
                conn.execute(P.insert(), rows)

    # -- reading ---------------------------------------------------------------------------------

    def _select(self) -> sa.Select[Any]:
        join = P.outerjoin(L, (L.c.sync == P.c.sync) & (L.c.stream == P.c.stream) & (L.c.partition == P.c.partition))
        return sa.select(P, L.c.expires_at.label("lease_expires_at")).select_from(join)

    def get(self, key: PartitionKey) -> PartitionRow | None:
        with self._db.begin() as conn:
            row = conn.execute(self._select().where(_where(key))).first()
        return None if row is None else _row(row, row.lease_expires_at)

    def for_run(self, run_id: str) -> list[PartitionRow]:
        """The run's partitions in plan order (stream, position)."""
        query = self._select().where(P.c.run_id == run_id).order_by(P.c.stream, P.c.position, P.c.partition)
        with self._db.begin() as conn:
            return [_row(r, r.lease_expires_at) for r in conn.execute(query)]

    def live(self, run_id: str | None = None) -> list[PartitionRow]:
        """Partitions queued or running (of one run, or of every run): what a reaper looks at."""
        query = self._select().where(P.c.status.in_(LIVE))
        if run_id is not None:
            query = query.where(P.c.run_id == run_id)
        with self._db.begin() as conn:
            return [_row(r, r.lease_expires_at) for r in conn.execute(query.order_by(P.c.published_at))]

    # -- a worker's transitions (fenced by its lease) --------------------------------------------

    def start_slice(self, lease: Lease, key: PartitionKey, slice_no: int, *,
                    recovered_by: str) -> tuple[PartitionRow, bool] | None:
        """Mark the slice started by ``lease.owner``; None when the row moved on (a stale message).

        A slice found ``running`` under another worker was abandoned mid-way (its worker died or
        lost the broker): that is a takeover, recorded with who recovered it. Returns the row and
        whether this start was a takeover.
        """
        now = self._db.now()
        with self._db.begin() as conn:
            self._fence(conn, lease)
            row = conn.execute(sa.select(P).where(_where(key)).with_for_update()).first()
            if row is None or row.slice != slice_no or row.status not in LIVE:
                return None
            values: dict[str, Any] = {"status": "running", "attempts": row.attempts + 1, "worker": lease.owner,
                                      "started_at": row.started_at or now, "updated_at": now}
            took_over = row.status == "running" and bool(row.worker) and row.worker != lease.owner
            if took_over:
                values.update(taken_over_from=row.worker, recovered_by=recovered_by, takeovers=row.takeovers + 1)
            conn.execute(P.update().where(_where(key)).values(**values))
            return _row(conn.execute(sa.select(P).where(_where(key))).one()), took_over

    def add_progress(self, lease: Lease, key: PartitionKey, counts: Mapping[str, int]) -> None:
        """Add batch counts to the partition's progress (fenced: a stale worker adds nothing)."""
        with self._db.begin() as conn:
            self._fence(conn, lease)
            self._add_counts(conn, key, counts, {})

    def continue_slice(self, lease: Lease, key: PartitionKey, counts: Mapping[str, int], *,
                       next_slice: bool, error: str | None = None) -> None:
        """End this delivery with the partition queued again and the lease released.

        ``next_slice``: the time slice ended normally (attempts start over on the next one);
        otherwise the same slice is queued again after an error, which counts as an attempt.
        """
        now = self._db.now()
        with self._db.begin() as conn:
            self._fence(conn, lease, release=True)
            row = conn.execute(sa.select(P.c.slice).where(_where(key))).one()
            values: dict[str, Any] = {"status": "queued", "error": error, "published_at": now}
            if next_slice:
                values.update(slice=row.slice + 1, attempts=0)
            self._add_counts(conn, key, counts, values)

    def finish(self, lease: Lease, key: PartitionKey, status: str, counts: Mapping[str, int],
               error: str | None = None) -> None:
        """Mark the partition done, failed or cancelled and release its lease, in one fenced transaction."""
        if status not in TERMINAL:
            raise ValueError(f"a partition finishes as one of {', '.join(TERMINAL)}")
        now = self._db.now()
        lease_status = "done" if status == "done" else "failed"
        with self._db.begin() as conn:
            self._fence(conn, lease, release=True, lease_status=lease_status)
            self._add_counts(conn, key, counts, {"status": status, "error": error, "finished_at": now})

    def _fence(self, conn: Connection, lease: Lease, *, release: bool = False, lease_status: str | None = None) -> None:
        now = self._db.now()
        values: dict[str, Any] = {"updated_at": now}
        if release:
            values.update(owner=None, expires_at=None)
        else:
            values["expires_at"] = now + timedelta(seconds=lease.ttl_s)
        if lease_status is not None:
            values["status"] = lease_status
        if not conn.execute(L.update().where(_lease_held(lease)).values(**values)).rowcount:
            raise StaleLeaseError(lease)

    def _add_counts(self, conn: Connection, key: PartitionKey, counts: Mapping[str, int],
                    values: dict[str, Any]) -> None:
        row = conn.execute(sa.select(P.c.counts).where(_where(key)).with_for_update()).one()
        merged = _merge(loads(row.counts) or {}, counts)
        conn.execute(P.update().where(_where(key)).values(counts=dumps(merged), updated_at=self._db.now(), **values))

    # -- without a lease: poison, cancel, the reaper ---------------------------------------------

    def settle(self, key: PartitionKey, slice_no: int, status: str, error: str | None) -> bool:
        """End a live partition nobody holds (cancelled before it started); False if it moved on."""
        now = self._db.now()
        with self._db.begin() as conn:
            changed = conn.execute(P.update().where(_where(key) & (P.c.slice == slice_no) & P.c.status.in_(LIVE))
                                   .values(status=status, error=error, finished_at=now, updated_at=now)).rowcount
        return bool(changed)

    def claim_republish(self, row: PartitionRow) -> bool:
        """The reaper's claim to re-publish ``row``: True for exactly one reaper, however many run.

        Conditional on the row being unchanged since it was read (same slice, status and
        publication time), so concurrent reapers and a worker that just picked it up win races.
        """
        now = self._db.now()
        where = (_where(row.key) & (P.c.slice == row.slice) & (P.c.status == row.status)
                 & (P.c.published_at == row.published_at if row.published_at else P.c.published_at.is_(None)))
        with self._db.begin() as conn:
            changed = conn.execute(P.update().where(where).values(
                published_at=now, recovered_by="reaper", republished=P.c.republished + 1, updated_at=now)).rowcount
        return bool(changed)

    def release(self, run_id: str, streams: Iterable[str]) -> list[PartitionRow]:
        """Move waiting partitions of ``streams`` to queued; returns those this caller moved (to publish)."""
        now = self._db.now()
        moved: list[PartitionRow] = []
        with self._db.begin() as conn:
            for stream in streams:
                where = (P.c.run_id == run_id) & (P.c.stream == stream) & (P.c.status == WAITING)
                rows = conn.execute(sa.select(P).where(where).with_for_update()).all()
                if rows:
                    conn.execute(P.update().where(where).values(status="queued", published_at=now, updated_at=now))
                    moved += [_row(r) for r in rows]
        return moved

    def cancel_waiting(self, run_id: str) -> int:
        """A cancelled run's waiting partitions will never start: end them as cancelled."""
        now = self._db.now()
        with self._db.begin() as conn:
            return int(conn.execute(P.update().where((P.c.run_id == run_id) & (P.c.status == WAITING)).values(
                status="cancelled", error="cancel requested", finished_at=now, updated_at=now)).rowcount or 0)

    def running_runs(self) -> list[str]:
        """Runs still ``running`` that have partitions: the ones a reaper keeps moving."""
        query = (sa.select(P.c.run_id).join(t.runs, t.runs.c.run_id == P.c.run_id)
                 .where(t.runs.c.status == "running").distinct())
        with self._db.begin() as conn:
            return list(conn.execute(query).scalars())

    # -- the end of a run ------------------------------------------------------------------------

    def complete_run(self, run_id: str,
                     decide: Callable[[list[PartitionRow]], tuple[str, str, dict[str, Any], dict[str, tuple[str, str]]]]
                     ) -> str | None:
        """Finish the run if every partition is terminal and nobody finished it yet; returns its status.

        ``decide(partitions)`` gives (run status, reason, summary, {stream: (status, error)}). The
        runs row is locked first, so of several workers ending the last partitions, one finishes it.
        """
        now = self._db.now()
        with self._db.begin() as conn:
            run = conn.execute(sa.select(t.runs.c.status).where(t.runs.c.run_id == run_id).with_for_update()).first()
            if run is None or run.status != "running":
                return None
            rows = [_row(r) for r in conn.execute(sa.select(P).where(P.c.run_id == run_id)
                                                   .order_by(P.c.stream, P.c.position))]
            if not rows or any(r.status not in TERMINAL for r in rows):
                return None
            status, reason, summary, streams = decide(rows)
            for stream, (stream_status, error) in streams.items():
                _runs.add_stream_counts(conn, self._db, run_id, stream, {}, status=stream_status, error=error or None)
            conn.execute(t.runs.update().where(t.runs.c.run_id == run_id).values(
                status=status, summary=dumps(summary), error=reason or None, finished_at=now))
        return status


def layout_of(rows: Iterable[PartitionRow], stream: str) -> list[dict[str, Any] | None]:
    """The bounds of a stream's partitions in plan order (to plan the next run the same way)."""
    return [r.bounds for r in sorted(rows, key=lambda r: r.position) if r.stream == stream]


def last_layout(store: StateStore, sync: str, stream: str, kind: str) -> list[dict[str, Any] | None]:
    """The key layout of the stream's most recent partitioned run, so its partition cursors stay valid."""
    db: Database = store._db
    latest = (sa.select(P.c.run_id).where((P.c.sync == sync) & (P.c.stream == stream) & (P.c.kind == kind))
              .order_by(P.c.updated_at.desc()).limit(1)).scalar_subquery()
    query = sa.select(P.c.bounds).where((P.c.run_id == latest) & (P.c.stream == stream)).order_by(P.c.position)
    with db.begin() as conn:
        return [loads(b) for b in conn.execute(query).scalars()]
