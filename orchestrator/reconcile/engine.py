"""The reconciliation engine: read both systems entity by entity, match, run every detector, record.

Per entity (parents first): stream both sides through the side readers; each record passes the
record detectors and goes into the matcher, the duplicate detector and the orphan index (each of
which spills to disk past a bound); then matched pairs pass the pair detectors, unmatched records
become ``missing`` unless they are not expected on the other side or duplicate a matched record.
Schema drift, coverage and thresholds close the run; findings stream to the sink as they appear.
"""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from mappings.canonical import ENTITIES, CanonicalModel
from orchestrator.reconcile import thresholds
from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext, NoHistory, Owners, SyncHistory
from orchestrator.reconcile.coverage import CoverageCollector
from orchestrator.reconcile.detectors import (
    deleted,
    divergence,
    formula,
    inactive_owner,
    invalid,
    missing,
    picklist,
    queue_owner,
    value_checks,
    variants,
)
from orchestrator.reconcile.detectors.duplicates import DuplicateDetector
from orchestrator.reconcile.detectors.orphans import REF_PREFIX, REFERENCES, OrphanDetector
from orchestrator.reconcile.fieldkinds import field_kinds
from orchestrator.reconcile.finding import Finding
from orchestrator.reconcile.identities import UNRESOLVED, Identities
from orchestrator.reconcile.job import JobSpec
from orchestrator.reconcile.keys import EXTERNAL_IDS, LINK, cascade, ext_key
from orchestrator.reconcile.matching import Matcher, Side, Unmatched
from orchestrator.reconcile.normalise import Normalisers, id_key
from orchestrator.reconcile.observer import Observer
from orchestrator.reconcile.records import CRecord, Pair, Rejection
from orchestrator.reconcile.result import ReconcileResult
from orchestrator.reconcile.salvage import mapped_fields
from orchestrator.reconcile.schema_history import SchemaHistory
from orchestrator.reconcile.sides import REJECTION, SALVAGED, SideReader, SideSpec, XrefSource
from orchestrator.reconcile.sink import FindingSink
from orchestrator.reconcile.spill import Budget

log = structlog.get_logger(__name__)

def utcnow() -> datetime:
    return datetime.now(UTC)


GC_THRESHOLDS = (200_000, 50, 1000)


@contextmanager
def _patient_gc() -> Iterator[None]:
    """Run with the cyclic garbage collector triggered far less often, then put its thresholds back.

    A run allocates millions of short-lived objects while holding millions of long-lived ones (buffers,
    indexes); at the default thresholds the collector's passes over them cost a quarter of the CPU time
    of a 200,000-record run (measured: 80 s user CPU at the defaults, 61 s with these). Records hold no
    reference cycles, so nothing waits on the collector to be freed.
    """
    saved = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


ALONE_BATCH = 1000
"""Unmatched records decided together: one state-store query per batch for their links."""


@dataclass
class Engine:
    job: JobSpec
    left: SideSpec
    right: SideSpec
    store: Any | None = None  # orchestrator.state.StateStore
    history: SyncHistory = field(default_factory=NoHistory)
    clock: Callable[[], datetime] = utcnow
    workdir: Path | None = None
    models: dict[str, type[CanonicalModel]] = field(default_factory=lambda: dict(ENTITIES))
    schema_history: SchemaHistory | None = None
    observer: Observer = field(default_factory=Observer)
    identities: Identities | None = None  # shared with an observer that must resolve references back

    def run(self, run_id: str | None = None, findings_path: Path | None = None) -> ReconcileResult:
        now = self.clock()
        run_id = run_id or uuid.uuid4().hex
        result = ReconcileResult(self.job.name, run_id, self.left.system, self.right.system,
                                 self.job.ordered_entities(), now)
        path = findings_path or Path(self.workdir or ".") / f"{self.job.name}-{run_id}.findings.jsonl"
        sink = FindingSink(result, path, self.store, dict(self.job.settings.severity))
        coverage = CoverageCollector.for_job(self.job, self.left, self.right, now)
        state = _RunState(self.identities or Identities(), OrphanDetector(), coverage)
        try:
            with _patient_gc():
                self._entities(now, run_id, state, result, sink)
        finally:
            sink.close()
        result.breaches = thresholds.check(self.job.thresholds, result)
        result.finished_at = self.clock()
        log.info("reconcile.finished", job=self.job.name, run_id=run_id, findings=result.total,
                 new=result.delta.get("new", 0), resolved=result.delta.get("resolved", 0))
        return result

    def _entities(self, now: datetime, run_id: str, state: _RunState, result: ReconcileResult,
                  sink: FindingSink) -> None:
        if "User" not in result.entities:
            self._learn_owners(state)
        for entity in result.entities:
            started = time.perf_counter()
            _EntityRun(self, entity, now, state, result, sink).run()
            result.timings[entity] = time.perf_counter() - started
        sink.extend(state.orphans.findings())
        if self.schema_history is not None:
            sink.extend(self.schema_history.check(run_id, self.left, self.right, result.entities))
        result.coverage = state.coverage.result()

    def _learn_owners(self, state: _RunState) -> None:
        """Who owns what is checked against each system's users, even when users are not reconciled."""
        for side in (self.left, self.right):
            if not side.mappers("User"):
                continue
            reader = SideReader(side, "User", XrefSource(self.store), state.identities)
            index = state.orphans.index(side.system, "User")
            for batch in reader.batches():
                for record in batch.records:
                    _learn_owner(state.owners, record)
                    index.add(record)


