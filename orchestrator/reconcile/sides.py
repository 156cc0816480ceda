"""Reading one system's records of one entity and turning them into reconciliation records.

The side reader is the only place that touches a connector and a mapper: it reads every batch,
maps it to canonical with a context whose lookups answer with reconciliation identities (so a
contact's account compares equal when the two accounts were matched), looks the keys up in the ID
cross-reference, and keeps the few native values checks need (owner id as written, native
references, picklist values, formula values recomputed). Mapper rejections come out as
``Rejection``s plus a salvaged record, so a record with one bad email is still matched and never
reported as missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from connectors.base import Connector, NativeRecord, StreamSpec
from mappings.canonical import CanonicalModel
from mappings.context import MappingContext
from orchestrator.reconcile.detectors.deleted import MASTER
from orchestrator.reconcile.detectors.formula import FORMULA_PREFIX
from orchestrator.reconcile.detectors.orphans import REF_PREFIX
from orchestrator.reconcile.detectors.picklist import PICKLIST_PREFIX
from orchestrator.reconcile.detectors.queue_owner import OWNER
from orchestrator.reconcile.fieldkinds import flat_values
from orchestrator.reconcile.keys import EXTERNAL_IDS, LINK
from orchestrator.reconcile.records import CRecord, Rejection
from orchestrator.reconcile.salvage import native_sources, salvage

log = structlog.get_logger(__name__)

TOMBSTONE = "tombstone"
"""``CRecord.native`` flag of a delete the system reported by key only (no values, no merge master)."""
ROW = "_row"
"""``CRecord.native`` key of the whole native record, kept only when an observer asks (healing)."""
OBJECT = "_object"
REJECTION = "rejection"
"""``CRecord.native`` key of the mapper's rejection of a salvaged record (judged once it is matched)."""
SALVAGED = "salvaged"
"""``CRecord.native`` key listing the canonical fields left out because the mapper refused them."""

Formula = Callable[[Mapping[str, Any]], Any]


class XrefSource:
    """The ID cross-reference as reconciliation needs it: native id -> canonical id, batched."""

    def __init__(self, store: Any | None) -> None:
        self.store = store

    def canonical_ids(self, system: str, obj: str, keys: Sequence[str]) -> dict[str, str]:
        if self.store is None or not keys:
            return {}
        return dict(self.store.canonical_ids(system, obj, keys))


@dataclass
class SideSpec:
    """One system of the job: its name, connector, mapping set, zone and what it can evaluate."""

    system: str
    connector: Connector
    mappings: Any  # mappings.MappingSet
    timezone: str = "UTC"
    connector_type: str = ""
    formulas: Mapping[tuple[str, str], Formula] = field(default_factory=dict)  # (object, field) -> evaluator
    links: Mapping[str, str] = field(default_factory=dict)  # entity -> native field holding the other's key
    describe: Mapping[str, StreamSpec] | None = None  # what discover() would say, when given instead
    _specs: dict[str, StreamSpec] | None = None

    def mappers(self, entity: str) -> list[Any]:
        """Every mapper of ``entity`` whose object this system's connector offers (Activity may come from Task
        and Event; a shipped spec for a table the connector is not configured to read does not count)."""
        finder = getattr(self.mappings, "mappers_for_entity", None)
        if finder is not None:
            found = list(finder(entity))
        else:
            try:
                one = self.mappings.for_entity(entity)
            except KeyError:
                return []
            found = [one] if one is not None else []
        offered = self.stream_specs()
        return [m for m in found if not offered or str(m.spec.object) in offered]

    def stream_specs(self) -> dict[str, StreamSpec]:
        """The connector's discovered streams, once per run."""
        if self._specs is None:
            self._specs = dict(self.describe) if self.describe is not None else {
                s.name: s for s in self.connector.discover()}
        return self._specs


@dataclass(slots=True)
class SideBatch:
    records: list[CRecord]
    rejections: list[Rejection]


Identity = Callable[[str, str, str], str | None]
"""(system, entity, native id) -> the reconciliation identity of a referenced record."""


