"""inactive_owner: a record owned by a deactivated user, which Salesforce refuses to reparent onto and
which leaves the customer with nobody responsible (reference #9)."""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.detectors.queue_owner import OWNER, owner_key
from orchestrator.reconcile.finding import Finding
from orchestrator.reconcile.records import CRecord


def check(record: CRecord, ctx: EntityContext) -> Iterator[Finding]:
    owners = ctx.owners.get(record.system)
    if record.deleted or owners is None:
        return
    owner = owner_key(record)
    if owner is not None and owner in owners.inactive:
        yield Finding(
            code=FindingCode.INACTIVE_OWNER, entity=ctx.entity, records=(record.ref,), fields=(OWNER,),
            values={OWNER: {record.system: owner}},
            message=f"owned by an inactive user in {record.system}",
        )
