"""invalid_value: values the canonical schema refuses (emails, phones, countries, currencies...).

These are exactly the mapper's rejections, so reconciliation and syncs agree on what "invalid" means
(mappings.validation holds the one definition). A rejection for a value outside a value map is
picklist drift, not an invalid value.
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.finding import Finding, RecordRef, jsonable
from orchestrator.reconcile.records import Rejection

PICKLIST_REASONS = frozenset({"unknown_picklist_value", "unmapped_value", "unknown_value"})


def check(rejection: Rejection, ctx: EntityContext, canonical_id: str | None = None) -> Iterator[Finding]:
    ref = RecordRef(rejection.system, rejection.key, canonical_id)
    for reason, path in rejection.reasons:
        value = rejection.native_values.get(path)
        code = FindingCode.PICKLIST_DRIFT if reason in PICKLIST_REASONS else FindingCode.INVALID_VALUE
        yield Finding(
            code=code, entity=ctx.entity, records=(ref,), fields=(path,),
            values={path: {rejection.system: jsonable(value)}},
            subject=str(value) if code is FindingCode.PICKLIST_DRIFT and value is not None else reason,
            message=f"{path}: {reason}", detail={"reason": reason},
        )
