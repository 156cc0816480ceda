"""Canonical field paths (``billing_address.country``) resolved against a project's canonical models."""

from __future__ import annotations

import difflib
import types
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from mappings.transforms.base import FieldInfo


def peel(annotation: Any) -> Any:
    """The type under ``Optional[...]`` and ``Annotated[...]``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def resolve(model: type[BaseModel], path: str) -> FieldInfo:
    """FieldInfo of a dotted path, or ValueError naming the unknown part (with a suggestion)."""
    parts = path.split(".")
    current: type[BaseModel] = model
    for depth, part in enumerate(parts):
        fields = current.model_fields
        if part not in fields:
            known = [n for n in fields if n != "id"]
            close = difflib.get_close_matches(part, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            owner = model.__name__ if depth == 0 else ".".join(parts[:depth])
            raise ValueError(f"unknown canonical field {part!r} of {owner}{hint}")
        annotation = peel(fields[part].annotation)
        if depth < len(parts) - 1:
            if not _is_model(annotation):
                raise ValueError(f"canonical field {'.'.join(parts[:depth + 1])!r} has no sub-fields")
            current = annotation
    info = current.model_fields[parts[-1]]
    nullable = type(None) in get_args(info.annotation)
    omit_none = nullable or info.is_required()
    leaf = parts[-1]
    if depth == 0 and leaf == "id":
        raise ValueError("the canonical id is assigned by the orchestrator's cross-reference, not mapped")
    enum = annotation if isinstance(annotation, type) and issubclass(annotation, Enum) else None
    raw = f"{leaf}_raw" if enum is not None and f"{leaf}_raw" in current.model_fields else None
    raw_path = ".".join([*parts[:-1], raw]) if raw else None
    return FieldInfo(path=path, annotation=annotation, enum=enum, raw_field=raw_path, omit_none=omit_none)