@dataclass(slots=True)
class _RunState:
    identities: Identities
    orphans: OrphanDetector
    coverage: CoverageCollector
    owners: dict[str, Owners] = field(default_factory=dict)


class _EntityRun:
    """One entity of one run."""

    def __init__(self, engine: Engine, entity: str, now: datetime, state: _RunState, result: ReconcileResult,
                 sink: FindingSink) -> None:
        self.engine, self.entity, self.state, self.result, self.sink = engine, entity, state, result, sink
        job, settings = engine.job, engine.job.settings
        self.model = engine.models.get(entity)
        self.kinds = field_kinds(self.model) if self.model else {}
        self.ctx = EntityContext(
            job=job.name, entity=entity, left=engine.left.system, right=engine.right.system,
            normalisers=Normalisers(self.kinds, settings.normalise), compared=(), now=now, lag=job.lag,
            history=engine.history, owners=state.owners)
        holders = [side.system for side in (engine.left, engine.right) if entity in side.links]
        budget = Budget(settings.max_in_memory)  # one bound for every partition of this entity
        self.matcher = Matcher(entity, cascade(entity, job.match, holders), buckets=settings.buckets,
                               max_in_memory=settings.max_in_memory, workdir=engine.workdir, budget=budget)
        self.duplicates = {side.system: DuplicateDetector(side.system, entity, settings.duplicates, settings.buckets,
                                                          settings.max_in_memory, engine.workdir, budget)
                           for side in (engine.left, engine.right)}
        self.filled: dict[str, set[str]] = {engine.left.system: set(), engine.right.system: set()}
        self.counts: dict[str, int] = {engine.left.system: 0, engine.right.system: 0}
        self._links: dict[tuple[str, str], bool] = {}  # (other system, canonical id) -> linked there
        self.domains: dict[str, dict[str, frozenset[str]]] = {}
        # Which fields a side fills is read from the mapping specs; only mappers that do not say are watched.
        self.track_filled = any(self._mapped(side) is None for side in (engine.left, engine.right))
        self.refs = tuple(_references(entity))
        # Keys of this entity are remembered only when something will look them up: a reference to it from
        # an entity of the job (orphans, comparable references) or an observer resolving references back.
        self.referenced = engine.identities is not None or any(
            entity in targets for other in job.entities for targets in REFERENCES.get(other, {}).values())

    # ------------------------------------------------------------------ reading
    def run(self) -> None:
        engine = self.engine
        mapped = [bool(side.mappers(self.entity)) for side in (engine.left, engine.right)]
        for side, name in ((engine.left, "left"), (engine.right, "right")):
            self.domains[side.system] = _picklist_domains(side, self.entity)
            if side.mappers(self.entity) and self.referenced:
                self.state.orphans.index(side.system, self.entity)
            for record in self._read(side):
                self._add(name, record)  # type: ignore[arg-type]
        self.result.records[self.entity] = dict(self.counts)
        groups = [f for detector in self.duplicates.values() for f in detector.findings()]
        self.engine.observer.entity_started(self.ctx, groups)
        if all(mapped):
            self.ctx.compared = self._compared()
            self._match(groups)
        else:  # only one system holds this entity: in-system checks only, nothing can be missing
            for item in self.matcher.run():
                if isinstance(item, Unmatched):
                    self._release(item.record, None)
                    if self.referenced:
                        self.state.identities.alone(self.entity, item.record)
                    self.state.coverage.add(item.record, None)
                    self.engine.observer.alone(item.record, None)
            self.sink.extend(groups)
        self.engine.observer.entity_finished(self.ctx)

    def _read(self, side: SideSpec) -> Iterator[CRecord]:
        reader = SideReader(side, self.entity, XrefSource(self.engine.store), self.state.identities,
                            keep_native=self.engine.observer.keep_native)
        for batch in reader.batches():
            salvaged = {r.key for r in batch.records if REJECTION in r.native}
            for rejection in batch.rejections:
                if rejection.key not in salvaged:  # salvaged records are judged once matched (_release)
                    self._reject(rejection, None, None)
            yield from batch.records

    def _reject(self, rejection: Rejection, record: CRecord | None, other: CRecord | None) -> None:
        found = [f for f in invalid.check(rejection, self.ctx)
                 if not variants.formatting_only(f, rejection, record, other, self.ctx.normalisers)]
        self.sink.extend(found)
        self.engine.observer.rejection(rejection, found)

    def _release(self, record: CRecord, other: CRecord | None) -> None:
        """The invalid values of a salvaged record, now that its counterpart (if any) is known."""
        rejection = record.native.pop(REJECTION, None)
        if rejection is not None:
            self._reject(rejection, record, other)

    def _add(self, side: Side, record: CRecord) -> None:
        self.counts[record.system] += 1
        if not record.deleted:
            if self.track_filled:
                filled = self.filled[record.system]
                filled.update(k for k, v in record.values.items() if v is not None and k not in filled)
            found = [*picklist.check(record, self.ctx, self.domains.get(record.system)),
                     *formula.check(record, self.ctx), *queue_owner.check(record, self.ctx),
                     *inactive_owner.check(record, self.ctx), *value_checks.check(record, self.ctx)]
            self.sink.extend(found)
            self.engine.observer.record(record, found)
            if self.entity == "User":
                _learn_owner(self.state.owners, record)
            if self.entity in self.engine.job.settings.duplicates.entities:
                self.duplicates[record.system].add(record)
            self.state.orphans.add(record)
        if self.referenced:
            self.state.orphans.index(record.system, self.entity).add(record)
        self.matcher.add(side, record)

    # ------------------------------------------------------------------ comparing
    def _compared(self) -> tuple[str, ...]:
        """Fields both systems fill (a field one mapping never sets is not a difference), minus ignored
        fields and references to entities this run did not reconcile."""
        settings = self.engine.job.settings
        chosen = settings.compare_fields.get(self.entity)
        left, right = (self._mapped(s) or self.filled[s.system] for s in (self.engine.left, self.engine.right))
        fields = list(chosen) if chosen else [f for f in self.kinds if _covers(left, f) and _covers(right, f)]
        ignored = set(settings.ignore_fields.get(self.entity, ()))
        refs = getattr(self.model, "__references__", None) or _references(self.entity)
        return tuple(f for f in fields if f not in ignored
                     and not (f in refs and not self.state.identities.known(refs[f])))

    def _mapped(self, side: SideSpec) -> set[str] | None:
        found = [mapped_fields(m) for m in side.mappers(self.entity)]
        if not found or any(f is None for f in found):
            return None
        return set().union(*(f for f in found if f is not None))

    def _match(self, groups: list[Finding]) -> None:
        members = _members(groups)
        matched: set[str] = set()  # matched duplicate members (only those are looked up below)
        held: list[CRecord] = []  # unmatched duplicates: decided once every pair is known
        alone: list[CRecord] = []  # unmatched records, decided a batch at a time (one link query per batch)
        for item in self.matcher.run():
            if isinstance(item, Pair):
                self._pair(item)
                if members:
                    matched.update(r for r in (_ref(item.left), _ref(item.right)) if r in members)
                continue
            if self.referenced:
                self.state.identities.alone(self.entity, item.record)
            self.state.coverage.add(item.record, None)
            if _ref(item.record) in members:
                held.append(item.record)
            else:
                alone.append(item.record)
                if len(alone) >= ALONE_BATCH:
                    self._alone_batch(alone)
        self._alone_batch(alone)
        self.result.matched[self.entity] = dict(self.matcher.stats)
        self.sink.extend(groups)
        reported: set[str] = set()
        for record in sorted(held, key=lambda r: r.key):
            # A duplicate is not also missing: only when no copy is matched or reported is one copy missing.
            copies = members[_ref(record)]
            if copies & (matched | reported):
                self._release(record, None)
                self.engine.observer.alone(record, None)
                continue
            if self._alone(record) is not None:
                reported.add(_ref(record))

    def _alone_batch(self, records: list[CRecord]) -> None:
        """Decide unmatched records together: whether each is linked in the other system is one query
        per batch, not one per record (a state-store round trip per record was ~14% of a demo's run).
        Deferring them is safe: what _expected reads of other records (Account identities) is final
        before this entity runs."""
        self._prefetch_links(records)
        for record in records:
            self._alone(record)
        records.clear()
        self._links.clear()

    def _prefetch_links(self, records: list[CRecord]) -> None:
        store = self.engine.store
        if store is None:
            return
        wanted: dict[str, list[str]] = {}
        for r in records:
            if r.canonical_id and not r.deleted:
                wanted.setdefault(self.ctx.other(r.system), []).append(r.canonical_id)
        for other, ids in wanted.items():
            linked = store.native_ids(other, self.entity, ids)
            self._links.update({(other, cid): cid in linked for cid in ids})

    def _alone(self, record: CRecord) -> Finding | None:
        self._release(record, None)
        finding = None
        if not record.deleted and self._expected(record):
            finding = missing.check(record, self.ctx)
        if finding is not None:
            self.sink.add(finding)
        self.engine.observer.alone(record, finding)
        return finding

    def _pair(self, pair: Pair) -> None:
        self._release(pair.left, pair.right)
        self._release(pair.right, pair.left)
        identity = self.state.identities.pair(self.entity, pair) if self.referenced else ""
        self.state.coverage.add(pair.left, pair.right)
        found = list(deleted.check(pair, self.ctx))
        for finding in found:
            if finding.code is FindingCode.MERGED and identity:
                self.state.identities.alias(self.entity, identity, finding.records[1].system,
                                            finding.records[1].key)
        skip = _unresolved(pair.left, self.refs) | _unresolved(pair.right, self.refs)
        compared = self.ctx.compared
        if skip:
            self.ctx.compared = tuple(f for f in compared if f not in skip)
        found += divergence.check(pair, self.ctx)
        self.ctx.compared = compared
        self.sink.extend(found)
        self.engine.observer.pair(pair, found)

    def _expected(self, record: CRecord) -> bool:
        """Whether the other system should hold this record ("linked": it carries a link there)."""
        if self.engine.job.settings.expect.get(self.entity, "linked") == "all" or record.native.get(LINK):
            return True
        if record.canonical_id and self.engine.store is not None:
            other = self.ctx.other(record.system)
            known = self._links.get((other, record.canonical_id))  # prefetched for the batch
            if known is None:
                known = bool(self.engine.store.native_ids(other, self.entity, [record.canonical_id]))
            if known:
                return True
        own = ext_key(record.key)
        ids = [ext_key(record.get(f)) for f in EXTERNAL_IDS.get(self.entity, ())]
        if any(value not in (None, own) for value in ids):
            return True  # it carries the other system's business key
        # The system that issues the business key (the ERP numbering orders) owes the other system the
        # records of every customer both systems have.
        return own in ids and self.state.identities.in_both("Account", record.get("account_id"))


