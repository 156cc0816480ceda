"""Two-way streams: changes flow both ways, and a record changed on both sides is a conflict.

Three resumable passes per run, each checkpointed batch by batch under one lease:

1. ``seen``: scan the target side's changes and remember, per record, the latest version seen
   there (sync state ``<sync>@<target>``). Nothing is written anywhere.
2. ``fwd``: source -> target. A record whose source hash equals the last synced hash is an echo
   (our own earlier write) and is skipped. A record the target also changed since the last sync
   is a conflict, settled by the policy (``conflicts.resolve``); a held one is written nowhere.
3. ``rev``: re-read the target's changes and bring the still-current ones to the source.

The last synced state per record (hash and values) is the sync state row ``<sync>``; a held
conflict is remembered under ``<sync>@held`` so the next edit by a person settles it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
import structlog

from orchestrator.runner import coverage, pipeline
from orchestrator.runner.checkpoint import PartitionResult, commit, read_batches, stop_requested
from orchestrator.runner.conflicts import META_FIELDS, Resolution, Side, resolve
from orchestrator.runner.deletes import apply_tombstones
from orchestrator.runner.job import StreamJob
from orchestrator.state.types import Finding, Lease, SyncStateRow

log = structlog.get_logger(__name__)
PASSES = ("seen", "fwd", "rev")


def run_two_way(job: StreamJob, lease: Lease, deadline: float | None, clock: Callable[[], float]
                ) -> PartitionResult:
    result = PartitionResult(done=False)
    state: dict[str, Any] = dict(job.store.get_cursor(job.sync, job.stream, lease.partition) or {})
    reverse = mirrored(job)
    for name in PASSES:
        pass_job = job if name == "fwd" else reverse
        start = None if job.options.full_refresh and job.options.dry_run else state.get(name)
        for batch in read_batches(pass_job, pass_job.source, start):
            outcome, rows_state = _PASS[name](job, reverse, batch, result)
            if batch.cursor is not None:
                state[name] = batch.cursor.to_json()
            _commit(pass_job, lease, outcome, dict(state), result, rows_state)
            if stop_requested(job, deadline, clock, result):
                return result
    result.done = True
    return result


def mirrored(job: StreamJob) -> StreamJob:
    """The same stream, read from the target and written to the source."""
    return replace(job, source=job.target, target=job.source)


def _commit(job: StreamJob, lease: Lease, outcome: pipeline.Outcome, cursor: dict[str, Any], result: PartitionResult,
            rows_state: Sequence[SyncStateRow]) -> None:
    commit(job, lease, outcome, cursor, result, sync_state=rows_state)


def compared(job: StreamJob, row: pipeline.Row) -> dict[str, Any]:
    """The canonical values compared between sides: JSON-ready, flattened to dotted paths, limited to the
    fields both mappings read (a field one side lacks is not a change), without ids and change times."""
    values = row.canonical.model_dump(mode="json", exclude=set(META_FIELDS))
    flat = coverage.project(values, coverage.shared_fields(job.source.mapper, job.target.mapper))
    return {k: v for k, v in flat.items() if not k.endswith("_raw")}


def digest(values: Mapping[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(values, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _states(job: StreamJob, suffix: str, rows: Sequence[pipeline.Row]) -> dict[str, SyncStateRow]:
    name = job.sync + suffix
    return job.store.get_sync_state(name, job.stream, [r.canonical.id for r in rows if r.canonical.id])


def _state(job: StreamJob, suffix: str, cid: str, hash_: str, values: Mapping[str, Any]) -> SyncStateRow:
    return SyncStateRow(job.sync + suffix, job.stream, cid, hash_, dict(values))


def _pass_seen(job: StreamJob, reverse: StreamJob, batch: Any, result: Any) -> tuple[Any, list[SyncStateRow]]:
    """Remember the target side's latest version of each record it changed since the last sync."""
    outcome = pipeline.Outcome()
    pipeline.map_source(reverse, batch, outcome)
    outcome.quarantine.clear()  # the rev pass quarantines them; counting twice would mislead
    outcome.counts = {"scanned": len(batch.records)}
    base = _states(job, "", outcome.rows)
    suffix = "@" + job.target.system
    states = []
    for row in outcome.rows:
        values = compared(job, row)
        h = digest(values)
        known = base.get(row.canonical.id or "")
        if known is None or known.hash != h:
            states.append(_state(job, suffix, row.canonical.id or "", h, {
                "values": values, "updated_at": _iso(row.canonical.updated_at)}))
    outcome.rows = []
    return outcome, states


