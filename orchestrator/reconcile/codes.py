"""Finding codes and severities: stable names used by reports, thresholds, ground truth and the state store.

A code never changes meaning once released; a new kind of problem gets a new code.
"""

from __future__ import annotations

from enum import StrEnum


class FindingCode(StrEnum):
    MISSING = "missing"  # a record exists in one system and has no counterpart in the other
    FIELD_MISMATCH = "field_mismatch"  # matched records disagree on a field after normalisation
    DUPLICATE = "duplicate"  # two records of one system describe the same thing
    ORPHAN_REFERENCE = "orphan_reference"  # a reference points at a record that does not exist
    INVALID_VALUE = "invalid_value"  # a value fails the canonical schema (email, phone, country...)
    PICKLIST_DRIFT = "picklist_drift"  # a value in use that the value map or the describe does not define
    STALE = "stale"  # changed on one side longer ago than the job's lag and not propagated
    CONFLICT = "conflict"  # both sides changed the field since the last sync
    FORMULA_DRIFT = "formula_drift"  # a formula field's copy disagrees with what the formula gives now
    MERGED = "merged"  # a record merged away (MasterRecordId) is still referenced on the other side
    INACTIVE_OWNER = "inactive_owner"  # owned by a deactivated user
    QUEUE_OWNER = "queue_owner"  # owned by a queue (00G) where a user is expected
    SCHEMA_DRIFT = "schema_drift"  # a system's discovered schema changed since the previous run
    DELETED_ONE_SIDE = "deleted_one_side"  # deleted in one system, still live in the other


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}

DEFAULT_SEVERITY: dict[FindingCode, Severity] = {
    FindingCode.MISSING: Severity.ERROR,
    FindingCode.FIELD_MISMATCH: Severity.WARNING,
    FindingCode.DUPLICATE: Severity.WARNING,
    FindingCode.ORPHAN_REFERENCE: Severity.ERROR,
    FindingCode.INVALID_VALUE: Severity.ERROR,
    FindingCode.PICKLIST_DRIFT: Severity.WARNING,
    FindingCode.STALE: Severity.WARNING,
    FindingCode.CONFLICT: Severity.ERROR,
    FindingCode.FORMULA_DRIFT: Severity.INFO,
    FindingCode.MERGED: Severity.WARNING,
    FindingCode.INACTIVE_OWNER: Severity.WARNING,
    FindingCode.QUEUE_OWNER: Severity.WARNING,
    FindingCode.SCHEMA_DRIFT: Severity.WARNING,
    FindingCode.DELETED_ONE_SIDE: Severity.ERROR,
}
"""The severity a detector gives unless the job's config overrides it."""

ALL_CODES: tuple[str, ...] = tuple(c.value for c in FindingCode)
