"""One batch through the pipeline: map to canonical, assign ids, resolve references, map to the
target, write, and gather what the checkpoint must store. No commit happens here.

Everything a batch produces (cross-reference rows, quarantine items, counts, the keys that now
landed) is returned so the caller commits it with the cursor in ONE transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from connectors.base import Batch, NativeRecord, WriteResult
from connectors.errors import RecordError
from mappings.canonical import CanonicalModel
from mappings.errors import Reason, RecordRejection
from orchestrator.runner import coverage
from orchestrator.runner.job import Side, StreamJob
from orchestrator.runner.lookups import ReverseLookup, XrefLookup
from orchestrator.runner.mapping_ctx import make_context, native_reference_ids
from orchestrator.state.types import QuarantineItem, XrefRow

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Row:
    """A mapped source record: its native key, canonical form (id assigned) and native form."""

    key: str
    canonical: CanonicalModel
    native: NativeRecord


@dataclass(slots=True)
class Outcome:
    """What one batch produced, to be committed with its cursor."""

    rows: list[Row] = field(default_factory=list)
    xref: list[XrefRow] = field(default_factory=list)
    relink: list[XrefRow] = field(default_factory=list)  # learnt from writes: replace earlier links
    quarantine: list[QuarantineItem] = field(default_factory=list)
    resolved_keys: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    preview: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def add(self, name: str, n: int = 1) -> None:
        if n:
            self.counts[name] = self.counts.get(name, 0) + n


def quarantine_item(job: StreamJob, side: Side, key: str, stage: str, reasons: Sequence[Reason],
                    payload: Any) -> QuarantineItem:
    return QuarantineItem(sync=job.sync, stream=job.stream, system=side.system, object=side.object,
                          native_key=key, stage=stage, reasons=tuple(reasons),  # type: ignore[arg-type]
                          payload=payload if isinstance(payload, Mapping) else {"raw": payload},
                          run_id=job.options.run_id)


def record_error_reasons(error: RecordError) -> list[Reason]:
    """A connector's record error as field-level reasons (code and field names; the message is value-free)."""
    return [Reason(error.code, f, error.message) for f in error.fields] or [Reason(error.code, "", error.message)]


def safe_key(mapper: Any, record: Mapping[str, Any], fallback: str) -> str:
    try:
        key = mapper.native_key(record)
    except Exception:  # a record too broken to have a key still gets quarantined under a stable name
        return fallback
    return fallback if key in (None, "") else str(key)


def map_source(job: StreamJob, batch: Batch, outcome: Outcome) -> None:
    """Native -> canonical with the source mapper; rejections and read errors go to quarantine. The rows
    left are the ones this job moves: inside the object's filter, and creatable in the target."""
    source = job.source
    for n, error in enumerate(batch.errors):
        key = error.key or (f"line:{error.line}" if error.line is not None else f"read-error:{n}")
        outcome.quarantine.append(quarantine_item(job, source, key, "read", record_error_reasons(error),
                                                  error.payload))
    records = batch.records
    if job.options.ids and not _names_canonical_ids(job.options.ids):  # cheap: filter before mapping
        records = [r for r in records if safe_key(source.mapper, r, "") in job.options.ids]
    lookup = XrefLookup(job.store, source.system, source.object_of)
    for entity, refs in native_reference_ids(source.mapper, records).items():
        lookup.prefetch(entity, refs)
    ok, rejected = source.mapper.map_batch(records, make_context(source, lookup=lookup))
    for index, rejection in rejected:
        key = safe_key(source.mapper, records[index], rejection.key or f"index:{index}")
        outcome.quarantine.append(quarantine_item(job, source, key, "map", rejection.reasons, records[index]))
    if job.record_filter is not None:  # outside the object's filter: not moved, and given no canonical id
        kept = [(i, canonical) for i, canonical in ok if job.record_filter.keeps(canonical)]
        outcome.add("filtered", len(ok) - len(kept))
        outcome.add("skipped", len(ok) - len(kept))
        ok = kept
    keys = [safe_key(source.mapper, records[i], f"index:{i}") for i, _ in ok]
    assigned = _assign_ids(job, keys)
    chosen = job.options.ids
    for (index, canonical), key in zip(ok, keys, strict=True):
        cid = assigned.get(key)
        if chosen and not (key in chosen or cid in chosen):
            continue
        # The mapper made this model for this batch alone: set its id in place (it is marked as set, as
        # model_copy(update=...) would; the copy cost more per record than the rest of the runner).
        canonical.id = cid
        outcome.rows.append(Row(key, canonical, records[index]))
    outcome.rows = _creatable(job, outcome.rows, outcome)
    outcome.add("read", len(records))
    outcome.add("quarantined", len(outcome.quarantine))


