"""Values the state store takes and returns: plain frozen dataclasses, no ORM objects.

Rows come back as these types so callers never depend on SQLAlchemy; every timestamp is an aware
UTC ``datetime``. Payloads and finding values are personal data: they are never logged, and the
store only returns them when a caller asks for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mappings.errors import Reason

RunStatus = Literal["running", "succeeded", "partial", "failed", "cancelled"]
StreamStatus = Literal["pending", "running", "succeeded", "partial", "failed", "cancelled", "skipped"]
QuarantineStage = Literal["read", "map", "write"]
QuarantineStatus = Literal["open", "retried", "resolved", "discarded"]
PartitionStatus = Literal["pending", "running", "done", "failed"]
FindingStatus = Literal["open", "resolved", "all"]

QUARANTINE_STATUSES: tuple[str, ...] = ("open", "retried", "resolved", "discarded")
RUN_STATUSES: tuple[str, ...] = ("running", "succeeded", "partial", "failed", "cancelled")


class StaleLeaseError(Exception):
    """The lease's epoch is no longer current: another worker owns the partition now.

    Raised by fenced writes (``commit_batch``, ``renew_lease``, ``finish_partition``). Nothing was
    written; the holder must stop working on the partition at once and must not retry the write.
    """

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        super().__init__(f"lease on {lease.sync}/{lease.stream}/{lease.partition} epoch {lease.epoch} "
                         f"held by {lease.owner} is no longer current")


class StateStoreError(Exception):
    """The state store cannot be used as asked (unknown run, schema newer than this crmsync...)."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A fenced right to work on one partition: every write must carry a current ``epoch``."""

    sync: str
    stream: str
    partition: str
    owner: str
    epoch: int
    expires_at: datetime
    ttl_s: float


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    """A partition row as planners and reapers see it (lease state included, never payloads)."""

    sync: str
    stream: str
    partition: str
    status: str
    owner: str | None
    epoch: int
    expires_at: datetime | None
    run_id: str | None
    bounds: dict[str, Any] | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class XrefRow:
    """One native record's place in the ID cross-reference: (system, object, native_id) -> canonical id."""

    system: str
    object: str
    native_id: str
    canonical_id: str
    entity: str


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """A record that could not be read, mapped or written, with every field-level reason.

    ``native_key`` is the record's key in ``system``/``object`` (a string; compound keys joined by
    the caller). ``payload`` is the record as it was when it failed, so it can be retried; it is
    personal data and is never logged.
    """

    sync: str
    stream: str
    system: str
    object: str
    native_key: str
    stage: QuarantineStage
    reasons: Sequence[Reason]
    payload: Mapping[str, Any] | None = None
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """A stored quarantine row; ``payload`` is None unless the caller asked for payloads."""

    id: int
    run_id: str | None
    sync: str
    stream: str
    system: str
    object: str
    native_key: str
    stage: str
    reasons: tuple[Reason, ...]
    payload: dict[str, Any] | None
    attempts: int
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReasonGroup:
    """How many open quarantine records share one reason code on one field."""

    code: str
    field: str
    count: int
    sync: str | None = None


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One stream of one run: status, accumulated counts, the last error."""

    stream: str
    status: str
    counts: dict[str, int]
    error: str | None
    started_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A sync, reconciliation or healing run."""

    run_id: str
    sync: str
    kind: str
    params: dict[str, Any]
    status: str
    summary: dict[str, Any]
    error: str | None
    cancel_requested: bool
    started_at: datetime
    finished_at: datetime | None
    streams: tuple[StreamRecord, ...] = ()

    @property
    def duration_s(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


@dataclass(frozen=True, slots=True)
class SyncStateRow:
    """What a two-way sync last wrote for one canonical record, to tell later which side changed."""

    sync: str
    entity: str
    canonical_id: str
    hash: str
    values: Mapping[str, Any] | None = None  # last synced canonical values (personal data)


@dataclass(frozen=True, slots=True)
class Finding:
    """One reconciliation finding as a job reports it.

    ``keys`` identify the record(s) (match keys, native ids per system); ``fields`` name the
    fields involved; ``values`` hold the differing values (personal data: masked in reports by
    default). The fingerprint is stable across runs, so a finding can be followed over time.
    """

    code: str
    entity: str
    keys: Mapping[str, Any]
    fields: Sequence[str] = ()
    values: Mapping[str, Any] | None = None
    severity: str = "warning"
    fingerprint: str | None = None  # computed from code, entity, keys and fields when None


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding as stored for one job: when it was first and last seen, and when it was resolved."""

    id: int
    job: str
    fingerprint: str
    code: str
    entity: str
    keys: dict[str, Any]
    fields: tuple[str, ...]
    values: dict[str, Any] | None
    severity: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    first_run_id: str | None
    run_id: str | None  # the last run that saw it

    @property
    def status(self) -> str:
        return "resolved" if self.resolved_at is not None else "open"


@dataclass(frozen=True, slots=True)
class FindingsDelta:
    """What changed in one run of a job: new (first seen or reopened), persisting, resolved."""

    new: list[StoredFinding] = field(default_factory=list)
    persisting: list[StoredFinding] = field(default_factory=list)
    resolved: list[StoredFinding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "persisting": len(self.persisting), "resolved": len(self.resolved)}


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One run of a job in the findings trend: deltas and how many stayed open, per code too."""

    run_id: str
    at: datetime
    new: int
    persisting: int
    resolved: int
    open: int
    by_code: dict[str, int]


@dataclass(frozen=True, slots=True)
class ForgetResult:
    """What ``forget`` erased for one person; counts only."""

    canonical_ids: tuple[str, ...]
    xref: int = 0
    quarantine: int = 0
    findings: int = 0
    sync_state: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"xref": self.xref, "quarantine": self.quarantine, "findings": self.findings,
                "sync_state": self.sync_state}
