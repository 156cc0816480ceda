"""Quarantine: records that could not be read, mapped or written wait here with their reasons.

A record quarantined again while its row is still open updates that row (a nightly sync must not
pile up one row per night per bad record). Reasons are also kept one per row in
``quarantine_reasons`` so grouping by reason code and field is a GROUP BY, not a scan of JSON.
Payloads are personal data: listings leave them out; only ``get`` and ``iter_batches`` return them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mappings.errors import Reason
from orchestrator.state import schema as t
from orchestrator.state.db import Database, chunks, dumps, loads
from orchestrator.state.types import QUARANTINE_STATUSES, QuarantineItem, QuarantineRecord, ReasonGroup

Q = t.quarantine
R = t.quarantine_reasons


def _reasons_json(reasons: Sequence[Reason]) -> str:
    return dumps([{"code": r.code, "field": r.field, "detail": r.detail} for r in reasons])


def _reason_rows(qid: int, reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    return [{"quarantine_id": qid, "position": i, "code": r.code, "field": r.field} for i, r in enumerate(reasons)]


def _open_rows(conn: Connection, items: Sequence[QuarantineItem]) -> dict[tuple[str, ...], int]:
    """Open rows for the same records: (sync, stream, system, object, native_key) -> id."""
    found: dict[tuple[str, ...], int] = {}
    by_scope: dict[tuple[str, str], list[str]] = {}
    for item in items:
        by_scope.setdefault((item.sync, item.stream), []).append(item.native_key)
    for (sync, stream), keys in by_scope.items():
        for part in chunks(dict.fromkeys(keys)):
            rows = conn.execute(sa.select(Q.c.id, Q.c.system, Q.c.object, Q.c.native_key).where(
                (Q.c.sync == sync) & (Q.c.stream == stream) & (Q.c.status == "open") & Q.c.native_key.in_(part)))
            for r in rows:
                found[(sync, stream, r.system, r.object, r.native_key)] = r.id
    return found


def add(conn: Connection, db: Database, items: Sequence[QuarantineItem], *,
        default_run_id: str | None = None) -> list[int]:
    """Quarantine ``items`` inside the caller's transaction; returns their row ids in item order."""
    if not items:
        return []
    now = db.now()
    existing = _open_rows(conn, items)
    ids: list[int] = []
    for item in items:
        values = {"run_id": item.run_id or default_run_id, "stage": item.stage,
                  "reasons": _reasons_json(item.reasons), "updated_at": now,
                  "payload": None if item.payload is None else dumps(dict(item.payload))}
        key = (item.sync, item.stream, item.system, item.object, item.native_key)
        qid = existing.get(key)
        if qid is not None:
            conn.execute(Q.update().where(Q.c.id == qid).values(**values))
            conn.execute(R.delete().where(R.c.quarantine_id == qid))
        else:
            qid = conn.execute(Q.insert().values(
                sync=item.sync, stream=item.stream, system=item.system, object=item.object,
                native_key=item.native_key, attempts=0, status="open", created_at=now, **values
            ).returning(Q.c.id)).scalar_one()
            existing[key] = qid
        if item.reasons:
            conn.execute(R.insert(), _reason_rows(qid, item.reasons))
        ids.append(int(qid))
    return ids


def add_items(db: Database, items: Sequence[QuarantineItem]) -> list[int]:
    with db.begin() as conn:
        return add(conn, db, items)


def resolve_keys(conn: Connection, db: Database, sync: str, stream: str, native_keys: Sequence[str]) -> int:
    """Mark open rows of records now written successfully as resolved; returns rows changed."""
    changed = 0
    for part in chunks(dict.fromkeys(native_keys)):
        changed += conn.execute(Q.update().where(
            (Q.c.sync == sync) & (Q.c.stream == stream) & (Q.c.status == "open") & Q.c.native_key.in_(part))
            .values(status="resolved", updated_at=db.now())).rowcount or 0
    return changed


def _filtered(query: Any, sync: str | None, status: str | None) -> Any:
    if sync is not None:
        query = query.where(Q.c.sync == sync)
    if status is not None:
        query = query.where(Q.c.status == status)
    return query


def groups(db: Database, *, sync: str | None, status: str | None) -> list[ReasonGroup]:
    count = sa.func.count(sa.distinct(Q.c.id)).label("n")
    query = _filtered(sa.select(R.c.code, R.c.field, count).join(Q, Q.c.id == R.c.quarantine_id), sync, status)
    query = query.group_by(R.c.code, R.c.field).order_by(count.desc(), R.c.code, R.c.field)
    with db.begin() as conn:
        return [ReasonGroup(r.code, r.field, int(r.n), sync) for r in conn.execute(query)]


def _record(row: Any, with_payload: bool) -> QuarantineRecord:
    reasons = tuple(Reason(r["code"], r["field"], r.get("detail", "")) for r in loads(row.reasons) or [])
    payload = loads(row.payload) if with_payload else None
    return QuarantineRecord(int(row.id), row.run_id, row.sync, row.stream, row.system, row.object, row.native_key,
                            row.stage, reasons, payload, int(row.attempts), row.status, row.created_at,
                            row.updated_at)


def _columns(with_payload: bool) -> list[Any]:
    return [c for c in Q.c if with_payload or c.name != "payload"]


def list_records(db: Database, *, sync: str | None, status: str | None, limit: int) -> list[QuarantineRecord]:
    query = _filtered(sa.select(*_columns(False)), sync, status).order_by(Q.c.id.desc()).limit(limit)
    with db.begin() as conn:
        return [_record(r, False) for r in conn.execute(query)]


def get(db: Database, qid: int) -> QuarantineRecord | None:
    with db.begin() as conn:
        row = conn.execute(sa.select(Q).where(Q.c.id == qid)).first()
    return None if row is None else _record(row, True)


def iter_batches(db: Database, *, sync: str | None, ids: Sequence[int] | None, status: str | None,
                 batch_size: int) -> Iterator[list[QuarantineRecord]]:
    """Keyset pagination by id: short transactions, flat memory, safe while rows change status."""
    if ids is not None:
        for part in chunks(sorted(set(ids)), batch_size):
            query = _filtered(sa.select(Q).where(Q.c.id.in_(part)), sync, status).order_by(Q.c.id)
            with db.begin() as conn:
                batch = [_record(r, True) for r in conn.execute(query)]
            if batch:
                yield batch
        return
    after = 0
    while True:
        query = _filtered(sa.select(Q).where(Q.c.id > after), sync, status).order_by(Q.c.id).limit(batch_size)
        with db.begin() as conn:
            batch = [_record(r, True) for r in conn.execute(query)]
        if not batch:
            return
        after = batch[-1].id
        yield batch


def mark(db: Database, ids: Sequence[int], status: str) -> int:
    if status not in QUARANTINE_STATUSES:
        raise ValueError(f"quarantine status must be one of {', '.join(QUARANTINE_STATUSES)}, not {status!r}")
    changed = 0
    with db.begin() as conn:
        for part in chunks(sorted(set(ids))):
            changed += conn.execute(Q.update().where(Q.c.id.in_(part)).values(
                status=status, updated_at=db.now())).rowcount or 0
    return changed


def bump_attempts(db: Database, ids: Sequence[int]) -> int:
    changed = 0
    with db.begin() as conn:
        for part in chunks(sorted(set(ids))):
            changed += conn.execute(Q.update().where(Q.c.id.in_(part)).values(
                attempts=Q.c.attempts + 1, updated_at=db.now())).rowcount or 0
    return changed
