"""The finding: what reconciliation found, about which records, on which fields, with both values.

A finding's fingerprint names the problem, not its current values: the same field of the same
matched records disagreeing on two runs is one finding seen twice, so the state store can say
what is new, what persists and what was fixed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from orchestrator.reconcile.codes import DEFAULT_SEVERITY, FindingCode, Severity


@dataclass(frozen=True, slots=True, order=True)
class RecordRef:
    """One record a finding is about: the system, its native key and, when known, the canonical id."""

    system: str
    key: str
    canonical_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"system": self.system, "key": self.key, "canonical_id": self.canonical_id}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem. ``values`` maps field -> system -> value (JSON-safe); ``subject`` narrows identity
    where records and fields are not enough (the picklist value that drifted, the schema change)."""

    code: FindingCode
    entity: str
    records: tuple[RecordRef, ...]
    fields: tuple[str, ...] = ()
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    severity: Severity | None = None
    message: str = ""
    subject: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity is None:
            object.__setattr__(self, "severity", DEFAULT_SEVERITY[self.code])

    @property
    def level(self) -> Severity:
        return self.severity or DEFAULT_SEVERITY[self.code]

    @property
    def systems(self) -> tuple[str, ...]:
        return tuple(sorted({r.system for r in self.records}))

    @property
    def fingerprint(self) -> str:
        """Stable identity: code, entity, the records (by system and key), fields and subject."""
        refs = sorted(f"{r.system}\x1f{r.key}" for r in self.records)
        parts = [self.code.value, self.entity, *refs, "\x1e", *sorted(self.fields), "\x1e", self.subject]
        return hashlib.sha1("\x1d".join(parts).encode(), usedforsecurity=False).hexdigest()[:24]

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint, "code": self.code.value, "entity": self.entity,
            "severity": self.level.value, "records": [r.to_json() for r in self.records],
            "fields": list(self.fields), "values": {f: dict(v) for f, v in self.values.items()},
            "message": self.message, "subject": self.subject, "detail": dict(self.detail),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            code=FindingCode(data["code"]), entity=data["entity"], severity=Severity(data["severity"]),
            records=tuple(RecordRef(r["system"], r["key"], r.get("canonical_id")) for r in data["records"]),
            fields=tuple(data.get("fields", ())), values=data.get("values", {}),
            message=data.get("message", ""), subject=data.get("subject", ""), detail=data.get("detail", {}),
        )


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of a canonical value (Decimal and dates as strings, enums as values)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(v) for v in value]
    return str(value)


def field_values(fields: Iterable[str], **by_system: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``values`` for a finding: for each field, each system's value (JSON-safe)."""
    return {f: {system: jsonable(values.get(f)) for system, values in by_system.items()} for f in fields}
