"""The ID cross-reference: which native record in which system is which canonical record.

New canonical ids are assigned race-free: every caller inserts its candidate UUIDs with
INSERT ... ON CONFLICT DO NOTHING on the unique (system, object, native_id), then reads back the
winners, so concurrent workers always agree on one canonical id per native record.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orchestrator.state import schema as t
from orchestrator.state.db import Database, chunks, dumps, loads
from orchestrator.state.types import SyncStateRow, XrefRow

X = t.xref


def _lookup(conn: Connection, system: str, object: str, native_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in chunks(dict.fromkeys(native_ids)):
        rows = conn.execute(sa.select(X.c.native_id, X.c.canonical_id).where(
            (X.c.system == system) & (X.c.object == object) & X.c.native_id.in_(part)))
        found.update({r.native_id: r.canonical_id for r in rows})
    return found


def canonical_ids(db: Database, system: str, object: str, native_ids: Iterable[str]) -> dict[str, str]:
    with db.begin() as conn:
        return _lookup(conn, system, object, [str(n) for n in native_ids])


def native_ids(db: Database, system: str, entity: str, canonical_ids: Iterable[str], *,
               object: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    with db.begin() as conn:
        for part in chunks(dict.fromkeys(canonical_ids)):
            query = sa.select(X.c.canonical_id, X.c.native_id).where(
                (X.c.entity == entity) & X.c.canonical_id.in_(part) & (X.c.system == system)).order_by(X.c.id)
            if object is not None:
                query = query.where(X.c.object == object)
            for r in conn.execute(query):
                found.setdefault(r.canonical_id, r.native_id)  # the oldest link wins when several exist
    return found


def ensure_canonical_ids(db: Database, system: str, object: str, entity: str,
                         native_ids: Iterable[str]) -> dict[str, str]:
    wanted = list(dict.fromkeys(str(n) for n in native_ids))
    with db.begin() as conn:
        found = _lookup(conn, system, object, wanted)
        # Sorted: concurrent callers then take the unique-index locks in one order and cannot deadlock.
        missing = sorted(n for n in wanted if n not in found)
        if missing:
            now = db.now()
            ids = new_ids(len(missing))
            db.insert_ignore(conn, X, [{"system": system, "object": object, "native_id": n,
                                        "canonical_id": i, "entity": entity, "created_at": now}
                                       for n, i in zip(missing, ids, strict=True)], ["system", "object", "native_id"],
                             count=False)
            found.update(_lookup(conn, system, object, missing))  # ours, or a concurrent caller's
    return found


def new_ids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs from one read of the system's random source, not one read each."""
    pool = os.urandom(16 * n)
    return [str(uuid.UUID(bytes=pool[i:i + 16], version=4)) for i in range(0, 16 * n, 16)]


def insert_links(conn: Connection, db: Database, rows: Sequence[XrefRow], *, count: bool = True) -> int:
    """Add links inside a caller's transaction; existing (system, object, native_id) links are kept.

    Returns the links added (0 when ``count`` is False: a faster plain executemany)."""
    now = db.now()
    ordered = sorted(rows, key=lambda r: (r.system, r.object, r.native_id))  # one lock order for all writers
    return db.insert_ignore(conn, X, [{"system": r.system, "object": r.object, "native_id": r.native_id,
                                       "canonical_id": r.canonical_id, "entity": r.entity, "created_at": now}
                                      for r in ordered], ["system", "object", "native_id"])


