"""Healing's writes go through the sync runner's load path: ``pipeline.write_target`` (the connector's
retried upsert, quarantine for refused records, cross-reference rows for what landed) committed by
``checkpoint.commit`` under a fenced lease, exactly as a sync batch is. Deletes go through the
target connector's delete, as the runner applies a delete policy.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mappings.canonical import ENTITIES, CanonicalModel
from mappings.errors import RecordRejection
from orchestrator.errors import ConfigError
from orchestrator.reconcile.sides import SideSpec
from orchestrator.runner import pipeline
from orchestrator.runner.checkpoint import PartitionResult, commit
from orchestrator.runner.job import RunOptions, Side, StreamJob
from orchestrator.runner.ports import Mapper
from orchestrator.runner.streams import LEASE_TTL_S, owner_id


@dataclass(slots=True)
class Written:
    ok: bool
    key: str | None = None  # native key after the write (the id a create got)
    error: str | None = None


@dataclass(slots=True)
class Upsert:
    row_key: str  # the name the record goes by in quarantine (target key, or source key for a create)
    canonical_id: str | None
    native: dict[str, Any]


class RunnerWriter:
    """Writes for one heal (or undo) run: one fenced job per (system, entity) batch."""

    def __init__(self, store: Any, sides: Mapping[str, SideSpec], job: str, run_id: str, started_at: datetime,
                 models: Mapping[str, type[CanonicalModel]] | None = None) -> None:
        self.store, self.sides, self.sync, self.run_id = store, sides, f"heal:{job}", run_id
        self.options = RunOptions(run_id=run_id, started_at=started_at)
        self.models = dict(models or ENTITIES)

    def _side(self, system: str, entity: str, by_key: bool = False) -> Side:
        spec = self.sides[system]
        mappers = spec.mappers(entity)
        if len(mappers) != 1:
            raise ConfigError(f"system {system!r} needs exactly one mapping for {entity} to heal it",
                              key=f"systems.{system}")
        mapper: Mapper = _ByKey(mappers[0]) if by_key else mappers[0]
        return Side(system=system, connector=spec.connector, mapper=mapper, mappers=spec.mappings,
                    timezone=spec.timezone, stream_spec=spec.stream_specs().get(str(mapper.spec.object)))

    def _job(self, system: str, entity: str, by_key: bool = False) -> StreamJob:
        other = next(s for s in self.sides if s != system)
        source = self._side(other, entity) if self.sides[other].mappers(entity) else self._side(system, entity)
        return StreamJob(sync=self.sync, stream=entity, source=source, target=self._side(system, entity, by_key),
                         store=self.store, options=self.options, delete_policy="hard",
                         canonical_model=self.models.get(entity, CanonicalModel))

    def upsert(self, system: str, entity: str, records: Sequence[Upsert]) -> list[Written]:
        """Upsert native records (a key field present: update; absent: create) through write_target."""
        key_field = _key_field(self._side(system, entity).mapper)
        updates = all(key_field in r.native for r in records)
        job = self._job(system, entity, by_key=updates)
        model = job.canonical_model
        outcome = pipeline.Outcome()
        pairs = [(pipeline.Row(r.row_key, model.model_construct(id=r.canonical_id), dict(r.native)), dict(r.native))
                 for r in records]
        with self._lease(entity) as lease:
            pipeline.write_target(job, pairs, outcome)
            commit(job, lease, outcome, None, PartitionResult(done=True))
        landed = set(outcome.resolved_keys)
        failed = {q.native_key: "; ".join(f"{r.field}: {r.code}" for r in q.reasons) for q in outcome.quarantine}
        created = {x.canonical_id: x.native_id for x in outcome.xref}
        out = []
        for r in records:
            key = r.native.get(key_field) or (created.get(r.canonical_id) if r.canonical_id else None)
            out.append(Written(r.row_key in landed, None if key is None else str(key), failed.get(r.row_key)))
        return out

    def delete(self, system: str, entity: str, keys: Sequence[str]) -> list[Written]:
        job = self._job(system, entity)
        outcome = pipeline.Outcome()
        with self._lease(entity) as lease:
            result = job.target.connector.write(job.target.object, [], deletes=list(keys))
            errors = {r.index: r.error for r in result.deleted if r.error is not None and r.error.code != "not_found"}
            outcome.add("deleted", len(keys) - len(errors))
            commit(job, lease, outcome, None, PartitionResult(done=True))
        return [Written(i not in errors, key, None if i not in errors else str(errors[i].code))
                for i, key in enumerate(keys)]

    def _lease(self, entity: str) -> _Lease:
        return _Lease(self.store, self.sync, entity)


class _Lease:
    def __init__(self, store: Any, sync: str, stream: str) -> None:
        self.store, self.sync, self.stream = store, sync, stream

    def __enter__(self) -> Any:
        self.lease = self.store.acquire_lease(self.sync, self.stream, "0", f"{owner_id()}:{uuid.uuid4().hex[:6]}",
                                              LEASE_TTL_S)
        if self.lease is None:
            raise ConfigError(f"another heal of {self.sync} holds the {self.stream} lease; try again when it ends")
        return self.lease

    def __exit__(self, *exc: object) -> None:
        self.store.release_lease(self.lease)


@dataclass(frozen=True, slots=True)
class _KeyedSpec:
    object: str
    entity: str
    key: Any
    upsert_key: str


class _ByKey:
    """A target mapper whose writes address records by their native key (Id, cust_no), not by the external
    id a sync upserts on: a fix goes to exactly the record reconciliation read."""

    def __init__(self, mapper: Any) -> None:
        self._mapper = mapper
        self._spec = _KeyedSpec(str(mapper.spec.object), str(mapper.spec.entity), mapper.spec.key,
                                _key_field(mapper))

    @property
    def spec(self) -> Any:
        return self._spec

    @property
    def references(self) -> Mapping[str, str]:
        refs: Mapping[str, str] = self._mapper.references
        return refs

    def native_key(self, record: Mapping[str, Any]) -> str:
        return str(self._mapper.native_key(record))

    def map_batch(self, records: Sequence[Mapping[str, Any]], ctx: Any
                  ) -> tuple[list[tuple[int, CanonicalModel]], list[tuple[int, RecordRejection]]]:
        result: tuple[list[tuple[int, CanonicalModel]], list[tuple[int, RecordRejection]]] = (
            self._mapper.map_batch(records, ctx))
        return result

    def to_native(self, canonical: CanonicalModel, ctx: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._mapper.to_native(canonical, ctx)
        return result


def _key_field(mapper: Any) -> str:
    key = mapper.spec.key
    return str(key if isinstance(key, str) else key[0])
