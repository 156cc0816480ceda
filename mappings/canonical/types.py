"""Value types of the canonical model: validated emails, E.164 phones, ISO codes, money, addresses.

The validators delegate to ``mappings.validation`` so that there is one definition of "a valid
email" or "a valid phone" for schemas, transforms and reconciliation alike.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import JsonDict

from mappings import validation

PII: JsonDict = {"x-pii": True}
"""json_schema_extra marking a field that holds personal data (masked in reports, kept out of logs)."""


def _email(value: str) -> str:
    normalised = validation.normalise_email(value)
    if normalised is None:
        raise ValueError("invalid_email")
    return normalised


def _phone(value: str) -> str:
    if not validation.is_e164(value):
        raise ValueError("unparseable_phone")
    return value


def _country(value: str) -> str:
    code = validation.country_code(value)
    if code is None:
        raise ValueError("invalid_country")
    return code


def _currency(value: str) -> str:
    code = validation.currency_code(value)
    if code is None:
        raise ValueError("invalid_currency")
    return code


Email = Annotated[str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})]
Phone = Annotated[
    str, AfterValidator(_phone), WithJsonSchema({"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$"})
]
CountryCode = Annotated[
    str, AfterValidator(_country), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$"})
]
CurrencyCode = Annotated[
    str, AfterValidator(_currency), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$"})
]


class Money(BaseModel):
    """An amount with its ISO 4217 currency; Decimal, never float, so 1234.5 == 1234.50 exactly."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Decimal
    currency: CurrencyCode


class Address(BaseModel):
    """A postal address by component (Salesforce compound fields are compared component-wise)."""

    model_config = ConfigDict(extra="forbid")

    street: str | None = Field(default=None, json_schema_extra=PII)
    city: str | None = None
    postal_code: str | None = None
    state: str | None = None
    country: CountryCode | None = None


def is_pii(model: type[BaseModel], field_name: str) -> bool:
    """True when the model marks ``field_name`` as personal data."""
    info = model.model_fields.get(field_name)
    extra: Any = info.json_schema_extra if info else None
    return isinstance(extra, dict) and bool(extra.get("x-pii"))
