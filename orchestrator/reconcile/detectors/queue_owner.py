"""queue_owner: a record owned by a queue (Salesforce ``00G`` ids) where the object expects a user.

Accounts, contacts and opportunities can only be owned by users; a queue id there comes from an
integration writing the wrong kind of id, and breaks reports and sharing (reference #9).
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.finding import Finding
from orchestrator.reconcile.normalise import id_key
from orchestrator.reconcile.records import CRecord

QUEUE_PREFIX = "00G"
OWNER = "owner_id"


def owner_key(record: CRecord) -> str | None:
    """The owner id as the system wrote it (native), else the canonical owner id."""
    return id_key(record.native.get(OWNER) or record.get(OWNER))


def check(record: CRecord, ctx: EntityContext) -> Iterator[Finding]:
    if record.deleted or record.system in ctx.queue_allowed:
        return
    owner = owner_key(record)
    if owner is None:
        return
    owners = ctx.owners.get(record.system)
    if owner.startswith(QUEUE_PREFIX) or (owners is not None and owner in owners.queues):
        yield Finding(
            code=FindingCode.QUEUE_OWNER, entity=ctx.entity, records=(record.ref,), fields=(OWNER,),
            values={OWNER: {record.system: owner}},
            message=f"owned by a queue in {record.system}, where a user is expected",
        )
