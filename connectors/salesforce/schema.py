"""From describe to StreamSpec: Salesforce field types onto ours, compound fields, what can be selected.

Compound fields (address, location) are exposed through their components, which describe lists
as ordinary fields carrying ``compoundFieldName``; the compound itself is left out because Bulk
queries refuse it and writes must use the components. base64 fields are left out of reads: REST
returns a blob URL per record instead of the content and Bulk refuses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from connectors.base import FieldSpec, FieldType, StreamSpec
from connectors.salesforce import quirks

TYPE_MAP: dict[str, FieldType] = {
    "id": "id", "reference": "reference", "masterrecord": "reference",
    "string": "string", "encryptedstring": "string", "combobox": "string", "anyType": "string",
    "datacategorygroupreference": "string", "byte": "string", "calculated": "string",
    "textarea": "text", "email": "email", "phone": "phone", "url": "url",
    "picklist": "picklist", "multipicklist": "multipicklist",
    "boolean": "boolean", "int": "integer", "long": "integer",
    "double": "decimal", "currency": "decimal", "percent": "decimal",
    "date": "date", "datetime": "datetime", "time": "time",
    "base64": "base64", "json": "json", "complexvalue": "json",
}
COMPOUND_TYPES = frozenset({"address", "location"})
UNREADABLE_TYPES = frozenset({"base64"})


@dataclass(frozen=True, slots=True)
class ObjectShape:
    """What the reader and writer need about one object, derived once from its describe."""

    spec: StreamSpec
    select: tuple[str, ...]  # fields named in read queries, Id first
    types: Mapping[str, str]  # Salesforce type per selected field (for Bulk CSV values)
    soft_deletes: bool  # IsDeleted exists: queryAll returns deleted rows
    bulk: bool  # Bulk API 2.0 may read it
    key_prefix: str | None = None  # first three characters of the object's record Ids

    @property
    def name(self) -> str:
        return self.spec.name


def field_spec(field: Mapping[str, Any]) -> FieldSpec:
    """One describe field as a FieldSpec (formula flag, picklist values, restrictions, references)."""
    sf_type = str(field.get("type", "string"))
    picklist = None
    if sf_type in ("picklist", "multipicklist", "combobox"):
        picklist = tuple(str(v["value"]) for v in field.get("picklistValues") or () if v.get("active", True))
    writable = bool(field.get("createable") or field.get("updateable"))
    return FieldSpec(
        name=str(field["name"]),
        type=TYPE_MAP.get(sf_type, "string"),
        nullable=bool(field.get("nillable", True)),
        length=int(field["length"]) if field.get("length") else None,
        formula=bool(field.get("calculated")),
        picklist_values=picklist,
        restricted=bool(field.get("restrictedPicklist")) and sf_type != "combobox",
        reference_to=tuple(field.get("referenceTo") or ()),
        external_id=bool(field.get("externalId")),
        writable=writable and not field.get("calculated"),
    )


def readable(field: Mapping[str, Any]) -> bool:
    """Whether a field can be selected in a multi-record query."""
    return (field.get("type") not in COMPOUND_TYPES | UNREADABLE_TYPES
            and not field.get("deprecatedAndHidden"))


def shape(describe: Mapping[str, Any]) -> ObjectShape:
    """The object's StreamSpec and read plan from its ``/sobjects/{X}/describe`` payload."""
    name = str(describe["name"])
    fields = [f for f in describe.get("fields", ()) if f.get("type") not in COMPOUND_TYPES]
    names = {str(f["name"]) for f in fields}
    entry = quirks.quirk(name)
    soft_deletes = "IsDeleted" in names and entry.soft_deletes
    spec = StreamSpec(
        name=name,
        primary_key=("Id",),
        cursor_field=quirks.cursor_field(name, names),
        fields=tuple(field_spec(f) for f in fields if not f.get("deprecatedAndHidden")),
        supports_deletes=soft_deletes,
    )
    selected = [str(f["name"]) for f in fields if readable(f)]
    selected.sort(key=lambda n: n != "Id")  # stable: Id first, describe order after
    types = {str(f["name"]): str(f.get("type")) for f in fields if str(f["name"]) in set(selected)}
    return ObjectShape(spec, tuple(selected), types, soft_deletes, entry.bulk, describe.get("keyPrefix"))


def narrow(shaped: ObjectShape, wanted: tuple[str, ...]) -> ObjectShape:
    """The shape reading only ``wanted`` plus what reads need (Id, the cursor field, IsDeleted)."""
    unknown = [f for f in wanted if f not in shaped.types]
    if unknown:
        raise ValueError(f"{shaped.name} has no readable field {', '.join(unknown)}")
    spec = shaped.spec
    keep = {"Id", *wanted, *(f for f in (spec.cursor_field, "IsDeleted") if f and f in shaped.types)}
    select = tuple(f for f in shaped.select if f in keep)
    fields = tuple(f for f in spec.fields if f.name in keep)
    return replace(shaped, spec=spec.model_copy(update={"fields": fields}), select=select,
                   types={f: shaped.types[f] for f in select})
