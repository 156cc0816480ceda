"""A healing plan: the writes healing would make, each with the finding behind it, the values before
and after, the rule that chose them, and whether a person must decide first (``manual``).

Plans are saved in the state store (``heal_plans``) so ``heal --apply`` carries out exactly what was
shown, and as JSON next to the reports for people to read.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
import sqlalchemy as sa

from orchestrator.reconcile.finding import jsonable
from orchestrator.reconcile.tables import database, heal_plans

Action = Literal["update", "create", "delete"]
ORDER = {"update": 0, "create": 1, "delete": 2}
"""Apply order: re-links and field fixes first, creates next, deletes (duplicate losers) last."""


@dataclass(slots=True)
class PlanItem:
    action: Action
    code: str  # the finding code this fixes
    entity: str
    system: str  # where the write happens
    object: str
    key: str | None  # native key (None for a create)
    native: dict[str, Any] = field(default_factory=dict)  # native values written (with the key field)
    before: dict[str, Any] = field(default_factory=dict)  # native values before (whole row for a delete)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # what a person reads: field -> from/to
    fingerprints: list[str] = field(default_factory=list)
    canonical_id: str | None = None
    source: dict[str, str] | None = None  # for a create: the record it copies (system, object, key)
    rule: str = ""
    status: Literal["ready", "manual"] = "ready"
    note: str = ""
    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = jsonable(asdict(self))
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanItem:
        return cls(**data)


@dataclass(slots=True)
class Plan:
    job: str
    created_at: datetime
    items: list[PlanItem] = field(default_factory=list)
    reconcile_run_id: str | None = None
    plan_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def ordered(self) -> list[PlanItem]:
        items = sorted(self.items, key=lambda i: (ORDER[i.action], i.entity != "Account", i.system, i.key or ""))
        for n, item in enumerate(items, 1):
            item.seq = n
        return items

    def summary(self) -> dict[str, Any]:
        ready = [i for i in self.items if i.status == "ready"]
        return {
            "ready": len(ready), "manual": len(self.items) - len(ready),
            "by_action": dict(Counter(i.action for i in ready)),
            "by_code": dict(Counter(i.code for i in ready)),
            "manual_by_code": dict(Counter(i.code for i in self.items if i.status == "manual")),
        }

    def to_json(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "job": self.job, "created_at": self.created_at.isoformat(),
                "reconcile_run_id": self.reconcile_run_id, "summary": self.summary(),
                "items": [i.to_json() for i in self.ordered()]}


def save(store: Any, plan: Plan) -> None:
    db = database(store)
    with db.begin() as conn:
        conn.execute(heal_plans.insert().values(
            plan_id=plan.plan_id, job=plan.job, reconcile_run_id=plan.reconcile_run_id, created_at=db.now(),
            status="planned", summary=orjson.dumps(plan.summary()).decode(),
            plan=orjson.dumps([i.to_json() for i in plan.ordered()]).decode()))


def load(store: Any, job: str, plan_id: str | None = None) -> Plan | None:
    """A saved plan by id, or the job's latest plan not yet applied."""
    db = database(store)
    query = sa.select(heal_plans).where(heal_plans.c.job == job)
    query = query.where(heal_plans.c.plan_id == plan_id) if plan_id else query.where(
        heal_plans.c.status == "planned").order_by(heal_plans.c.created_at.desc()).limit(1)
    with db.begin() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    items = [PlanItem.from_json(d) for d in orjson.loads(row.plan)]
    return Plan(row.job, row.created_at, items, row.reconcile_run_id, row.plan_id)


def mark(store: Any, plan_id: str, status: str, run_id: str | None = None) -> None:
    db = database(store)
    values: dict[str, Any] = {"status": status}
    if run_id is not None:
        values["applied_run_id"] = run_id
    with db.begin() as conn:
        conn.execute(heal_plans.update().where(heal_plans.c.plan_id == plan_id).values(**values))