def _covers(mapped: set[str], path: str) -> bool:
    """Whether ``path`` or a parent of it (``annual_revenue`` for ``annual_revenue.amount``) is mapped."""
    parts = path.split(".")
    return any(".".join(parts[:n]) in mapped for n in range(1, len(parts) + 1))


def _ref(record: CRecord) -> str:
    return f"{record.system}\x1f{record.key}"


def _members(groups: list[Finding]) -> dict[str, set[str]]:
    """Each duplicate member -> every member of its group."""
    out: dict[str, set[str]] = {}
    for finding in groups:
        refs = {f"{r.system}\x1f{r.key}" for r in finding.records}
        for ref in refs:
            out[ref] = refs
    return out


def _slim(record: CRecord) -> CRecord:
    return CRecord(record.system, record.entity, record.key, {}, record.canonical_id, record.updated_at,
                   record.deleted)


def _unresolved(record: CRecord, refs: Iterable[str]) -> set[str]:
    """Fields not to compare: references no record answers to (orphans) and values the mapper refused."""
    skip = {k for k in refs if isinstance(v := record.values.get(k), str) and v.startswith(UNRESOLVED)}
    return skip | set(record.native.get(SALVAGED, ()))


def _references(entity: str) -> dict[str, str]:
    """Reference field -> the entity whose identities make it comparable (the first target)."""
    refs = {path: targets[0] for path, targets in REFERENCES.get(entity, {}).items()}
    refs.setdefault("owner_id", "User")
    return refs


def _learn_owner(owners: dict[str, Owners], user: CRecord) -> None:
    known = owners.setdefault(user.system, Owners())
    key = id_key(user.key) or user.key
    known.known.add(key)
    if user.get("kind") is not None and str(getattr(user.get("kind"), "value", user.get("kind"))) == "queue":
        known.queues.add(key)
    elif user.get("is_active") is False:
        known.inactive.add(key)


def _picklist_domains(side: SideSpec, entity: str) -> dict[str, frozenset[str]]:
    """Native picklist field -> the values the system's describe defines, for the entity's objects."""
    domains: dict[str, frozenset[str]] = {}
    specs = side.stream_specs()
    for mapper in side.mappers(entity):
        spec = specs.get(str(mapper.spec.object))
        for f in spec.fields if spec else ():
            if f.type == "picklist" and f.picklist_values:
                domains[f.name] = frozenset(f.picklist_values)
    return domains


__all__ = ["REF_PREFIX", "Engine"]
