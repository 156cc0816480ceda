"""Fenced leases, partitions and checkpoints.

A lease row per (sync, stream, partition) holds the owner, an epoch and an expiry. Every grant
increments the epoch; every checkpoint write is a conditional UPDATE on (owner, epoch), done first
in its transaction, so a worker that lost its lease (paused, partitioned, slow) writes nothing: the
UPDATE matches zero rows and StaleLeaseError rolls everything back. On PostgreSQL the UPDATE also
takes the row lock, so an acquirer racing a commit waits for it and then sees the renewed expiry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orchestrator.state import quarantine as _quarantine
from orchestrator.state import runs as _runs
from orchestrator.state import schema as t
from orchestrator.state import xref as _xref
from orchestrator.state.db import Database, dumps, loads
from orchestrator.state.types import Lease, PartitionInfo, QuarantineItem, StaleLeaseError, SyncStateRow, XrefRow

L = t.leases


def _key(sync: str, stream: str, partition: str) -> sa.ColumnElement[bool]:
    return (L.c.sync == sync) & (L.c.stream == stream) & (L.c.partition == partition)


def _held(lease: Lease) -> sa.ColumnElement[bool]:
    return _key(lease.sync, lease.stream, lease.partition) & (L.c.owner == lease.owner) & (L.c.epoch == lease.epoch)


def _ensure_row(conn: Connection, db: Database, sync: str, stream: str, partition: str) -> None:
    db.insert_ignore(conn, L, [{"sync": sync, "stream": stream, "partition": partition, "owner": None,
                                "epoch": 0, "expires_at": None, "status": "pending", "run_id": None,
                                "bounds": None, "updated_at": db.now()}], ["sync", "stream", "partition"])


def acquire(db: Database, sync: str, stream: str, partition: str, owner: str, ttl_s: float) -> Lease | None:
    now = db.now()
    expires = now + timedelta(seconds=ttl_s)
    with db.begin() as conn:
        _ensure_row(conn, db, sync, stream, partition)
        free = L.c.owner.is_(None) | L.c.expires_at.is_(None) | (L.c.expires_at <= now) | (L.c.owner == owner)
        granted = conn.execute(L.update().where(_key(sync, stream, partition) & free).values(
            owner=owner, epoch=L.c.epoch + 1, expires_at=expires, updated_at=now,
            status=sa.case((L.c.status == "pending", "running"), else_=L.c.status))).rowcount
        if not granted:
            return None
        epoch = conn.execute(sa.select(L.c.epoch).where(_key(sync, stream, partition))).scalar_one()
    return Lease(sync, stream, partition, owner, int(epoch), expires, float(ttl_s))


def _renew(conn: Connection, db: Database, lease: Lease) -> Lease:
    now = db.now()
    expires = now + timedelta(seconds=lease.ttl_s)
    if not conn.execute(L.update().where(_held(lease)).values(expires_at=expires, updated_at=now)).rowcount:
        raise StaleLeaseError(lease)
    return Lease(lease.sync, lease.stream, lease.partition, lease.owner, lease.epoch, expires, lease.ttl_s)


def renew(db: Database, lease: Lease) -> Lease:
    with db.begin() as conn:
        return _renew(conn, db, lease)


def release(db: Database, lease: Lease) -> bool:
    with db.begin() as conn:
        return bool(conn.execute(L.update().where(_held(lease)).values(
            owner=None, expires_at=None, updated_at=db.now())).rowcount)


def force_release(db: Database, sync: str, stream: str, partition: str) -> bool:
    with db.begin() as conn:
        return bool(conn.execute(L.update().where(_key(sync, stream, partition)).values(
            owner=None, expires_at=None, epoch=L.c.epoch + 1, updated_at=db.now())).rowcount)


def plan_partitions(db: Database, run_id: str, sync: str, stream: str,
                    bounds: Mapping[str, Mapping[str, Any] | None]) -> None:
    with db.begin() as conn:
        for partition, bound in bounds.items():
            _ensure_row(conn, db, sync, stream, partition)
            conn.execute(L.update().where(_key(sync, stream, partition)).values(
                status=sa.case((L.c.owner.is_not(None) & (L.c.expires_at > db.now()), L.c.status),
                               else_="pending"),
                run_id=run_id, bounds=None if bound is None else dumps(dict(bound)), updated_at=db.now()))


def finish_partition(db: Database, lease: Lease, status: str) -> None:
    if status not in ("done", "failed"):
        raise ValueError("a partition finishes as done or failed")
    with db.begin() as conn:
        if not conn.execute(L.update().where(_held(lease)).values(
                status=status, owner=None, expires_at=None, updated_at=db.now())).rowcount:
            raise StaleLeaseError(lease)


def _info(row: Any) -> PartitionInfo:
    return PartitionInfo(row.sync, row.stream, row.partition, row.status, row.owner, int(row.epoch),
                         row.expires_at, row.run_id, loads(row.bounds), row.updated_at)


def list_partitions(db: Database, *, sync: str | None = None, run_id: str | None = None,
                    stream: str | None = None, live_only: bool = False) -> list[PartitionInfo]:
    query = sa.select(L).order_by(L.c.sync, L.c.stream, L.c.partition)
    for column, value in ((L.c.sync, sync), (L.c.run_id, run_id), (L.c.stream, stream)):
        if value is not None:
            query = query.where(column == value)
    if live_only:
        query = query.where(L.c.owner.is_not(None) & (L.c.expires_at > db.now()))
    with db.begin() as conn:
        return [_info(r) for r in conn.execute(query)]


def orphaned(db: Database) -> list[PartitionInfo]:
    now = db.now()
    query = sa.select(L).where(L.c.status.in_(("pending", "running"))
                               & (L.c.owner.is_(None) | L.c.expires_at.is_(None) | (L.c.expires_at <= now)))
    with db.begin() as conn:
        return [_info(r) for r in conn.execute(query.order_by(L.c.updated_at))]


def commit_batch(db: Database, lease: Lease, *, cursor: Mapping[str, Any] | None, xref: Sequence[XrefRow],
                 quarantine: Sequence[QuarantineItem], counts: Mapping[str, int], run_id: str | None,
                 resolved_keys: Sequence[str], sync_state: Sequence[SyncStateRow],
                 relink: Sequence[XrefRow] = ()) -> None:
    with db.begin() as conn:
        _renew(conn, db, lease)  # first: the fence (and the row lock on PostgreSQL)
        if cursor is not None:
            _put_cursor(conn, db, lease, cursor, run_id)
        _xref.insert_links(conn, db, xref, count=False)
        if relink:
            _xref.relink_rows(conn, db, relink)
        if resolved_keys:
            _quarantine.resolve_keys(conn, db, lease.sync, lease.stream, resolved_keys)
        _quarantine.add(conn, db, quarantine, default_run_id=run_id)
        _xref.put_sync_state(conn, db, sync_state)
        if run_id is not None and counts:
            _runs.add_stream_counts(conn, db, run_id, lease.stream, counts)


def _put_cursor(conn: Connection, db: Database, lease: Lease, cursor: Mapping[str, Any], run_id: str | None) -> None:
    C = t.checkpoints
    key = (C.c.sync == lease.sync) & (C.c.stream == lease.stream) & (C.c.partition == lease.partition)
    values = {"cursor": dumps(dict(cursor)), "epoch": lease.epoch, "run_id": run_id, "updated_at": db.now()}
    if not conn.execute(C.update().where(key).values(**values)).rowcount:
        # The lease row lock serialises holders of this partition, so a plain insert cannot race.
        conn.execute(C.insert().values(sync=lease.sync, stream=lease.stream, partition=lease.partition, **values))


def get_cursor(db: Database, sync: str, stream: str, partition: str) -> dict[str, Any] | None:
    C = t.checkpoints
    with db.begin() as conn:
        text = conn.execute(sa.select(C.c.cursor).where(
            (C.c.sync == sync) & (C.c.stream == stream) & (C.c.partition == partition))).scalar()
    value = loads(text)
    return dict(value) if isinstance(value, dict) else None


def reset_cursor(db: Database, sync: str, stream: str | None) -> int:
    C = t.checkpoints
    where = C.c.sync == sync
    if stream is not None:
        where = where & (C.c.stream == stream)
    with db.begin() as conn:
        return int(conn.execute(C.delete().where(where)).rowcount or 0)
