"""Emails and phones, through the one definition in ``mappings.validation`` (fast path included)."""

from __future__ import annotations

from typing import Any, Literal

import phonenumbers
from pydantic import field_validator

from mappings import reasons, validation
from mappings.fastpath import email as fast_email
from mappings.fastpath import phone as fast_phone
from mappings.transforms.base import BuildEnv, Options, Step, TransformDef, TransformError


def _email(options: Any, env: BuildEnv) -> Step:
    fast, unsure, reference = fast_email.normalise, fast_email.UNSURE, validation.reference_normalise_email

    def email(value: Any) -> Any:  # validation.normalise_email, unrolled: this runs for every record
        if type(value) is not str:
            raise TransformError(reasons.INVALID_EMAIL, "expected text")
        found = fast(value)
        if found is unsure:
            found = reference(value.strip())
        if found is None:
            raise TransformError(reasons.INVALID_EMAIL)
        return found
    return Step(email)


def _region(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {value!r} (expected an ISO 3166 code such as ES)")
    return code


class PhoneOptions(Options):
    region: str | None = None  # default region for national numbers; default: the spec's phone_region
    native_format: Literal["e164", "international", "national"] = "e164"

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        return _region(value)


def _phone(options: PhoneOptions, env: BuildEnv) -> Step:
    region = options.region or env.phone_region
    fast, unsure, reference = fast_phone.to_e164, fast_phone.UNSURE, validation.reference_normalise_phone

    def phone(value: Any) -> Any:  # validation.normalise_phone, unrolled: this runs for every record
        if type(value) is not str:
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            else:
                raise TransformError(reasons.UNPARSEABLE_PHONE, "expected text")
        found = fast(value, region)
        if found is unsure:
            found = reference(value.strip(), region)
        if found is None:
            raise TransformError(reasons.UNPARSEABLE_PHONE)
        return found
    return Step(phone)


def _phone_inverse(options: PhoneOptions, env: BuildEnv) -> Step:
    style, region = options.native_format, options.region or env.phone_region
    if style == "e164":
        return Step(lambda value: value)

    def write(value: Any) -> Any:
        found = validation.format_phone(value, style, region)
        if found is None:
            raise TransformError(reasons.UNPARSEABLE_PHONE)
        return found
    return Step(write)


DEFINITIONS = [
    TransformDef("email", _email, "identity",
                 summary="validate and normalise an email (email-validator's answer); invalid_email"),
    TransformDef("phone", _phone, _phone_inverse, PhoneOptions, "region",
                 summary="any national/international format to E.164 (region: default region); "
                         "native_format: e164 | international | national on write; unparseable_phone"),
]
