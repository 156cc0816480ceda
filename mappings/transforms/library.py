"""Every built-in transform, in one list (``TransformRegistry.builtin()`` registers them)."""

from __future__ import annotations

from mappings.transforms import contact, geo, ids, numeric, picklist, structure, temporal, text
from mappings.transforms.base import TransformDef

BUILTINS: list[TransformDef] = [
    *text.DEFINITIONS, *contact.DEFINITIONS, *geo.DEFINITIONS, *temporal.DEFINITIONS, *numeric.DEFINITIONS,
    *picklist.DEFINITIONS, *structure.DEFINITIONS, *ids.DEFINITIONS,
]
