"""Stable reason codes of rejected fields: used in quarantine, reports and tests, never renamed."""

from __future__ import annotations

REQUIRED_MISSING = "required_missing"
INVALID_EMAIL = "invalid_email"
UNPARSEABLE_PHONE = "unparseable_phone"
INVALID_COUNTRY = "invalid_country"
INVALID_CURRENCY = "invalid_currency"
INVALID_DATE = "invalid_date"
INVALID_NUMBER = "invalid_number"
UNKNOWN_PICKLIST_VALUE = "unknown_picklist_value"
UNRESOLVED_REFERENCE = "unresolved_reference"
TOO_LONG = "too_long"
INVALID_VALUE = "invalid_value"

ALL = frozenset({
    REQUIRED_MISSING, INVALID_EMAIL, UNPARSEABLE_PHONE, INVALID_COUNTRY, INVALID_CURRENCY, INVALID_DATE,
    INVALID_NUMBER, UNKNOWN_PICKLIST_VALUE, UNRESOLVED_REFERENCE, TOO_LONG, INVALID_VALUE,
})
