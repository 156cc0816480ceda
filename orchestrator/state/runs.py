"""Run history: one row per run, one per stream of a run, counts accumulated batch by batch."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orchestrator.state import schema as t
from orchestrator.state.db import Database, dumps, loads
from orchestrator.state.types import RUN_STATUSES, RunRecord, StateStoreError, StreamRecord


def new_run_id() -> str:
    # Unique without coordination between workers; runs are ordered by started_at, not by id.
    return uuid.uuid4().hex


def start_run(db: Database, sync: str, kind: str, params: Mapping[str, Any]) -> str:
    run_id = new_run_id()
    with db.begin() as conn:
        conn.execute(t.runs.insert().values(
            run_id=run_id, sync=sync, kind=kind, params=dumps(dict(params)), status="running",
            summary=dumps({}), error=None, cancel_requested=False, started_at=db.now(), finished_at=None))
    return run_id


def finish_run(db: Database, run_id: str, status: str, summary: Mapping[str, Any], error: str | None) -> None:
    if status not in RUN_STATUSES or status == "running":
        raise ValueError(f"a run finishes as one of {', '.join(RUN_STATUSES[1:])}, not {status!r}")
    with db.begin() as conn:
        done = conn.execute(t.runs.update().where(t.runs.c.run_id == run_id).values(
            status=status, summary=dumps(dict(summary)), error=error, finished_at=db.now())).rowcount
    if not done:
        raise StateStoreError(f"unknown run {run_id}")


def add_stream_counts(conn: Connection, db: Database, run_id: str, stream: str, counts: Mapping[str, int],
                      *, status: str | None = None, error: str | None = None) -> None:
    """Add ``counts`` to a run's stream row (created if missing), under a row lock."""
    table = t.run_streams
    where = (table.c.run_id == run_id) & (table.c.stream == stream)
    now = db.now()
    row = conn.execute(sa.select(table.c.counts).where(where).with_for_update()).first()
    if row is None:
        inserted = db.insert_ignore(conn, table, [{
            "run_id": run_id, "stream": stream, "status": status or "running", "counts": dumps({}),
            "error": None, "started_at": now, "updated_at": now}], ["run_id", "stream"])
        del inserted  # another worker may have created it first; either way lock it and add
        row = conn.execute(sa.select(table.c.counts).where(where).with_for_update()).one()
    merged: dict[str, int] = dict(loads(row.counts) or {})
    for key, value in counts.items():
        merged[key] = merged.get(key, 0) + int(value)
    values: dict[str, Any] = {"counts": dumps(merged), "updated_at": now}
    if status is not None:
        values["status"] = status
        values["error"] = error
    conn.execute(table.update().where(where).values(**values))


def record_stream(db: Database, run_id: str, stream: str, *, status: str, counts: Mapping[str, int],
                  error: str | None) -> None:
    with db.begin() as conn:
        if conn.execute(sa.select(t.runs.c.run_id).where(t.runs.c.run_id == run_id)).first() is None:
            raise StateStoreError(f"unknown run {run_id}")
        add_stream_counts(conn, db, run_id, stream, counts, status=status, error=error)


def _streams(conn: Connection, run_ids: list[str]) -> dict[str, list[StreamRecord]]:
    found: dict[str, list[StreamRecord]] = {run_id: [] for run_id in run_ids}
    if not run_ids:
        return found
    rows = conn.execute(sa.select(t.run_streams).where(t.run_streams.c.run_id.in_(run_ids))
                        .order_by(t.run_streams.c.started_at, t.run_streams.c.stream))
    for r in rows:
        found[r.run_id].append(StreamRecord(r.stream, r.status, loads(r.counts) or {}, r.error,
                                            r.started_at, r.updated_at))
    return found


def _record(row: Any, streams: list[StreamRecord]) -> RunRecord:
    return RunRecord(row.run_id, row.sync, row.kind, loads(row.params) or {}, row.status,
                     loads(row.summary) or {}, row.error, bool(row.cancel_requested), row.started_at,
                     row.finished_at, tuple(streams))


def list_runs(db: Database, *, limit: int, sync: str | None, kind: str | None, status: str | None
              ) -> list[RunRecord]:
    query = sa.select(t.runs).order_by(t.runs.c.started_at.desc(), t.runs.c.run_id).limit(limit)
    for column, value in ((t.runs.c.sync, sync), (t.runs.c.kind, kind), (t.runs.c.status, status)):
        if value is not None:
            query = query.where(column == value)
    with db.begin() as conn:
        rows = conn.execute(query).all()
        streams = _streams(conn, [r.run_id for r in rows])
    return [_record(r, streams[r.run_id]) for r in rows]


def get_run(db: Database, run_id: str) -> RunRecord | None:
    """By full id, or by a unique prefix of at least 6 characters."""
    with db.begin() as conn:
        row = conn.execute(sa.select(t.runs).where(t.runs.c.run_id == run_id)).first()
        if row is None and len(run_id) >= 6:
            matches = conn.execute(sa.select(t.runs).where(t.runs.c.run_id.startswith(run_id, autoescape=True))
                                   .limit(2)).all()
            if len(matches) > 1:
                raise StateStoreError(f"run id prefix {run_id} is ambiguous; give more characters")
            row = matches[0] if matches else None
        if row is None:
            return None
        return _record(row, _streams(conn, [row.run_id])[row.run_id])


def request_cancel(db: Database, run_id: str) -> bool:
    with db.begin() as conn:
        changed = conn.execute(t.runs.update().where((t.runs.c.run_id == run_id) & (t.runs.c.status == "running"))
                               .values(cancel_requested=True)).rowcount
    return bool(changed)


def is_cancel_requested(db: Database, run_id: str) -> bool:
    with db.begin() as conn:
        value = conn.execute(sa.select(t.runs.c.cancel_requested).where(t.runs.c.run_id == run_id)).scalar()
    return bool(value)
