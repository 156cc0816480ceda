"""The canonical entities of one project: the built-ins, extended with the project's own fields.

Custom Salesforce fields must land somewhere; a project declares them in config and gets subclassed
models (pydantic ``create_model``) without forking the package. JSON Schemas are exported from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from mappings.canonical.entities import ENTITIES, SCHEMA_VERSION, CanonicalModel
from mappings.canonical.types import PII, Email, Phone
from mappings.errors import MappingSpecError

CustomType = Literal["string", "integer", "decimal", "boolean", "date", "datetime", "email", "phone"]
_TYPES: dict[str, Any] = {
    "string": str, "integer": int, "decimal": Decimal, "boolean": bool,
    "date": date, "datetime": AwareDatetime, "email": Email, "phone": Phone,
}


class CustomField(BaseModel):
    """A project's own canonical field, declared in config."""

    model_config = ConfigDict(extra="forbid")
    type: CustomType = "string"
    pii: bool = False
    description: str = ""


class CanonicalRegistry:
    """Entity name -> model class, for one project."""

    def __init__(self, extensions: Mapping[str, Mapping[str, CustomField]] | None = None) -> None:
        self._models: dict[str, type[CanonicalModel]] = dict(ENTITIES)
        for entity, fields in (extensions or {}).items():
            self._models[entity] = self._extend(entity, fields)

    def _extend(self, entity: str, fields: Mapping[str, CustomField]) -> type[CanonicalModel]:
        base = ENTITIES.get(entity)
        if base is None:
            raise MappingSpecError(f"unknown canonical entity {entity!r}", key=entity)
        clashes = sorted(set(fields) & set(base.model_fields))
        if clashes:
            raise MappingSpecError(f"custom field {clashes[0]!r} already exists", key=f"{entity}.{clashes[0]}")
        definitions: dict[str, Any] = {
            name: (_TYPES[f.type] | None, Field(default=None, description=f.description or None,
                                                json_schema_extra=PII if f.pii else None))
            for name, f in fields.items()
        }
        model = create_model(entity, __base__=base, **definitions)
        return model

    def get(self, entity: str) -> type[CanonicalModel]:
        try:
            return self._models[entity]
        except KeyError:
            known = ", ".join(self._models)
            raise MappingSpecError(f"unknown canonical entity {entity!r} (known: {known})") from None

    def names(self) -> list[str]:
        return list(self._models)

    def json_schema(self, entity: str) -> dict[str, Any]:
        """Draft 2020-12 JSON Schema of an entity, stamped with the schema version."""
        schema = self.get(entity).model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://crmsync.dev/schemas/{SCHEMA_VERSION}/{entity}.json"
        schema["x-schema-version"] = SCHEMA_VERSION
        return schema

    def export(self, directory: Path) -> list[Path]:
        """Write one ``<Entity>.json`` per entity; returns the paths written."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for entity in self._models:
            path = directory / f"{entity}.json"
            path.write_text(json.dumps(self.json_schema(entity), indent=2, sort_keys=True) + "\n")
            written.append(path)
        return written
