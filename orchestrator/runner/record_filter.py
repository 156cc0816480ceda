"""A sync object's ``filter``: which records of an entity a sync moves, stated on canonical fields.

``{country: [ES, PT], status: active}`` keeps records whose canonical ``country`` is ES or PT and
whose ``status`` is active; a dotted name reaches into a group (``billing_address.country``). The
filter is applied after mapping, so it reads the same in both directions of a two-way sync and
for every connector, whatever its query language. Records it leaves out are counted (``filtered``,
and within ``skipped``) and never quarantined: leaving them out is what was asked for. A record
already written that later stops matching stays where it is: a filter chooses what a sync writes,
not what the target may hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from mappings.canonical import CanonicalModel

_ABSENT = object()


def _comparable(value: Any) -> Any:
    """A canonical value as the filter compares it: enums by their value, everything else as is."""
    return value.value if isinstance(value, Enum) else value


def _read(model: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if model is None:
            return None
        model = getattr(model, part, _ABSENT)
        if model is _ABSENT:
            return None
    return model


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """All conditions must hold; each condition is a canonical field and the values it may take."""

    conditions: tuple[tuple[tuple[str, ...], frozenset[Any]], ...]

    @classmethod
    def from_config(cls, spec: Mapping[str, Any] | None) -> RecordFilter | None:
        if not spec:
            return None
        conditions = []
        for name, allowed in spec.items():
            values = allowed if isinstance(allowed, list | tuple | set | frozenset) else [allowed]
            conditions.append((tuple(name.split(".")), frozenset(_comparable(v) for v in values)))
        return cls(tuple(conditions))

    def keeps(self, model: CanonicalModel) -> bool:
        return all(_comparable(_read(model, path)) in allowed for path, allowed in self.conditions)
