"""Two-way conflicts: a record changed on both sides since the last sync, settled by policy.

Field by field: a field changed on one side only takes that side's value (nothing is lost); a field
changed on both sides to different values is a collision, settled by the rule for that field (the
sync's per-field override, else its default): ``<system name>`` wins, ``newest`` (later
``updated_at``), ``most_complete`` (the side with more filled fields), or ``manual``: the record is
held for a person, written nowhere, and listed. Nothing is ever overwritten silently: every
collision is reported with its fields and the rule that settled it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MANUAL, NEWEST, MOST_COMPLETE = "manual", "newest", "most_complete"
META_FIELDS = frozenset({"id", "created_at", "updated_at", "is_deleted"})


@dataclass(frozen=True, slots=True)
class ConflictRules:
    """The sync's conflict policy: a default rule plus per-field overrides."""

    default: str = MANUAL
    fields: Mapping[str, str] = field(default_factory=dict)

    def rule(self, name: str) -> str:
        return self.fields.get(name, self.default)


@dataclass(frozen=True, slots=True)
class Side:
    """One system's current canonical values of the record (JSON-ready) and when it changed there."""

    system: str
    values: Mapping[str, Any]
    updated_at: datetime | None = None

    def filled(self) -> int:
        return sum(1 for k, v in self.values.items() if k not in META_FIELDS and v not in (None, "", [], {}))


@dataclass(frozen=True, slots=True)
class Collision:
    """One field both sides changed differently, and who won it (None when held)."""

    field: str
    rule: str
    winner: str | None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The merged record both sides should hold, or ``held`` when a person must decide."""

    merged: dict[str, Any] | None
    collisions: tuple[Collision, ...]

    @property
    def held(self) -> bool:
        return self.merged is None

    @property
    def is_conflict(self) -> bool:
        return bool(self.collisions)


def resolve(base: Mapping[str, Any] | None, one: Side, other: Side, rules: ConflictRules) -> Resolution:
    """Merge two changed versions of a record against ``base``, the last state both sides agreed on.

    Without a base (never synced together) every differing field is a collision.
    """
    merged: dict[str, Any] = {}
    collisions: list[Collision] = []
    held = False
    for name in sorted((set(one.values) | set(other.values)) - META_FIELDS):
        mine, theirs = one.values.get(name), other.values.get(name)
        if mine == theirs:
            merged[name] = mine
            continue
        before = base.get(name) if base is not None else _UNSET
        if before is not _UNSET and theirs == before:
            merged[name] = mine
        elif before is not _UNSET and mine == before:
            merged[name] = theirs
        else:
            rule = rules.rule(name)
            winner = _winner(rule, one, other)
            collisions.append(Collision(name, rule, None if winner is None else winner.system))
            if winner is None:
                held = True
            else:
                merged[name] = winner.values.get(name)
    return Resolution(None if held else merged, tuple(collisions))


_UNSET: Any = object()


def _winner(rule: str, one: Side, other: Side) -> Side | None:
    if rule == MANUAL:
        return None
    if rule == NEWEST:
        return _newest(one, other)
    if rule == MOST_COMPLETE:
        a, b = one.filled(), other.filled()
        return one if a > b else other if b > a else _newest(one, other)
    if rule == one.system:
        return one
    if rule == other.system:
        return other
    raise ValueError(f"conflict rule {rule!r} names no system of this sync ({one.system}, {other.system})")


def _newest(one: Side, other: Side) -> Side:
    """The later change; a tie or an unknown time goes to ``one`` (the sync's source side)."""
    if one.updated_at is None or other.updated_at is None:
        return one if other.updated_at is None else other
    return other if other.updated_at > one.updated_at else one
