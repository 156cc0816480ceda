"""One definition of valid emails, phones, countries and currencies, for schemas and transforms.

These are the reference (slow, exact) implementations on email-validator, phonenumbers and
pycountry. A fast path may sit in front of them, but it must give the same answers.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def normalise_email(value: str) -> str | None:
    """The normalised address (domain lower-cased, IDN as Unicode), or None if invalid."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def is_e164(value: str) -> bool:
    """True for a valid number written in E.164 (+ and digits only)."""
    if not _E164.match(value):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        return False


def normalise_phone(value: str, default_region: str | None = None) -> str | None:
    """E.164 form of a phone written in any national or international format, or None."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
