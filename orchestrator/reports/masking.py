"""Personal data in finding values, masked by default: enough left to recognise, not to read.

Which fields are personal comes from the canonical model (``x-pii``) plus every email, phone and
name-like field, so a custom field marked ``pii: true`` in config is masked too. ``j***@a***.com``,
``+34*******78`` and ``A*** G***`` let ops see that two values differ and roughly how, without the
report becoming a copy of the customer database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from mappings.canonical import ENTITIES, Address, is_pii

_ALWAYS = re.compile(r"(^|[._])(email|phone|mobile_phone|fax|first_name|last_name|full_name|street|birthdate|"
                     r"username|description)$")
_EMAIL = re.compile(r"^([^@\s]+)@([^@\s]+)$")


def is_personal(entity: str, path: str, models: Mapping[str, type[BaseModel]] | None = None) -> bool:
    """Whether a (dotted) canonical field of ``entity`` holds personal data."""
    if _ALWAYS.search(path.lower()):
        return True
    model = (models or ENTITIES).get(entity)
    if model is None:
        return False
    head, _, rest = path.partition(".")
    if head in model.model_fields and is_pii(model, head):
        return True
    if rest:
        return head.endswith("address") and rest in Address.model_fields and is_pii(Address, rest)
    return False


def mask_text(value: str) -> str:
    """Keep the shape: first letters of words, email domains' first letter and suffix, phone ends."""
    match = _EMAIL.match(value)
    if match:
        local, domain = match.groups()
        host, dot, suffix = domain.rpartition(".")
        return f"{local[:1]}***@{(host or domain)[:1]}***{dot}{suffix if dot else ''}"
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and len(digits) >= len(value.replace(" ", "")) - 4:
        return value[:3] + "*" * max(len(value) - 5, 3) + value[-2:]
    return " ".join(word[:1] + "***" for word in value.split()) or "***"


def mask_value(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return "***"
    if isinstance(value, str):
        return mask_text(value) if value else value
    if isinstance(value, Mapping):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return "***"


def mask_finding(data: Mapping[str, Any], show_personal: bool = False,
                 models: Mapping[str, type[BaseModel]] | None = None) -> dict[str, Any]:
    """A finding's JSON with personal values masked (unless ``show_personal``)."""
    out = dict(data)
    if show_personal:
        return out
    entity = str(data.get("entity", ""))
    values = data.get("values") or {}
    out["values"] = {f: (mask_value(v) if is_personal(entity, f, models) else v) for f, v in values.items()}
    if data.get("code") in ("picklist_drift", "invalid_value") and any(is_personal(entity, f, models)
                                                                       for f in data.get("fields", ())):
        out["subject"] = mask_value(data.get("subject"))
    return out
