"""The heal journal: one row per change healing made, with native values before and after.

Written in the same run as the change, read back by ``heal --undo RUN`` in reverse order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from orchestrator.reconcile.tables import database, heal_journal


@dataclass(slots=True)
class Entry:
    run_id: str
    plan_id: str
    seq: int
    action: str
    system: str
    object: str
    entity: str
    native_key: str | None
    canonical_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    status: str
    error: str | None = None
    id: int | None = None


def _dump(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value, default=str).decode()


def write(store: Any, entries: list[Entry]) -> None:
    if not entries:
        return
    db = database(store)
    now = db.now()
    with db.begin() as conn:
        conn.execute(heal_journal.insert(), [{
            "run_id": e.run_id, "plan_id": e.plan_id, "seq": e.seq, "action": e.action, "system": e.system,
            "object": e.object, "entity": e.entity, "native_key": e.native_key, "canonical_id": e.canonical_id,
            "before": _dump(e.before), "after": _dump(e.after), "status": e.status, "error": e.error, "at": now,
        } for e in entries])


def entries(store: Any, run_id: str, status: str | None = "applied") -> Iterator[Entry]:
    """The run's entries, newest first (the order undo needs)."""
    db = database(store)
    query = sa.select(heal_journal).where(heal_journal.c.run_id == run_id).order_by(heal_journal.c.seq.desc(),
                                                                                    heal_journal.c.id.desc())
    if status is not None:
        query = query.where(heal_journal.c.status == status)
    with db.begin() as conn:
        rows = conn.execute(query).all()
    for r in rows:
        yield Entry(r.run_id, r.plan_id, r.seq, r.action, r.system, r.object, r.entity, r.native_key, r.canonical_id,
                    None if r.before is None else orjson.loads(r.before),
                    None if r.after is None else orjson.loads(r.after), r.status, r.error, r.id)


def mark_undone(store: Any, ids: list[int]) -> None:
    if not ids:
        return
    db = database(store)
    with db.begin() as conn:
        conn.execute(heal_journal.update().where(heal_journal.c.id.in_(ids)).values(status="undone"))
