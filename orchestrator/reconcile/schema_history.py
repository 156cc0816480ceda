"""Schema snapshots per run: each system's ``discover()`` is stored, and diffed against the job's
previous snapshot of that system to report schema_drift (reference #13)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from orchestrator.reconcile.detectors import schema_drift
from orchestrator.reconcile.finding import Finding
from orchestrator.reconcile.sides import SideSpec
from orchestrator.reconcile.tables import database, schema_snapshots

KEEP = 10
"""Snapshots kept per job and system (the newest); older ones are pruned."""


class SchemaHistory:
    def __init__(self, store: Any, job: str) -> None:
        self.db = database(store)
        self.job = job

    def check(self, run_id: str, left: SideSpec, right: SideSpec, entities: Sequence[str]) -> Iterator[Finding]:
        """Snapshot both systems, yield the drift since each one's previous snapshot, store the new ones."""
        for side in (left, right):
            objects = _objects(side, entities)
            specs = [s for name, s in side.stream_specs().items() if name in objects]
            now = schema_drift.snapshot(specs)
            before = self.previous(side.system)
            if before is not None:
                yield from schema_drift.diff(side.system, {k: v for k, v in before.items() if k in objects}, now,
                                             objects)
            self.save(side.system, run_id, now)

    def previous(self, system: str) -> dict[str, Any] | None:
        query = (sa.select(schema_snapshots.c.snapshot)
                 .where((schema_snapshots.c.job == self.job) & (schema_snapshots.c.system == system))
                 .order_by(schema_snapshots.c.id.desc()).limit(1))
        with self.db.begin() as conn:
            text = conn.execute(query).scalar()
        return None if text is None else dict(orjson.loads(text))

    def save(self, system: str, run_id: str, snapshot: dict[str, Any]) -> None:
        table = schema_snapshots
        with self.db.begin() as conn:
            conn.execute(table.insert().values(job=self.job, system=system, run_id=run_id, taken_at=self.db.now(),
                                               snapshot=orjson.dumps(snapshot).decode()))
            ids = list(conn.execute(sa.select(table.c.id).where((table.c.job == self.job) & (table.c.system == system))
                                    .order_by(table.c.id.desc()).offset(KEEP)).scalars())
            if ids:
                conn.execute(table.delete().where(table.c.id.in_(ids)))


def _objects(side: SideSpec, entities: Sequence[str]) -> dict[str, str]:
    """Native stream -> entity, for the entities of the job this system maps."""
    out: dict[str, str] = {}
    for entity in entities:
        for mapper in side.mappers(entity):
            out[str(mapper.spec.object)] = entity
    return out
