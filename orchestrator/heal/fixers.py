"""Normalising fixes for invalid values: the rules that can turn a refused value into a valid one.

Only unambiguous fixes: an email with stray spaces or capitals, a phone written with a ``00`` prefix
or separators that still parses to one number, a country written as a name. Anything else stays
``manual``: guessing a customer's email is not healing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mappings import validation


def _email(value: str, region: str | None) -> str | None:
    return validation.normalise_email(value.strip().replace(" ", ""))


def _phone(value: str, region: str | None) -> str | None:
    raw = value.strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    return validation.normalise_phone(raw, region)


def _country(value: str, region: str | None) -> str | None:
    return validation.country_code(value)


def _currency(value: str, region: str | None) -> str | None:
    return validation.currency_code(value)


FIXERS: dict[str, Callable[[str, str | None], str | None]] = {
    "invalid_email": _email, "unparseable_phone": _phone, "invalid_phone": _phone,
    "invalid_country": _country, "invalid_currency": _currency,
}


def fix(reason: str, value: Any, region: str | None = None) -> str | None:
    """The corrected value, or None when no rule fixes it (or it needs no fixing)."""
    fixer = FIXERS.get(reason)
    if fixer is None or not isinstance(value, str) or not value.strip():
        return None
    fixed = fixer(value, region)
    return fixed if fixed is not None and fixed != value else None
