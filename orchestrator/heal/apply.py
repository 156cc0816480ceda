"""Carrying out a plan: ready items in order (updates, creates, deletes), batched per system and entity,
through the runner's write path, every change journalled with its values before and after."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

import structlog

from orchestrator.heal import journal
from orchestrator.heal.plan import ORDER, Plan, PlanItem
from orchestrator.heal.writer import RunnerWriter, Upsert, Written
from orchestrator.reconcile.sides import SideSpec

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class ApplyReport:
    run_id: str
    applied: int = 0
    failed: int = 0
    manual: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "succeeded" if not self.failed else "partial" if self.applied else "failed"


def apply_plan(plan: Plan, store: Any, sides: Mapping[str, SideSpec], run_id: str, started_at: datetime,
               ensure_ids: bool = True) -> ApplyReport:
    writer = RunnerWriter(store, sides, plan.job, run_id, started_at)
    report = ApplyReport(run_id, manual=sum(1 for i in plan.items if i.status == "manual"))
    ready = [i for i in plan.ordered() if i.status == "ready"]
    for (_, system, entity, action), group in groupby(ready, key=lambda i: (ORDER[i.action], i.system, i.entity,
                                                                          i.action)):
        items = list(group)
        if action == "delete":
            results = writer.delete(system, entity, [str(i.key) for i in items])
        else:
            if ensure_ids:
                _ensure_ids(store, entity, items)
            results = writer.upsert(system, entity, [_upsert(i) for i in items])
        _journal(store, plan, run_id, items, results, report)
    log.info("heal.applied", run_id=run_id, applied=report.applied, failed=report.failed, manual=report.manual)
    return report


def _upsert(item: PlanItem) -> Upsert:
    name = item.key if item.key is not None else f"{(item.source or {}).get('system')}:{(item.source or {}).get('key')}"
    return Upsert(str(name), item.canonical_id, item.native)


def _ensure_ids(store: Any, entity: str, items: list[PlanItem]) -> None:
    """A created record gets the canonical id of the record it copies, so the cross-reference links them."""
    for item in items:
        if item.action == "create" and item.canonical_id is None and item.source:
            found = store.ensure_canonical_ids(item.source["system"], item.source["object"], entity,
                                               [item.source["key"]])
            item.canonical_id = found.get(item.source["key"])


def _journal(store: Any, plan: Plan, run_id: str, items: list[PlanItem], results: list[Written],
             report: ApplyReport) -> None:
    entries = []
    for item, result in zip(items, results, strict=True):
        if result.ok:
            report.applied += 1
        else:
            report.failed += 1
            report.errors.append(f"{item.action} {item.system}:{item.key or result.key}: {result.error}")
        entries.append(journal.Entry(
            run_id=run_id, plan_id=plan.plan_id, seq=item.seq, action=item.action, system=item.system,
            object=item.object, entity=item.entity, native_key=result.key or item.key,
            canonical_id=item.canonical_id, before=None if item.action == "create" else item.before,
            after=None if item.action == "delete" else item.native,
            status="applied" if result.ok else "failed", error=result.error))
    journal.write(store, entries)
