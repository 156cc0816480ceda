"""What kind of value each canonical field holds, flattened to dotted paths (``billing_address.city``).

Normalisation and comparison pick their rule from the kind, so an email is compared as an email and a
money amount as a decimal, whichever system the value came from. Money and addresses are flattened
into components because Salesforce stores compound fields component by component (reference #7).
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel

from mappings.canonical.types import Address, CountryCode, CurrencyCode, Email, Money, Phone

Kind = Literal["text", "email", "phone", "country", "currency", "decimal", "integer", "boolean",
               "datetime", "date", "enum", "reference", "id"]

_ANNOTATED: list[tuple[Any, Kind]] = [(Email, "email"), (Phone, "phone"), (CountryCode, "country"),
                                      (CurrencyCode, "currency")]
_NOT_COMPARED = frozenset({"id", "created_at", "updated_at", "is_deleted"})
"""Bookkeeping fields: the canonical id is the match itself and change times differ by nature."""


def _unwrap(annotation: Any) -> list[Any]:
    """The non-None members of an Optional/Union annotation (Annotated kept whole)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _validator_funcs(marker: Any) -> set[Any]:
    return {getattr(m, "func", None) for m in typing.get_args(marker)[1:]} - {None}


_BY_VALIDATOR: dict[Any, Kind] = {func: kind for marker, kind in _ANNOTATED for func in _validator_funcs(marker)}


def _kind_of(name: str, annotation: Any, metadata: list[Any]) -> Kind | type[BaseModel]:
    for item in metadata:  # pydantic moves a bare Annotated field's validators into metadata
        kind = _BY_VALIDATOR.get(getattr(item, "func", None))
        if kind is not None:
            return kind
    for member in _unwrap(annotation):
        for marker, kind in _ANNOTATED:
            if member is marker or member == marker:
                return kind
        if member in (Money, Address):
            return typing.cast(type[BaseModel], member)
        if isinstance(member, type):
            if issubclass(member, Enum):
                return "enum"
            if issubclass(member, bool):
                return "boolean"
            if issubclass(member, int):
                return "integer"
            if issubclass(member, Decimal | float):
                return "decimal"
            if member is AwareDatetime or issubclass(member, datetime):
                return "datetime"
            if issubclass(member, date):
                return "date"
    if name.endswith("_id"):
        return "reference"
    return "text"


@lru_cache(maxsize=64)
def field_kinds(model: type[BaseModel], prefix: str = "") -> dict[str, Kind]:
    """Dotted path -> kind for every comparable field of a canonical model (bookkeeping fields left out)."""
    out: dict[str, Kind] = {}
    for name, info in model.model_fields.items():
        if not prefix and name in _NOT_COMPARED:
            continue
        kind = _kind_of(name, info.annotation, info.metadata)
        if isinstance(kind, type):
            out.update(field_kinds(kind, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = kind
    return out


def flatten(values: typing.Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A canonical record as one flat dict of dotted paths (nested models and dicts expanded)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, BaseModel):
            value = value.model_dump()
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


_SKIP = frozenset({"id", "created_at", "updated_at", "is_deleted"})


@lru_cache(maxsize=64)
def _nested(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` that hold a nested model (addresses, money)."""
    return tuple(name for name, info in model.model_fields.items()
                 if isinstance(_kind_of(name, info.annotation, info.metadata), type))


def flat_values(model: BaseModel) -> dict[str, Any]:
    """A canonical model's values as one flat dict, read straight from its fields (no serialisation):
    the hot path of reconciliation, millions of times per run. Bookkeeping fields are left out."""
    out = dict(model.__dict__)
    for name in _SKIP:
        out.pop(name, None)
    for name in _nested(type(model)):
        value = out.get(name)
        if value is not None:
            del out[name]
            for sub, inner in value.__dict__.items():
                out[f"{name}.{sub}"] = inner
    return out


def unflatten(values: typing.Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`flatten` (components of an all-empty nested value collapse to None)."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if rest:
            nested = out.setdefault(head, {})
            if isinstance(nested, dict):
                nested[rest] = value
        else:
            out[head] = value
    for key, value in list(out.items()):
        if isinstance(value, dict):
            inner = unflatten(value) if any("." in k for k in value) else value
            out[key] = inner if any(v is not None for v in inner.values()) else None
    return out
