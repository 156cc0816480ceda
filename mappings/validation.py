"""One definition of valid emails, phones, countries and currencies, for schemas and transforms.

The reference (slow, exact) implementations are email-validator, phonenumbers and pycountry
(``reference_*`` below). The public functions put a fast path in front of them
(``mappings.fastpath``) that answers only when it is certain to agree and otherwise defers, so
every caller gets the libraries' answers at a fraction of the cost.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from mappings.fastpath import email as fast_email
from mappings.fastpath import phone as fast_phone

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_PHONE_FORMATS = {
    "e164": phonenumbers.PhoneNumberFormat.E164,
    "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    "national": phonenumbers.PhoneNumberFormat.NATIONAL,
}


def reference_normalise_email(value: str) -> str | None:
    """email-validator's normalised address (domain lower-cased, IDN as Unicode), or None."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def normalise_email(value: str) -> str | None:
    """The normalised address (domain lower-cased, IDN as Unicode), or None if invalid."""
    fast = fast_email.normalise(value)
    if fast is not fast_email.UNSURE:
        return fast  # type: ignore[return-value]
    return reference_normalise_email(value)


def reference_normalise_phone(value: str, default_region: str | None = None) -> str | None:
    """phonenumbers' E.164 form of a valid number, or None."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(value: str, default_region: str | None = None) -> str | None:
    """E.164 form of a phone written in any national or international format, or None."""
    fast = fast_phone.to_e164(value, default_region)
    if fast is not fast_phone.UNSURE:
        return fast  # type: ignore[return-value]
    return reference_normalise_phone(value, default_region)


def is_e164(value: str) -> bool:
    """True for a valid number written in canonical E.164 (what ``normalise_phone`` returns)."""
    if fast_phone.is_canonical(value):
        return True
    return _E164.fullmatch(value) is not None and normalise_phone(value) == value


def format_phone(value: str, style: str = "e164", region: str | None = None) -> str | None:
    """A valid phone (any format) rewritten as ``e164``, ``international`` or ``national``, or None.

    ``national`` is written as dialled inside ``region`` when the number belongs to it; numbers of
    another country fall back to the international format, which is what people dial.
    """
    if style == "e164":
        return normalise_phone(value, region)
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if style == "national" and region is not None and phonenumbers.region_code_for_number(number) != region:
        style = "international"
    return phonenumbers.format_number(number, _PHONE_FORMATS[style])


@lru_cache(maxsize=4096)
def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a code or a country name ("de", "DEU", "Germany"), or None."""
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 2:
            found = pycountry.countries.get(alpha_2=text.upper())
        elif len(text) == 3:
            found = pycountry.countries.get(alpha_3=text.upper())
        else:
            found = pycountry.countries.lookup(text)
    except LookupError:
        return None
    return found.alpha_2 if found else None


@lru_cache(maxsize=512)
def currency_code(value: str) -> str | None:
    """ISO 4217 code, upper-cased, or None."""
    text = value.strip().upper()
    found = pycountry.currencies.get(alpha_3=text) if len(text) == 3 else None
    return found.alpha_3 if found else None
