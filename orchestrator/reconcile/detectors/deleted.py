"""deleted_one_side and merged: a record gone from one system and still live in the other.

A record deleted because it lost a merge (Salesforce keeps ``MasterRecordId`` on the deleted loser)
is reported as ``merged`` with the surviving master, so healing re-links instead of deleting
(reference #12); any other one-sided delete is ``deleted_one_side`` (reference #1).
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.finding import Finding, RecordRef
from orchestrator.reconcile.records import CRecord, Pair

MASTER = "master_record_id"
"""Key of ``CRecord.native`` that holds the merge master's id (mapped from MasterRecordId)."""
TOMBSTONE = "tombstone"
MERGEABLE = frozenset({"Account", "Contact", "Lead"})
"""Entities a CRM merges: a bare tombstone of one of them may be a merge loser (reference #12)."""


def check(pair: Pair, ctx: EntityContext) -> Iterator[Finding]:
    if pair.left.deleted == pair.right.deleted:
        return
    gone, live = (pair.left, pair.right) if pair.left.deleted else (pair.right, pair.left)
    master = gone.native.get(MASTER)
    if master:
        yield merged(gone, live, str(master), ctx)
        return
    detail: dict[str, object] = {"deleted_in": gone.system, "live_in": live.system}
    message = f"deleted in {gone.system}, still live in {live.system}"
    if gone.native.get(TOMBSTONE) and ctx.entity in MERGEABLE:
        # Only the key came back: a merge cannot be told from a delete, so healing must not act on its own.
        detail["may_be_merge"] = True
        message += f" ({gone.system} reported only a tombstone: it may have been merged)"
    yield Finding(code=FindingCode.DELETED_ONE_SIDE, entity=ctx.entity, records=(gone.ref, live.ref),
                  message=message, detail=detail)


def merged(loser: CRecord, live: CRecord | None, master: str, ctx: EntityContext) -> Finding:
    """A merge loser still referenced elsewhere: ``records`` are the loser, the master and the live record."""
    refs = [loser.ref, RecordRef(loser.system, master)]
    if live is not None:
        refs.append(live.ref)
    return Finding(
        code=FindingCode.MERGED, entity=ctx.entity, records=tuple(refs),
        message=f"merged into another record in {loser.system}"
                + (f"; {live.system} still points at the merged-away record" if live else ""),
        detail={"merged_in": loser.system, "master": master, "loser": loser.key},
    )
