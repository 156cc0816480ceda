"""Hooks into a reconciliation run, for whoever must act on records and not only on findings.

Healing plans from these: it sees each record with the findings about it while the run streams,
so a plan needs no second read of either system. The default observer does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.finding import Finding
from orchestrator.reconcile.records import CRecord, Pair, Rejection


class Observer:
    """Subclass and override what you need; every hook is called from the engine's thread."""

    keep_native: bool = False  # ask the side readers to keep each native record (record.native["_row"])

    def entity_started(self, ctx: EntityContext, duplicates: Sequence[Finding]) -> None:
        """Before matching; ``duplicates`` are the entity's duplicate groups (reported later)."""

    def record(self, record: CRecord, findings: Sequence[Finding]) -> None:
        """Each live record as read, with its record-level findings (picklist, owners, formulas)."""

    def rejection(self, rejection: Rejection, findings: Sequence[Finding]) -> None:
        """Each record the mapper refused, with its invalid_value / picklist_drift findings."""

    def pair(self, pair: Pair, findings: Sequence[Finding]) -> None:
        """Each matched pair with the findings about it (divergence, deletes, merges)."""

    def alone(self, record: CRecord, finding: Finding | None) -> None:
        """Each unmatched record, with its ``missing`` finding when it has one."""

    def entity_finished(self, ctx: EntityContext) -> None:
        """After the entity's last finding."""
