"""Write validation that needs no database: field names, writability, types, lengths, picklists, required fields.

Salesforce checks a record in this order and reports the first kind of failure it meets; so do we:
unknown field (INVALID_FIELD) -> read-only field (INVALID_FIELD_FOR_INSERT_UPDATE) -> unreadable value
(JSON_PARSER_ERROR / INVALID_TYPE_ON_FIELD_IN_RECORD) -> value checks (STRING_TOO_LONG,
INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, INVALID_EMAIL_ADDRESS, MALFORMED_ID) -> REQUIRED_FIELD_MISSING.
Cross references and unique values are checked by the store, which has the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.salesforce.objects import SField

from .errors import FieldError, RecordErrors, no_such_column
from .schema import ObjectSchema
from .values import InvalidValue, check_value, coerce

IGNORED_KEYS = frozenset({"attributes"})


def _not_writable(names: list[str]) -> FieldError:
    return FieldError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {', '.join(names)}. Please check the security settings of this field "
        "and verify that it is read/write for your profile or permission set.", tuple(names))


def required_missing(names: list[str]) -> FieldError:
    return FieldError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(names)}]", tuple(names))


def prepare(obj: ObjectSchema, values: Mapping[str, Any], op: str, source: str = "json",
            allow: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Check one record's values for ``op`` (insert or update) and return them in stored form, keyed by
    canonical field name. ``allow`` names read-only fields the caller may set (Id on an update, the
    external id of an upsert). Raises RecordErrors with every failure of the first failing kind."""
    fields: list[tuple[SField, Any]] = []
    for key, value in values.items():
        if key in IGNORED_KEYS:
            continue
        f = obj.field(key)
        if f is None or f.is_compound:
            raise RecordErrors([no_such_column(key, obj.name)])
        fields.append((f, value))
    writable = "createable" if op == "insert" else "updateable"
    locked = [f.name for f, _ in fields if not getattr(f, writable) and f.name not in allow]
    if locked:
        raise RecordErrors([_not_writable(locked)])
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for f, value in fields:
        try:
            out[f.name] = coerce(f, value, source)
        except InvalidValue as exc:
            errors.append(exc.error)
    if errors:
        raise RecordErrors(errors)
    errors = [e for e in (check_value(f, out[f.name]) for f, _ in fields) if e is not None]
    if errors:
        raise RecordErrors(errors)
    nulled = [f.name for f, _ in fields if out[f.name] is None and not f.nillable and f.type != "boolean"]
    if nulled and op == "update":
        raise RecordErrors([required_missing(nulled)])
    return out


def check_required(obj: ObjectSchema, record: Mapping[str, Any]) -> None:
    """REQUIRED_FIELD_MISSING for a record about to be inserted (defaults and derived values applied)."""
    missing = [f.name for f in obj.obj.fields if f.required and record.get(f.name) is None and not f.is_compound]
    if missing:
        raise RecordErrors([required_missing(missing)])