def relink_rows(conn: Connection, db: Database, rows: Sequence[XrefRow]) -> None:
    """Point each (system, object, native_id) at its row's canonical id, inside a caller's transaction.

    For links learnt from a write: the target record the write landed on is the same thing as the
    source record, whatever id an earlier scan gave it.
    """
    insert_links(conn, db, rows, count=False)
    if not rows:
        return
    # Read the links as they stand (a few IN lists) and update only the ones that differ: after a
    # first write they all agree, and an UPDATE per record was the slowest step of a batch.
    current: dict[tuple[str, str, str], str] = {}
    groups: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        groups.setdefault((r.system, r.object), []).append(r.native_id)
    for (system, object), natives in groups.items():
        current.update({(system, object, n): c for n, c in _lookup(conn, system, object, natives).items()})
    stale = sorted((r for r in rows if current.get((r.system, r.object, r.native_id)) != r.canonical_id),
                   key=lambda r: (r.system, r.object, r.native_id))  # one lock order for all writers
    if not stale:
        return
    key = (X.c.system == sa.bindparam("k_system")) & (X.c.object == sa.bindparam("k_object")) & (
        X.c.native_id == sa.bindparam("k_native_id"))
    stmt = X.update().where(key).values(canonical_id=sa.bindparam("k_canonical_id"), entity=sa.bindparam("k_entity"))
    conn.execute(stmt, [{"k_system": r.system, "k_object": r.object, "k_native_id": r.native_id,
                         "k_canonical_id": r.canonical_id, "k_entity": r.entity} for r in stale])


def link(db: Database, row: XrefRow) -> None:
    key = (X.c.system == row.system) & (X.c.object == row.object) & (X.c.native_id == row.native_id)
    with db.begin() as conn:
        if not insert_links(conn, db, [row]):
            conn.execute(X.update().where(key).values(canonical_id=row.canonical_id, entity=row.entity))


def customer_view(db: Database, any_id: str) -> list[XrefRow]:
    with db.begin() as conn:
        ids = set(conn.execute(sa.select(X.c.canonical_id).where(
            (X.c.canonical_id == any_id) | (X.c.native_id == any_id))).scalars())
        if not ids:
            return []
        rows = conn.execute(sa.select(X).where(X.c.canonical_id.in_(sorted(ids)))
                            .order_by(X.c.canonical_id, X.c.system, X.c.object, X.c.native_id))
        return [XrefRow(r.system, r.object, r.native_id, r.canonical_id, r.entity) for r in rows]


def put_sync_state(conn: Connection, db: Database, rows: Sequence[SyncStateRow]) -> None:
    """Upsert what a two-way sync wrote, inside the caller's transaction."""
    S = t.sync_state
    if not rows:
        return
    now = db.now()
    latest = {(r.sync, r.entity, r.canonical_id): r for r in rows}  # the last state of a record wins
    values = [{"k_sync": s, "k_entity": e, "k_canonical_id": c, "v_hash": r.hash, "v_updated_at": now,
               "v_snapshot": None if r.values is None else dumps(dict(r.values))}
              for (s, e, c), r in sorted(latest.items())]
    # Insert the new ones, then update all of them: two statements per batch whatever its size, and a
    # row a concurrent writer inserted in between is still updated to our values.
    db.insert_ignore(conn, S, [{"sync": v["k_sync"], "entity": v["k_entity"], "canonical_id": v["k_canonical_id"],
                                "hash": v["v_hash"], "snapshot": v["v_snapshot"], "updated_at": now} for v in values],
                     ["sync", "entity", "canonical_id"], count=False)
    key = (S.c.sync == sa.bindparam("k_sync")) & (S.c.entity == sa.bindparam("k_entity")) & (
        S.c.canonical_id == sa.bindparam("k_canonical_id"))
    conn.execute(S.update().where(key).values(hash=sa.bindparam("v_hash"), snapshot=sa.bindparam("v_snapshot"),
                                              updated_at=sa.bindparam("v_updated_at")), values)


def get_sync_state(db: Database, sync: str, entity: str, canonical_ids: Iterable[str]) -> dict[str, SyncStateRow]:
    S = t.sync_state
    found: dict[str, SyncStateRow] = {}
    with db.begin() as conn:
        for part in chunks(dict.fromkeys(canonical_ids)):
            rows = conn.execute(sa.select(S).where(
                (S.c.sync == sync) & (S.c.entity == entity) & S.c.canonical_id.in_(part)))
            for r in rows:
                found[r.canonical_id] = SyncStateRow(r.sync, r.entity, r.canonical_id, r.hash, loads(r.snapshot))
    return found
