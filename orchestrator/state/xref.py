"""The ID cross-reference: which native record in which system is which canonical record.

New canonical ids are assigned race-free: every caller inserts its candidate UUIDs with
INSERT ... ON CONFLICT DO NOTHING on the unique (system, object, native_id), then reads back the
winners, so concurrent workers always agree on one canonical id per native record.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orchestrator.state import schema as t
from orchestrator.state.db import Database, chunks, dumps, loads
from orchestrator.state.types import SyncStateRow, XrefRow

X = t.xref


def _lookup(conn: Connection, system: str, object: str, native_ids: Sequence[str]) -> dict[str, str]:
    """native id -> canonical id of the links that exist, through the unique (system, object, native_id)."""
    wanted = list(dict.fromkeys(native_ids))
    if not wanted:
        return {}
    if conn.dialect.name == "postgresql":
        params = {"system": system, "object": object, "keys": wanted}
        return {native: canonical for native, canonical in conn.execute(_PG_LOOKUP, params)}
    if conn.dialect.name == "sqlite":  # plain text to the driver: SQLAlchemy's expanding IN cost ~30% more
        found: dict[str, str] = {}
        for part in chunks(wanted):
            found.update(conn.exec_driver_sql(_SQLITE_LOOKUP.format(",".join("?" * len(part))),
                                              (system, object, *part)).tuples().all())
        return found
    found = {}
    for part in chunks(wanted):
        found.update(conn.execute(sa.select(X.c.native_id, X.c.canonical_id).where(
            (X.c.system == system) & (X.c.object == object) & X.c.native_id.in_(part))).tuples().all())
    return found


# Only "?" placeholders are ever formatted in (one per key): the keys themselves are bound parameters.
_SQLITE_LOOKUP = "SELECT native_id, canonical_id FROM xref WHERE system = ? AND object = ? AND native_id IN ({})"


# PostgreSQL: one probe of the unique index per key (a LATERAL ... LIMIT 1 is never flattened into a join).
# ``native_id = ANY(:keys)`` let a planner without statistics (autovacuum off, or a table that grew since
# its last ANALYZE) use the index for (system, object) only and filter every row of the object, per batch:
# quadratic in the table's size (0.24 s per 500 keys at 600,000 rows, against 6 ms for the whole list here).
_PG_LOOKUP = sa.text(
    "SELECT k.native_id, x.canonical_id FROM unnest(CAST(:keys AS text[])) AS k(native_id) "
    "CROSS JOIN LATERAL (SELECT canonical_id FROM xref WHERE system = :system AND object = :object "
    "AND native_id = k.native_id LIMIT 1) AS x")
# Reverse: the links of one canonical id (ix_xref_entity_canonical), then the system's among them. The
# OFFSET 0 keeps the system and object tests out of that scan: with them, a planner without statistics
# again preferred the unique index's (system, object) prefix, a scan of the whole object per key.
_PG_NATIVE = ("SELECT k.canonical_id, x.native_id FROM unnest(CAST(:keys AS text[])) AS k(canonical_id) "
              "CROSS JOIN LATERAL (SELECT native_id FROM (SELECT id, native_id, system, object FROM xref "
              "WHERE entity = :entity AND canonical_id = k.canonical_id OFFSET 0) AS links "
              "WHERE system = :system{} ORDER BY id LIMIT 1) AS x")
_PG_NATIVE_ANY = sa.text(_PG_NATIVE.format(""))
_PG_NATIVE_OF = sa.text(_PG_NATIVE.format(" AND object = :object"))


def canonical_ids(db: Database, system: str, object: str, native_ids: Iterable[str]) -> dict[str, str]:
    with db.begin() as conn:
        return _lookup(conn, system, object, [str(n) for n in native_ids])


def native_ids(db: Database, system: str, entity: str, canonical_ids: Iterable[str], *,
               object: str | None) -> dict[str, str]:
    """canonical id -> native id in ``system``; the oldest link wins when several exist."""
    wanted = list(dict.fromkeys(canonical_ids))
    found: dict[str, str] = {}
    if not wanted:
        return found
    with db.begin() as conn:
        if conn.dialect.name == "postgresql":  # per-key index probes, whatever the statistics (see _PG_LOOKUP)
            params = {"entity": entity, "system": system, "object": object, "keys": wanted}
            rows = conn.execute(_PG_NATIVE_ANY if object is None else _PG_NATIVE_OF, params)
            return {canonical: native for canonical, native in rows}
        for part in chunks(wanted):
            query = sa.select(X.c.canonical_id, X.c.native_id).where(
                (X.c.entity == entity) & X.c.canonical_id.in_(part) & (X.c.system == system)).order_by(X.c.id)
            if object is not None:
                query = query.where(X.c.object == object)
            for canonical, native in conn.execute(query).tuples():
                found.setdefault(canonical, native)
    return found


def ensure_canonical_ids(db: Database, system: str, object: str, entity: str,
                         native_ids: Iterable[str]) -> dict[str, str]:
    wanted = list(dict.fromkeys(str(n) for n in native_ids))
    with db.begin() as conn:
        found = _lookup(conn, system, object, wanted)
        # Sorted: concurrent callers then take the unique-index locks in one order and cannot deadlock.
        missing = sorted(n for n in wanted if n not in found)
        if missing:
            ids = new_ids(len(missing))
            now = db.bound(conn, X.c.created_at, db.now())
            db.insert_ignore_tuples(conn, X, COLUMNS, [(system, object, n, i, entity, now)
                                                       for n, i in zip(missing, ids, strict=True)], NATIVE_KEY)
            if db.dialect == "sqlite":  # BEGIN IMMEDIATE: nobody else wrote since our lookup, every id is ours
                found.update(zip(missing, ids, strict=True))
            else:
                found.update(_lookup(conn, system, object, missing))  # ours, or a concurrent caller's
    return found


def new_ids(n: int) -> list[str]:
    """``n`` new canonical ids: version 7 UUIDs (RFC 9562), time-ordered, ascending within one call.

    Random (version 4) ids land all over the indexes on canonical_id: every insert of a batch
    touched its own index page, so a 5,000-row batch rewrote thousands of pages (SQLite's WAL
    grew by tens of MB per batch and the time per batch grew with the table). Ids that start with
    the time append at the end of those indexes instead. 74 random bits (one read of the system's
    random source) keep them unguessable and distinct across callers in the same millisecond.
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    head = (millis & (1 << 48) - 1) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62
    start = rand & (1 << 61) - 1  # room to count up by n without touching the variant bits
    return [str(uuid.UUID(int=head | start + i)) for i in range(n)]


COLUMNS = ("system", "object", "native_id", "canonical_id", "entity", "created_at")
NATIVE_KEY = ("system", "object", "native_id")


def insert_links(conn: Connection, db: Database, rows: Sequence[XrefRow], *, count: bool = True) -> int:
    """Add links inside a caller's transaction; existing (system, object, native_id) links are kept.

    Returns the links added (0 when ``count`` is False: a faster plain executemany)."""
    ordered = sorted(rows, key=lambda r: (r.system, r.object, r.native_id))  # one lock order for all writers
    if not count:
        now = db.bound(conn, X.c.created_at, db.now())
        db.insert_ignore_tuples(conn, X, COLUMNS, [(r.system, r.object, r.native_id, r.canonical_id, r.entity, now)
                                                   for r in ordered], NATIVE_KEY)
        return 0
    now = db.now()
    return db.insert_ignore(conn, X, [{"system": r.system, "object": r.object, "native_id": r.native_id,
                                       "canonical_id": r.canonical_id, "entity": r.entity, "created_at": now}
                                      for r in ordered], list(NATIVE_KEY))


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