def _names_canonical_ids(ids: Sequence[str]) -> bool:
    """``--ids`` may name canonical ids (UUIDs); then records are filtered after ids are assigned."""
    return any(len(i) == 36 and i.count("-") == 4 for i in ids)


def _assign_ids(job: StreamJob, keys: list[str]) -> dict[str, str]:
    source = job.source
    if job.options.dry_run:  # a dry run changes nothing, not even the cross-reference
        known = job.store.canonical_ids(source.system, source.object, keys)
        return {k: known.get(k) or f"new:{k}" for k in keys}
    return job.store.ensure_canonical_ids(source.system, source.object, job.stream, keys)


def _creatable(job: StreamJob, rows: Sequence[Row], outcome: Outcome) -> list[Row]:
    """The rows this job may write: where the object's create_in excludes the target, only records the
    target already holds (linked in the cross-reference); the others are skipped, counted as not_created,
    never quarantined: leaving them out is the configured policy, not a data problem."""
    if job.create_in is None or job.target.system in job.create_in or not rows:
        return list(rows)
    target = job.target
    known = job.store.native_ids(target.system, job.stream, [r.canonical.id for r in rows if r.canonical.id],
                                 object=target.object)
    kept = [r for r in rows if r.canonical.id in known]
    outcome.add("skipped", len(rows) - len(kept))
    outcome.add("not_created", len(rows) - len(kept))
    return kept


def to_target(job: StreamJob, rows: Sequence[Row], outcome: Outcome) -> list[tuple[Row, NativeRecord]]:
    """Canonical -> target native; references become the target's native ids (prefetched per batch).

    Only the native fields the source's mapping feeds are written: the others would blank what the
    target holds (see coverage.py).
    """
    target = job.target
    keep = coverage.written_natives(job.source.mapper, target.mapper)
    reverse = ReverseLookup(job.store, target.system, target.object_of)
    for canonical_field, entity in target.mapper.references.items():
        reverse.prefetch(entity, [str(v) for r in rows if (v := getattr(r.canonical, canonical_field, None))])
    if job.stream in target.mapper.references.values():  # a record may point at its own kind (Account.parent_id)
        reverse.prefetch(job.stream, [r.canonical.id for r in rows if r.canonical.id])
    ctx = make_context(target, reverse_lookup=reverse)
    out: list[tuple[Row, NativeRecord]] = []
    for row in rows:
        try:
            out.append((row, coverage.trim(target.mapper.to_native(row.canonical, ctx), keep)))
        except RecordRejection as rejection:
            outcome.quarantine.append(quarantine_item(job, job.source, row.key, "map", rejection.reasons, row.native))
            outcome.add("quarantined")
    return out


def write_target(job: StreamJob, pairs: Sequence[tuple[Row, NativeRecord]], outcome: Outcome) -> None:
    """Upsert into the target; per-record errors go to quarantine with the source record kept for retry."""
    if not pairs:
        return
    target = job.target
    if job.options.dry_run:
        _preview(job, pairs, outcome)
        return
    result: WriteResult = target.connector.write(target.object, [n for _, n in pairs],
                                                 upsert_key=upsert_key(target))
    for res in result.results:
        row, native = pairs[res.index]
        if res.error is not None:
            outcome.quarantine.append(quarantine_item(job, job.source, row.key, "write",
                                                      record_error_reasons(res.error), row.native))
            outcome.add("quarantined")
            continue
        native_id = res.key or safe_key(target.mapper, native, "")
        if native_id and row.canonical.id:
            outcome.relink.append(XrefRow(target.system, target.object, native_id, row.canonical.id, job.stream))
        outcome.resolved_keys.append(row.key)
        outcome.add("written")
        outcome.add("created" if res.created else "updated")


def upsert_key(side: Side) -> str | None:
    """The field the target upserts on: the mapping's declared upsert key, else the connector's default."""
    spec = side.mapper.spec
    value = getattr(spec, "upsert_key", None)
    return str(value) if value else None


def _preview(job: StreamJob, pairs: Sequence[tuple[Row, NativeRecord]], outcome: Outcome) -> None:
    known = job.store.native_ids(job.target.system, job.stream,
                                 [r.canonical.id for r, _ in pairs if r.canonical.id], object=job.target.object)
    for row, native in pairs:
        action = "update" if row.canonical.id in known else "create"
        outcome.add("would_" + action)
        outcome.preview.append({"action": action, "source_key": row.key,
                                "target_key": known.get(row.canonical.id or ""), "record": native})
