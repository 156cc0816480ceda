"""Picklists: native values to canonical ones through a table, with an explicit path for the unknown.

``on_unknown: other`` maps a value the table does not know to the enum's ``other`` member and keeps
the native value in the canonical ``<field>_raw`` field, so nothing is lost and drift can be
reported. The raw value is also kept when several native values share one canonical value and the
record's is not the first listed, so writing back restores exactly what the system had.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import Field

from mappings import reasons
from mappings.transforms.base import BuildEnv, Options, Step, TransformDef, TransformError


class Raw(str):
    """A native picklist value carried beside the canonical one (into or out of ``*_raw``)."""

    canonical: Any

    def __new__(cls, raw: str, canonical: Any) -> Raw:
        self = super().__new__(cls, raw)
        self.canonical = canonical
        return self


class ValueMapOptions(Options):
    map: dict[Any, Any] = Field(min_length=1)  # native value -> canonical value
    on_unknown: Literal["reject", "other", "keep"] = "reject"
    ignore_case: bool = False
    reverse: dict[Any, Any] = Field(default_factory=dict)  # canonical -> native, where not the first listed
    default: Any = None  # canonical value for natives not in the table (instead of on_unknown), one way


def _fold(value: Any, ignore_case: bool) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value.casefold() if ignore_case else value
    return value


def _other_member(env: BuildEnv) -> Any:
    target = env.canonical[0] if env.canonical else None
    enum = target.enum if target else None
    if target is None or enum is None or not issubclass(enum, Enum) or "OTHER" not in enum.__members__ \
            or not target.raw_field:
        raise ValueError("on_unknown: other needs an enum field with an OTHER member and a <field>_raw field")
    return enum.__members__["OTHER"].value


def _preferred(options: ValueMapOptions) -> dict[Any, Any]:
    """canonical -> native for writing: the first native listed for each value, unless `reverse` says."""
    preferred: dict[Any, Any] = {}
    for native, canonical in options.map.items():
        preferred.setdefault(canonical, native)
    preferred.update(options.reverse)
    return preferred


def _value_map(options: ValueMapOptions, env: BuildEnv) -> Step:
    fold = options.ignore_case
    table = {_fold(k, fold): v for k, v in options.map.items()}
    other = _other_member(env) if options.on_unknown == "other" else None
    preferred = _preferred(options)
    keep_raw = other is not None
    fallback = options.default

    def value_map(value: Any) -> Any:
        try:
            found = table.get(_fold(value, fold), _MISSING)
        except TypeError:
            found = _MISSING
        if found is _MISSING:
            if fallback is not None:
                return fallback
            if other is not None:
                return Raw(str(value), other)
            if options.on_unknown == "keep":
                return value
            raise TransformError(reasons.UNKNOWN_PICKLIST_VALUE)
        if keep_raw and preferred.get(found, _MISSING) != value and isinstance(value, str):
            return Raw(value, found)
        return found
    return Step(value_map)


def _value_map_inverse(options: ValueMapOptions, env: BuildEnv) -> Step:
    preferred = _preferred(options)
    forward = {_fold(k, options.ignore_case): v for k, v in options.map.items()}
    keep = options.on_unknown == "keep"
    other = _other_member(env) if options.on_unknown == "other" else _MISSING

    def write(value: Any) -> Any:
        if isinstance(value, Raw):  # the canonical value came with its native original
            mapped = forward.get(_fold(str(value), options.ignore_case), other)
            if mapped == value.canonical:  # still what the raw value means: write it back exactly
                return str(value)
            value = value.canonical
        key = value.value if isinstance(value, Enum) else value
        found = preferred.get(key, _MISSING)
        if found is _MISSING:
            if keep:
                return key
            raise TransformError(reasons.UNKNOWN_PICKLIST_VALUE, "no native value for it")
        return found
    return Step(write)


_MISSING = object()

DEFINITIONS = [
    TransformDef("value_map", _value_map, _value_map_inverse, ValueMapOptions, "map",
                 summary="picklist table native -> canonical; on_unknown: reject | other | keep; "
                         "ignore_case; reverse for values listed twice; unknown_picklist_value"),
]
