"""The state store: runs, fenced leases and checkpoints, ID cross-reference, quarantine, findings."""

from orchestrator.state.store import StateStore
from orchestrator.state.types import (
    Finding,
    FindingsDelta,
    ForgetResult,
    Lease,
    PartitionInfo,
    QuarantineItem,
    QuarantineRecord,
    ReasonGroup,
    RunRecord,
    StaleLeaseError,
    StateStoreError,
    StoredFinding,
    StreamRecord,
    SyncStateRow,
    TrendPoint,
    XrefRow,
)

__all__ = [
    "Finding", "FindingsDelta", "ForgetResult", "Lease", "PartitionInfo", "QuarantineItem", "QuarantineRecord",
    "ReasonGroup", "RunRecord", "StaleLeaseError", "StateStore", "StateStoreError", "StoredFinding",
    "StreamRecord", "SyncStateRow", "TrendPoint", "XrefRow",
]
