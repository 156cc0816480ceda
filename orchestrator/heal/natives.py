"""From canonical changes to native writes, through the target system's own mapping.

A field fix is expressed canonically (``phone`` becomes ``+34...``) and written natively: both the
record as it is and as it should be are rendered with the target's mapper, and only the native
fields that differ are written. So value maps, formats and compound fields are the mapping's
business, and a fix never rewrites fields it did not mean to touch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mappings.canonical import CanonicalModel
from mappings.context import MappingContext
from orchestrator.reconcile.fieldkinds import unflatten


def model(cls: type[CanonicalModel], flat: Mapping[str, Any]) -> CanonicalModel:
    """A canonical model from flat values; values that were valid once are trusted if validation balks."""
    data = unflatten(flat)
    try:
        return cls.model_validate(data)
    except ValueError:
        return cls.model_construct(**data)


def context(system: str, timezone: str, reverse: Callable[[str, str], str | None]) -> MappingContext:
    return MappingContext(system=system, reverse_lookup=reverse, lookup=lambda e, k: None, timezone=timezone,
                          on_missing_reference="null")


def read_context(system: str, timezone: str, lookup: Callable[[str, str], str | None]) -> MappingContext:
    return MappingContext(system=system, lookup=lookup, timezone=timezone, on_missing_reference="null")


def key_field(mapper: Any) -> str:
    key = mapper.spec.key
    return str(key if isinstance(key, str) else key[0])


def changes(mapper: Any, cls: type[CanonicalModel], ctx: MappingContext, before: Mapping[str, Any],
            after: Mapping[str, Any]) -> dict[str, Any]:
    """Native field -> value to write, for the canonical change from ``before`` to ``after``."""
    old = mapper.to_native(model(cls, before), ctx)
    new = mapper.to_native(model(cls, after), ctx)
    return {k: v for k, v in new.items() if old.get(k) != v}
