"""Identifiers: Salesforce 15 -> 18 character ids, and references through the ID cross-reference.

The 18-character form appends a checksum of the upper-case letters of the 15-character id, so the
two forms of one id compare equal after normalisation while ids that differ only in case stay
distinct. References turn the native id of a parent record into its canonical id with the
caller's ``lookup`` (``MappingContext``): mappings stay pure, the orchestrator owns the table.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, field_validator

from mappings import reasons
from mappings.transforms.base import BuildEnv, Options, Step, TransformDef, TransformError

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SF_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?")
_UPPER_BITS = str.maketrans({c: "1" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"} | {c: "0" for c in
                            "abcdefghijklmnopqrstuvwxyz0123456789"})


def salesforce_checksum(id15: str) -> str:
    """The three checksum characters of a 15-character Salesforce id.

    Each group of five characters gives a 5-bit number, bit i set when character i is an upper-case
    letter; the number indexes A-Z0-5.
    """
    bits = id15[:15].translate(_UPPER_BITS)
    return "".join(_CHECKSUM_ALPHABET[int(bits[start:start + 5][::-1], 2)] for start in (0, 5, 10))


@lru_cache(maxsize=65536)  # parent and owner ids repeat across records
def salesforce_id18(value: str) -> str | None:
    """The 18-character form of a 15- or 18-character id, or None if it is not one (bad checksum)."""
    if _SF_ID.fullmatch(value) is None:
        return None
    suffix = salesforce_checksum(value[:15])
    if len(value) == 18 and value[15:] != suffix:
        return None
    return value[:15] + suffix


class SalesforceIdOptions(Options):
    native_length: Literal[15, 18] = 18


def _sf_id(options: SalesforceIdOptions, env: BuildEnv) -> Step:
    def sf_id(value: Any) -> Any:
        found = salesforce_id18(value.strip()) if isinstance(value, str) else None
        if found is None:
            raise TransformError(reasons.INVALID_VALUE, "expected a 15 or 18 character Salesforce id")
        return found
    # Clean 18-character ids, the common case, through the cache directly; the rest through sf_id.
    inline = "u = {id18}(v) if type(v) is str and len(v) == 18 else None\nv = u if u is not None else {fn}(v)"
    return Step(sf_id, inline=inline, names={"id18": salesforce_id18})


def _sf_id_inverse(options: SalesforceIdOptions, env: BuildEnv) -> Step:
    if options.native_length == 15:
        return Step(lambda value: value[:15] if isinstance(value, str) else value)
    return Step(lambda value: value)


class ReferenceOptions(Options):
    entity: str | list[str]  # the canonical entity referred to; several for polymorphic fields
    on_missing: Literal["reject", "null", "keep"] = "reject"
    prefixes: dict[str, str] = Field(default_factory=dict)  # id prefix -> entity ("003": Contact)

    @field_validator("entity")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        if not value:
            raise ValueError("name at least one entity")
        return value

    def entities(self) -> tuple[str, ...]:
        return (self.entity,) if isinstance(self.entity, str) else tuple(self.entity)


def _reference(options: ReferenceOptions, env: BuildEnv) -> Step:
    entities, prefixes = options.entities(), options.prefixes
    width = len(next(iter(prefixes))) if prefixes else 0

    def candidates(native_id: str) -> tuple[str, ...]:
        chosen = prefixes.get(native_id[:width]) if width else None
        return (chosen,) if chosen else entities

    def reference(value: Any, ctx: Any) -> Any:
        native_id = value if isinstance(value, str) else str(value)
        if ctx.lookup is not None:
            for entity in candidates(native_id):
                found = ctx.lookup(entity, native_id)
                if found is not None:
                    return found
        return _missing(options, ctx, native_id)
    if len(entities) == 1 and not prefixes:  # one entity: the look-up itself in the generated code
        inline = ("u = ctx.lookup({entity}, v) if type(v) is str and ctx.lookup is not None else None\n"
                  "v = u if u is not None else {fn}(v, ctx)")
        return Step(reference, context=True, inline=inline, names={"entity": entities[0]})
    return Step(reference, context=True)


def _missing(options: ReferenceOptions, ctx: Any, value: str) -> Any:
    policy = ctx.on_missing_reference or options.on_missing
    if policy == "null":
        return None
    if policy == "keep":
        return value
    raise TransformError(reasons.UNRESOLVED_REFERENCE, "not in the ID cross-reference")


def _reference_inverse(options: ReferenceOptions, env: BuildEnv) -> Step:
    entities = options.entities()

    def reference(value: Any, ctx: Any) -> Any:
        if ctx.reverse_lookup is not None:
            for entity in entities:
                found = ctx.reverse_lookup(entity, value)
                if found is not None:
                    return found
        return _missing(options, ctx, value)
    return Step(reference, context=True)


DEFINITIONS = [
    TransformDef("sf_id", _sf_id, _sf_id_inverse, SalesforceIdOptions, "native_length",
                 summary="Salesforce id, 15 or 18 characters, to the 18-character form; invalid_value"),
    TransformDef("reference", _reference, _reference_inverse, ReferenceOptions, "entity",
                 summary="native id of a parent -> canonical id through the cross-reference (and back); "
                         "on_missing: reject | null | keep; unresolved_reference",
                 references=lambda options: options.entities()),
]
