"""The shape of a mapping spec file, as pydantic models (see docs/mappings.md for the format)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TransformItem = str | dict[str, Any]
"""``trim``, ``{phone: {region: ES}}`` or ``{default: 0}`` (a scalar fills the transform's main option)."""


def _one_or_many(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


class FieldMapping(BaseModel):
    """One canonical field (or several) from one native field (or several), with its transforms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    canonical: str | list[str] | None = None  # dotted path(s): billing_address.country
    native: str | list[str] | None = None  # native field name(s); dotted for nested JSON
    transforms: list[TransformItem] = Field(default_factory=list)  # native -> canonical, in order
    inverse: list[TransformItem] | None = None  # canonical -> native; default: derived from transforms
    required: bool = False  # reject the record (required_missing) when the canonical value is null
    direction: Literal["both", "to_canonical", "to_native"] = "both"
    read_only: bool = False  # mapped both ways, but left out of writes unless asked (system fields)
    description: str = ""

    @field_validator("canonical", "native")
    @classmethod
    def _names(cls, value: str | list[str] | None) -> str | list[str] | None:
        for name in _one_or_many(value):
            if not name or name.startswith(".") or name.endswith(".") or ".." in name:
                raise ValueError(f"invalid field path {name!r}")
        if isinstance(value, list) and not value:
            raise ValueError("name at least one field")
        return value

    @property
    def canonical_paths(self) -> tuple[str, ...]:
        return _one_or_many(self.canonical)

    @property
    def native_paths(self) -> tuple[str, ...]:
        return _one_or_many(self.native)


class SpecOptions(BaseModel):
    """Spec-wide defaults for transforms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    empty_as_null: bool = True  # "" from a native field is no value (CSV and Bulk exports)
    timezone: str | None = None  # zone of this system's naive datetimes (default: the context's)
    phone_region: str | None = None  # default region for national phone numbers (ISO 3166, e.g. ES)


class MappingSpec(BaseModel):
    """One native object of one kind of system <-> one canonical entity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    system_type: str = Field(min_length=1)  # connector type: salesforce, sql, csv, rest...
    object: str = Field(min_length=1)  # native object: Contact, customers...
    entity: str = Field(min_length=1)  # canonical entity: Contact, Account...
    key: str | list[str]  # native key field(s)
    key_transforms: list[TransformItem] = Field(default_factory=list)  # e.g. [sf_id] for 15-char ids
    cursor: str | None = None  # native field that orders changes (SystemModstamp, changed_ts)
    select: dict[str, Any] = Field(default_factory=dict)  # canonical values routing writes to this spec
    options: SpecOptions = Field(default_factory=SpecOptions)
    fields: list[FieldMapping] = Field(min_length=1)
    description: str = ""

    @property
    def key_fields(self) -> tuple[str, ...]:
        return _one_or_many(self.key)