class SideReader:
    """Streams one entity of one system as batches of ``CRecord`` (and the mapper's rejections)."""

    def __init__(self, side: SideSpec, entity: str, xref: XrefSource, identity: Identity, *,
                 keep_native: bool = False) -> None:
        self.side, self.entity, self.xref, self.identity = side, entity, xref, identity
        self.keep_native = keep_native

    def batches(self) -> Iterator[SideBatch]:
        for mapper in self.side.mappers(self.entity):
            spec = self.side.stream_specs().get(str(mapper.spec.object))
            shape = _Shape.of(mapper, spec, self.side, self.entity)
            for batch in self.side.connector.read(shape.obj):
                records, tombstones = batch.records, batch.tombstones
                if batch.deleted_records:  # deleted rows with their fields: mapped like the others (merges)
                    held = {_key(mapper, r, i) for i, r in enumerate(batch.deleted_records)}
                    records = records + batch.deleted_records
                    tombstones = [t for t in tombstones if str(t) not in held]
                yield self._convert(mapper, shape, records, tombstones)

    def _convert(self, mapper: Any, shape: _Shape, records: list[NativeRecord],
                 tombstones: list[str]) -> SideBatch:
        keys = [_key(mapper, r, i) for i, r in enumerate(records)]
        cids = self.xref.canonical_ids(self.side.system, shape.obj, keys + [str(t) for t in tombstones])
        ok, rejected = mapper.map_batch(records, self._context())
        out: list[CRecord] = []
        for index, canonical in ok:
            out.append(self._record(shape, keys[index], cids.get(keys[index]), canonical, records[index]))
        rejections: list[Rejection] = []
        for index, rejection in rejected:
            key = keys[index]
            reasons = tuple((r.code, r.field) for r in rejection.reasons)
            native_values = {r.field: shape.native_value(records[index], r.field) for r in rejection.reasons}
            rejections.append(Rejection(self.side.system, self.entity, key, reasons, native_values))
            partial = salvage(mapper, records[index], rejection, self._context())
            if partial is not None:
                record = self._record(shape, key, cids.get(key), partial, records[index])
                record.native[SALVAGED] = tuple(r.field for r in rejection.reasons)
                record.native[REJECTION] = rejections[-1]
                out.append(record)
        for key in tombstones:
            # A tombstone is only a key; where the key is also the record's external id, say so for matching.
            values = {path: str(key) for path in shape.key_ids}
            out.append(CRecord(self.side.system, self.entity, str(key), values, cids.get(str(key)), deleted=True,
                               native={TOMBSTONE: True}))
        return SideBatch(out, rejections)

    def _context(self) -> Any:
        system = self.side.system

        def lookup(entity: str, native_id: str) -> str | None:
            return self.identity(system, entity, str(native_id))

        return MappingContext(system=system, lookup=lookup, timezone=self.side.timezone,
                              on_missing_reference="keep")

    def _record(self, shape: _Shape, key: str, cid: str | None, canonical: CanonicalModel,
                native: NativeRecord) -> CRecord:
        values = flat_values(canonical)
        updated = canonical.updated_at.astimezone(UTC) if canonical.updated_at else None
        extras = shape.extras(native)
        if self.keep_native:
            extras[ROW] = dict(native)
            extras[OBJECT] = shape.obj
        return CRecord(self.side.system, self.entity, key, values, cid, updated, bool(canonical.is_deleted), extras)


def reference_fields(mapper: Any) -> dict[str, str]:
    """canonical reference path -> the native field holding it (from the spec's field mappings)."""
    canonical_refs: Mapping[str, str] = getattr(mapper, "references", None) or {}
    out: dict[str, str] = {}
    for spec_field in getattr(getattr(mapper, "spec", None), "fields", None) or ():
        paths: tuple[str, ...] = tuple(getattr(spec_field, "canonical_paths", ()))
        natives: tuple[str, ...] = tuple(getattr(spec_field, "native_paths", ()))
        if len(paths) == 1 and len(natives) == 1 and paths[0] in canonical_refs:
            out[paths[0]] = natives[0]
    return out


def _key(mapper: Any, record: Mapping[str, Any], index: int) -> str:
    try:
        key = mapper.native_key(record)
    except Exception:  # a record too broken to have a key still gets a stable name
        return f"index:{index}"
    return str(key) if key not in (None, "") else f"index:{index}"


@dataclass(slots=True)
class _Shape:
    """What to keep from the native records of one object, resolved once per stream."""

    obj: str
    owner_field: str | None
    references: dict[str, str]  # canonical path -> native field
    picklists: tuple[str, ...]
    formulas: dict[str, Formula]
    sources: dict[str, list[str]]  # canonical path -> native fields, where the mapping says
    link: str | None  # native field holding the other system's key
    key_ids: tuple[str, ...]  # external-id paths mapped straight from the native key

    @classmethod
    def of(cls, mapper: Any, spec: StreamSpec | None, side: SideSpec, entity: str) -> _Shape:
        obj = str(mapper.spec.object)
        references = reference_fields(mapper)
        picklists = tuple(f.name for f in spec.fields if f.type == "picklist") if spec else ()
        formulas = {name: fn for (o, name), fn in side.formulas.items() if o == obj}
        sources = native_sources(mapper)
        key_fields = tuple(getattr(mapper.spec, "key_fields", ()))
        key_ids = tuple(p for p in EXTERNAL_IDS.get(entity, ()) if tuple(sources.get(p, ())) == key_fields)
        return cls(obj, references.get(OWNER), references, picklists, formulas, sources, side.links.get(entity),
                   key_ids)

    def extras(self, native: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.owner_field and native.get(self.owner_field) is not None:
            out[OWNER] = native[self.owner_field]
        for path, field_name in self.references.items():
            out[REF_PREFIX + path] = native.get(field_name)
        for name in self.picklists:
            if native.get(name) not in (None, ""):
                out[PICKLIST_PREFIX + name] = native[name]
        for name, formula in self.formulas.items():
            if name in native:
                out[FORMULA_PREFIX + name] = (native[name], formula(native))
        if native.get("MasterRecordId"):
            out[MASTER] = native["MasterRecordId"]
        if self.link and native.get(self.link) not in (None, ""):
            out[LINK] = native[self.link]
        return out

    def native_value(self, native: Mapping[str, Any], path: str) -> Any:
        """The native value behind a canonical field, for showing what was refused."""
        names = self.sources.get(path) or ()
        values = [native.get(name) for name in names]
        return values[0] if len(values) == 1 else values or None


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None
