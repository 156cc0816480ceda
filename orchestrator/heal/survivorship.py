"""Survivorship: which system's value wins a field, in the one vocabulary syncs and healing share.

``<system name>`` (that system wins), ``newest`` (the record changed last), ``most_complete`` (a value
beats no value; between two values, the record with more fields filled), ``manual`` (held for a
person). Rules are per field with a default, as in crmsync.yaml's ``survivorship``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.reconcile.records import CRecord

STRATEGIES = ("newest", "most_complete", "manual")


@dataclass(frozen=True, slots=True)
class Rules:
    default: str = "manual"
    fields: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: Any | None) -> Rules:
        """From a ``ResolutionConfig`` (or None: everything manual)."""
        if cfg is None:
            return cls()
        return cls(str(cfg.default), dict(cfg.fields))

    def rule(self, path: str) -> str:
        """The field's rule; ``billing_address.city`` falls back to ``billing_address``, then the default."""
        if path in self.fields:
            return self.fields[path]
        head = path.split(".", 1)[0]
        return self.fields.get(head, self.default)


def _filled(record: CRecord) -> int:
    return sum(1 for v in record.values.values() if v not in (None, ""))


def winner(rule: str, path: str, a: CRecord, b: CRecord) -> CRecord | None:
    """The record whose value of ``path`` survives, or None when a person must decide."""
    if rule == "manual":
        return None
    if rule == a.system:
        return a
    if rule == b.system:
        return b
    if rule == "newest":
        if a.updated_at is None or b.updated_at is None or a.updated_at == b.updated_at:
            return None
        return a if a.updated_at > b.updated_at else b
    if rule == "most_complete":
        va, vb = a.get(path), b.get(path)
        if (va in (None, "")) != (vb in (None, "")):
            return b if va in (None, "") else a
        fa, fb = _filled(a), _filled(b)
        if fa != fb:
            return a if fa > fb else b
        return winner("newest", path, a, b)
    raise ValueError(f"unknown survivorship rule {rule!r} (a system name, newest, most_complete or manual)")


def survivor(records: list[CRecord], matched: set[str]) -> CRecord:
    """The record a duplicate group merges into: one with a counterpart in the other system if any (so
    merging never makes something missing), then the most complete, then the oldest key."""
    return min(records, key=lambda r: (r.key not in matched, -_filled(r), r.key))
