"""queue_owner: a record owned by a queue (Salesforce ``00G`` ids) where the object expects a user.

Accounts, contacts and opportunities can only be owned by users; a queue id there comes from an
integration writing the wrong kind of id, and breaks reports and sharing (reference #9).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.finding import Finding
from orchestrator.reconcile.normalise import id_key
from orchestrator.reconcile.records import CRecord

QUEUE_PREFIX = "00G"
OWNER = "owner_id"


def _new_lead(record: CRecord) -> bool:
    status = record.get("status")
    return str(getattr(status, "value", status)) == "open"


QUEUE_OWNED: dict[str, Callable[[CRecord], bool]] = {
    "Lead": _new_lead,  # assignment rules park new, untouched leads in a queue: that is how it should be
    "Activity": lambda record: True,
}
"""Where a queue owner is expected, and for which records."""


def owner_key(record: CRecord) -> str | None:
    """The owner id as the system wrote it (native), else the canonical owner id."""
    return id_key(record.native.get(OWNER) or record.get(OWNER))


def check(record: CRecord, ctx: EntityContext) -> Iterator[Finding]:
    allowed = QUEUE_OWNED.get(record.entity)
    if record.deleted or record.system in ctx.queue_allowed or (allowed is not None and allowed(record)):
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
