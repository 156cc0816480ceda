"""formula_drift inside one system: a stored formula value that its formula no longer gives.

Formula and roll-up values change without bumping the modification stamp (reference #2), so a copy
taken by an incremental read goes stale silently. When a system's formulas can be evaluated (the
Salesforce object table ships evaluators), the side reader stores ``(stored, recomputed)`` under
``formula:<native field>`` and this check compares them at the field's declared precision. Across
systems, a canonical field fed by a formula is classified as formula_drift by the divergence check.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.finding import Finding, jsonable
from orchestrator.reconcile.records import CRecord

FORMULA_PREFIX = "formula:"
TOLERANCE = Decimal("0.005")
"""Half a cent: a formula and its stored copy rounded differently are not drift."""


def same(stored: Any, computed: Any) -> bool:
    if stored is None or computed is None:
        return stored is None and computed is None
    try:
        return abs(Decimal(str(stored)) - Decimal(str(computed))) <= TOLERANCE
    except InvalidOperation:
        return str(stored) == str(computed)


def check(record: CRecord, ctx: EntityContext) -> Iterator[Finding]:
    if record.deleted:
        return
    for name, value in record.native.items():
        if not name.startswith(FORMULA_PREFIX):
            continue
        stored, computed = value
        if not same(stored, computed):
            field = name.removeprefix(FORMULA_PREFIX)
            yield Finding(
                code=FindingCode.FORMULA_DRIFT, entity=ctx.entity, records=(record.ref,), fields=(field,),
                values={field: {record.system: jsonable(stored), "formula": jsonable(computed)}},
                message=f"{field} in {record.system} differs from what its formula gives now",
            )
