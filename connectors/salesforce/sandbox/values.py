"""Client values -> stored values, per describe type, with Salesforce's error codes when a value does not fit.

REST bodies are JSON (a number for a currency, a bool for a checkbox); Bulk CSV cells are text. Both
end up in the stored forms of schema.py: 0/1 for booleans, canonical datetime/date/time text, 18-char
ids. A value that cannot be read fails with JSON_PARSER_ERROR (REST, like the API's deserializer) or
INVALID_TYPE_ON_FIELD_IN_RECORD (Bulk), both naming the field.
"""

from __future__ import annotations

import math
import re
from typing import Any

from connectors.salesforce.objects import SField, is_valid_id, to_18

from .errors import FieldError
from .schema import NUMERIC_TYPES
from .timefmt import normalize_date, normalize_datetime, normalize_time

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class InvalidValue(Exception):
    """A value that cannot be stored in its field; ``error`` is what the API reports."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(error.message)
        self.error = error


def _bad(f: SField, value: Any, source: str) -> FieldError:
    if source == "json":
        kind = {str: "STRING", int: "NUMBER_INT", float: "NUMBER_FLOAT", bool: "TRUE" if value else "FALSE",
                list: "START_ARRAY", dict: "START_OBJECT"}.get(type(value), "EMBEDDED_OBJECT")
        return FieldError("JSON_PARSER_ERROR",
                          f"Cannot deserialize instance of {f.type} from VALUE_{kind} value {value} or request "
                          "may be missing a required field", (f.name,))
    return FieldError("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{f.label}: value not of required type: {value}", (f.name,))


def coerce(f: SField, value: Any, source: str = "json") -> Any:
    """The stored form of ``value`` for field ``f`` (None stays None); raises InvalidValue."""
    if value is None or (value == "" and f.type not in ("string", "textarea")):
        return None
    try:
        return _COERCE.get(f.type, _text)(f, value)
    except (ValueError, TypeError, OverflowError):
        raise InvalidValue(_bad(f, value, source)) from None


def _text(f: SField, value: Any) -> str:
    if isinstance(value, bool | dict | list):
        raise TypeError
    return value if isinstance(value, str) else str(value)


def _multi(f: SField, value: Any) -> str:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return _text(f, value)


def _boolean(f: SField, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise ValueError


def _integer(f: SField, value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError
    number = float(value) if isinstance(value, str) else value
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueError
        number = int(number)
    return int(number)


def _real(f: SField, value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValueError
    return number


def _reference(f: SField, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value  # validated against the org by the store (MALFORMED_ID, cross references)


_COERCE: dict[str, Any] = {
    "boolean": _boolean, "int": _integer, "long": _integer,
    **{t: _real for t in NUMERIC_TYPES - {"int", "long"}},
    "date": lambda f, v: normalize_date(v), "datetime": lambda f, v: normalize_datetime(v),
    "time": lambda f, v: normalize_time(v), "multipicklist": _multi, "id": _reference, "reference": _reference,
}


def check_value(f: SField, value: Any) -> FieldError | None:
    """Length, restricted picklist and email checks of a stored value (None passes)."""
    if value is None:
        return None
    if f.type in ("id", "reference"):
        if not is_valid_id(value):
            return FieldError("MALFORMED_ID", f"{f.label}: id value of incorrect type: {value}", (f.name,))
        return None
    if isinstance(value, str) and f.length and len(value) > f.length and f.type not in NUMERIC_TYPES:
        return FieldError("STRING_TOO_LONG", f"{f.label}: data value too large: {value[:60]} (max length={f.length})",
                          (f.name,))
    if f.restricted_picklist and f.type in ("picklist", "multipicklist"):
        allowed = set(f.active_values)
        values = value.split(";") if f.type == "multipicklist" else [value]
        bad = next((v for v in values if v not in allowed), None)
        if bad is not None:
            return FieldError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"{f.label}: bad value for restricted picklist field: {bad}", (f.name,))
    if f.type == "email" and not _EMAIL_RE.match(value):
        return FieldError("INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {value}", (f.name,))
    return None


def normalize_id(value: str) -> str:
    """An 18-character id from a 15- or 18-character one (ValueError for anything else)."""
    return to_18(value)