def _pass_fwd(job: StreamJob, reverse: StreamJob, batch: Any, result: Any) -> tuple[Any, list[SyncStateRow]]:
    """Source -> target, skipping echoes and settling conflicts with the target's seen versions."""
    outcome = pipeline.Outcome()
    pipeline.map_source(job, batch, outcome)
    rows = outcome.rows
    base, seen, held = _states(job, "", rows), _states(job, "@" + job.target.system, rows), _states(job, "@held", rows)
    to_target: list[pipeline.Row] = []
    to_source: list[pipeline.Row] = []
    states: list[SyncStateRow] = []
    for row in rows:
        cid = row.canonical.id or ""
        values = compared(job, row)
        h = digest(values)
        last = base.get(cid)
        held_row = held.get(cid)
        if (last is not None and last.hash == h) or (held_row and (held_row.values or {}).get("a") == h):
            outcome.add("skipped")
            continue
        other = seen.get(cid)
        other_values = (other.values or {}) if other else {}
        other_changed = other is not None and (last is None or other.hash != last.hash) and not (
            held_row and (held_row.values or {}).get("b") == other.hash)
        if not other_changed or other is None or other.hash == h:
            to_target.append(row)
            states += _agreed(job, cid, h, values, other)
            continue
        resolution = resolve(last.values if last else None,
                             Side(job.source.system, values, row.canonical.updated_at),
                             Side(job.target.system, other_values.get("values", {}),
                                  _parse(other_values.get("updated_at"))), job.conflicts)
        states += _settle(job, row, values, h, other, resolution, to_target, to_source, outcome, result)
    outcome.rows = to_target
    pipeline.write_target(job, pipeline.to_target(job, to_target, outcome), outcome)
    if to_source:  # merged values the source does not hold yet
        back = pipeline.Outcome()
        pipeline.write_target(reverse, pipeline.to_target(reverse, to_source, back), back)
        outcome.quarantine += back.quarantine
        outcome.add("written_back", back.counts.get("written", 0))
    apply_tombstones(job, batch.tombstones, outcome)
    return outcome, states


def _agreed(job: StreamJob, cid: str, h: str, values: Mapping[str, Any], other: SyncStateRow | None
            ) -> list[SyncStateRow]:
    """Both sides will hold ``values``: the new base, and the target's latest known version."""
    superseded = [other.hash] if other is not None and other.hash != h else []
    return [_state(job, "", cid, h, values),
            _state(job, "@" + job.target.system, cid, h, {"values": dict(values), "superseded": superseded})]


def _settle(job: StreamJob, row: pipeline.Row, values: dict[str, Any], h: str, other: SyncStateRow,
            resolution: Resolution, to_target: list[pipeline.Row], to_source: list[pipeline.Row],
            outcome: pipeline.Outcome, result: Any) -> list[SyncStateRow]:
    cid = row.canonical.id or ""
    note = {"entity": job.stream, "canonical_id": cid, "source_key": row.key,
            "fields": [c.field for c in resolution.collisions],
            "rules": {c.field: c.rule for c in resolution.collisions},
            "winners": {c.field: c.winner for c in resolution.collisions},
            "outcome": "held" if resolution.held else "resolved"}
    if resolution.is_conflict:
        outcome.add("conflicts")
        result.conflicts.append(note)
        _finding(job, note)
        log.warning("sync.conflict", canonical_id=cid, fields=note["fields"], outcome=note["outcome"])
    if resolution.merged is None:
        outcome.add("held")
        return [_state(job, "@held", cid, h, {"a": h, "b": other.hash})]
    merged = resolution.merged
    mh = digest(merged)
    model = type(row.canonical)
    merged_row = pipeline.Row(row.key, model.model_validate(coverage.unflatten(merged, row.canonical.model_dump())),
                              row.native)
    if mh != other.hash:
        to_target.append(merged_row)
    if mh != h:
        to_source.append(merged_row)
    return _agreed(job, cid, mh, merged, other)


def _finding(job: StreamJob, note: Mapping[str, Any]) -> None:
    if job.options.dry_run:
        return
    finding = Finding(code="conflict", entity=job.stream, keys={"canonical_id": note["canonical_id"]},
                      fields=tuple(note["fields"]), severity="error" if note["outcome"] == "held" else "info")
    job.store.upsert_findings(f"sync:{job.sync}", job.options.run_id, [finding], resolve_unseen=False)


def _pass_rev(job: StreamJob, reverse: StreamJob, batch: Any, result: Any) -> tuple[Any, list[SyncStateRow]]:
    """Target -> source for target changes that are still the latest and not already agreed."""
    outcome = pipeline.Outcome()
    pipeline.map_source(reverse, batch, outcome)
    rows = outcome.rows
    base, seen, held = _states(job, "", rows), _states(job, "@" + job.target.system, rows), _states(job, "@held", rows)
    apply: list[pipeline.Row] = []
    states: list[SyncStateRow] = []
    for row in rows:
        cid = row.canonical.id or ""
        values = compared(job, row)
        h = digest(values)
        last, known, held_row = base.get(cid), seen.get(cid), held.get(cid)
        stale = known is not None and h in (known.values or {}).get("superseded", [])
        if (last is not None and last.hash == h) or stale or (held_row and (held_row.values or {}).get("b") == h):
            outcome.add("skipped")
            continue
        apply.append(row)
        states += _agreed(job, cid, h, values, None)
    outcome.rows = apply
    pipeline.write_target(reverse, pipeline.to_target(reverse, apply, outcome), outcome)
    apply_tombstones(reverse, batch.tombstones, outcome)
    return outcome, states


_PASS = {"seen": _pass_seen, "fwd": _pass_fwd, "rev": _pass_rev}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
