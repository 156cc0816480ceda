"""missing: a live record with no counterpart in the other system."""

from __future__ import annotations

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.finding import Finding
from orchestrator.reconcile.records import CRecord


def check(record: CRecord, ctx: EntityContext) -> Finding | None:
    """The finding for an unmatched record, or None when it is deleted or too new to have been synced."""
    if record.deleted:
        return None
    if record.updated_at is not None and ctx.now - record.updated_at < ctx.lag:
        return None
    other = ctx.other(record.system)
    return Finding(
        code=FindingCode.MISSING, entity=ctx.entity, records=(record.ref,),
        message=f"in {record.system} but not in {other}",
        detail={"present_in": record.system, "missing_in": other},
    )
