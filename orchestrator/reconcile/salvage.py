"""Salvaging a rejected record for matching: map it again with the refused values left out.

A customer whose email is malformed is still a customer. Reporting it as ``invalid_value`` is right;
also reporting its counterpart as ``missing`` (because the rejected record never reached matching)
would be a false finding. So the native fields behind each refused canonical field are blanked and
the record is mapped once more; if that succeeds the partial record takes part in matching and
comparison (the blanked fields compare as absent only on the invalid side, where the finding
already is).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mappings.canonical import CanonicalModel
from mappings.errors import RecordRejection


def native_sources(mapper: Any) -> dict[str, list[str]]:
    """canonical path -> native fields it is computed from, as far as the mapper tells."""
    out: dict[str, list[str]] = {}
    for spec_field in getattr(getattr(mapper, "spec", None), "fields", None) or ():
        if getattr(spec_field, "direction", "both") == "to_native":
            continue
        for path in getattr(spec_field, "canonical_paths", ()):
            out.setdefault(path, []).extend(getattr(spec_field, "native_paths", ()))
    return out


def mapped_fields(mapper: Any) -> set[str] | None:
    """Canonical paths the mapper carries both ways from a native field (None when the mapper does not say).

    Derived values (read-only templates, constants, a domain computed from a website) are left out:
    they restate other fields or say nothing about the record, so they are not compared.
    """
    fields = getattr(getattr(mapper, "spec", None), "fields", None)
    if not fields:
        return None
    return {path for f in fields if getattr(f, "direction", "both") == "both" and getattr(f, "native_paths", ())
            for path in getattr(f, "canonical_paths", ())}


def salvage(mapper: Any, record: Mapping[str, Any], rejection: RecordRejection, ctx: Any
            ) -> CanonicalModel | None:
    """The record mapped without its refused values, or None when that is not possible."""
    sources = native_sources(mapper)
    blanked = dict(record)
    changed = False
    for reason in rejection.reasons:
        for name in sources.get(reason.field, ()):
            if blanked.get(name) is not None:
                blanked[name] = None
                changed = True
    if not changed:
        return None
    try:
        result: CanonicalModel = mapper.to_canonical(blanked, ctx)
    except (RecordRejection, ValueError, TypeError):
        return None
    return result
