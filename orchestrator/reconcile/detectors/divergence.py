"""Why two matched records disagree: field_mismatch, stale, conflict or formula_drift.

- formula_drift: the field is computed by a formula in one system; such values change without the
  record's modification stamp moving, so incremental syncs miss them (reference #2).
- conflict: both sides changed the field since the last sync.
- stale: one side changed it longer ago than the job's lag and the change never arrived.
- a change younger than the lag is in flight: not a finding yet.
- field_mismatch: anything else (no sync history explains it).

"Changed" is judged against the values the last sync wrote when the store has them, otherwise
against the time of the last sync.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.detectors.compare import differences
from orchestrator.reconcile.finding import Finding, jsonable
from orchestrator.reconcile.records import CRecord, Pair


def check(pair: Pair, ctx: EntityContext) -> Iterator[Finding]:
    if pair.left.deleted or pair.right.deleted:
        return
    diffs = list(differences(pair, ctx.compared, ctx.normalisers))
    if not diffs:
        return
    last_values = _last_values(pair, ctx)
    last_sync = ctx.history.last_sync_at(ctx.entity)
    for path, a, b in diffs:
        code = _classify(path, a, b, pair, ctx, last_values, last_sync)
        if code is None:
            continue
        yield Finding(
            code=code, entity=ctx.entity, records=(pair.left.ref, pair.right.ref), fields=(path,),
            values={path: {pair.left.system: jsonable(a), pair.right.system: jsonable(b)}},
            message=_MESSAGES[code].format(field=path), detail=_detail(pair, code),
        )


_MESSAGES = {
    FindingCode.FIELD_MISMATCH: "{field} differs between the systems",
    FindingCode.STALE: "{field} changed on one side and the change was not propagated within the lag",
    FindingCode.CONFLICT: "{field} was changed on both sides since the last sync",
    FindingCode.FORMULA_DRIFT: "{field} is a formula whose copy no longer matches",
}


def _classify(path: str, a: Any, b: Any, pair: Pair, ctx: EntityContext,
              last_values: Mapping[str, Any] | None, last_sync: datetime | None) -> FindingCode | None:
    if path in ctx.formula_fields:
        return FindingCode.FORMULA_DRIFT
    if last_values is not None and path in last_values:
        base = ctx.normalisers(path, last_values[path])
        changed = (ctx.normalisers(path, a) != base, ctx.normalisers(path, b) != base)
    elif last_sync is not None:
        changed = (_after(pair.left, last_sync), _after(pair.right, last_sync))
    else:
        changed = (False, False)
    if all(changed):
        return FindingCode.CONFLICT
    if any(changed):
        side = pair.left if changed[0] else pair.right
        return FindingCode.STALE if _older_than_lag(side, ctx) else None
    newest = max((r.updated_at for r in (pair.left, pair.right) if r.updated_at), default=None)
    if newest is not None and ctx.now - newest < ctx.lag:
        return None  # just edited: a sync may still be carrying it
    return FindingCode.FIELD_MISMATCH


def _after(record: CRecord, moment: datetime) -> bool:
    return record.updated_at is not None and record.updated_at > moment


def _older_than_lag(record: CRecord, ctx: EntityContext) -> bool:
    return record.updated_at is None or ctx.now - record.updated_at >= ctx.lag


def _last_values(pair: Pair, ctx: EntityContext) -> Mapping[str, Any] | None:
    cid = pair.left.canonical_id or pair.right.canonical_id
    return ctx.history.last_values(ctx.entity, cid) if cid else None


def _detail(pair: Pair, code: FindingCode) -> dict[str, Any]:
    detail: dict[str, Any] = {"matched_by": pair.rule}
    if code in (FindingCode.STALE, FindingCode.CONFLICT):
        detail["updated_at"] = {r.system: jsonable(r.updated_at) for r in (pair.left, pair.right)}
    return detail
