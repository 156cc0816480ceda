"""sObject Collections (``/composite/sobjects``): create, update, upsert, delete and retrieve up to 200 records.

One transaction per request, one savepoint per record. Results come back in request order as
SaveResults (``statusCode``, not ``errorCode``, reference §9). With ``allOrNone`` and any failure the
transaction is rolled back and every record that did not fail itself reports
ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import orjson

from connectors.salesforce.objects import is_valid_id, to_18

from .app import DATA, Call, Context, Route, route
from .errors import ROLLED_BACK, FieldError, RecordErrors, SalesforceApiError
from .httpserver import Response
from .rest import _json_object, fetch_records, object_or_404, user_id
from .store import MultipleMatches

MAX_RECORDS = 200


class _RollBack(Exception):
    """Raised inside the write transaction to undo an allOrNone request."""


def _too_many() -> SalesforceApiError:
    return SalesforceApiError(400, "EXCEEDED_ID_LIMIT",
                              f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call")


def _body(call: Call) -> tuple[list[Any], bool]:
    body = _json_object(call)
    records = body.get("records")
    if not isinstance(records, list):
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "records is required")
    if len(records) > MAX_RECORDS:
        raise _too_many()
    return records, bool(body.get("allOrNone", False))


Op = Callable[[sqlite3.Connection, Any], dict[str, Any]]


def _run(ctx: Context, items: list[Any], all_or_none: bool, op: Op) -> Response:
    """Apply ``op`` to each item; a failing item's result carries its errors, the others theirs."""
    results: list[dict[str, Any]] = []
    failed = False
    try:
        with ctx.db.write() as conn:
            for item in items:
                conn.execute("SAVEPOINT collection_item")
                try:
                    results.append(op(conn, item))
                except RecordErrors as exc:
                    conn.execute("ROLLBACK TO collection_item")
                    failed = True
                    results.append({"success": False, "errors": [e.save_result_json() for e in exc.errors],
                                    **_id_of(item)})
                conn.execute("RELEASE collection_item")
            if failed and all_or_none:
                raise _RollBack
    except _RollBack:
        rolled = FieldError("ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK).save_result_json()
        results = [r if not r["success"] else {"id": r.get("id"), "success": False, "errors": [rolled]}
                   for r in results]
    return Response(200, orjson.dumps(results))


def _id_of(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        value = item.get("id") or item.get("Id")
        return {"id": value} if value else {}
    return {"id": item} if isinstance(item, str) else {}


def _typed(ctx: Context, record: Any) -> tuple[Any, dict[str, Any]]:
    if not isinstance(record, dict):
        raise RecordErrors([FieldError("JSON_PARSER_ERROR", "Each record must be a JSON object")])
    type_name = (record.get("attributes") or {}).get("type")
    obj = ctx.schema.get(str(type_name)) if type_name else None
    if obj is None:
        raise RecordErrors([FieldError("INVALID_TYPE", "Must send a concrete entity type.")])
    return obj, {k: v for k, v in record.items() if k != "attributes"}


def create(ctx: Context, call: Call) -> Response:
    records, all_or_none = _body(call)

    def op(conn: sqlite3.Connection, record: Any) -> dict[str, Any]:
        obj, values = _typed(ctx, record)
        if any(k.lower() == "id" for k in values):
            raise RecordErrors([FieldError("INVALID_FIELD", "cannot specify Id in an insert call", ("Id",))])
        return {"id": ctx.store.insert(conn, obj, values, user_id(call)), "success": True, "errors": []}

    return _run(ctx, records, all_or_none, op)


def update(ctx: Context, call: Call) -> Response:
    records, all_or_none = _body(call)

    def op(conn: sqlite3.Connection, record: Any) -> dict[str, Any]:
        obj, values = _typed(ctx, record)
        sfid = next((v for k, v in values.items() if k.lower() == "id"), None)
        if not sfid:
            raise RecordErrors([FieldError("MISSING_ARGUMENT", "Id not specified in an update call", ("Id",))])
        ctx.store.update(conn, obj, str(sfid), values, user_id(call))
        return {"id": str(sfid), "success": True, "errors": []}

    return _run(ctx, records, all_or_none, op)


def upsert(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    field = ctx.store.external_id_field(obj, call.params["field"])
    records, all_or_none = _body(call)

    def op(conn: sqlite3.Connection, record: Any) -> dict[str, Any]:
        _, values = _typed(ctx, record)
        value = next((v for k, v in values.items() if k.lower() == field.name.lower()), None)
        try:
            sfid, created = ctx.store.upsert(conn, obj, field.name, value, values, user_id(call))
        except MultipleMatches as exc:
            raise RecordErrors([FieldError("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}",
                                           (exc.field,))]) from None
        return {"id": sfid, "success": True, "errors": [], "created": created}

    return _run(ctx, records, all_or_none, op)


def delete(ctx: Context, call: Call) -> Response:
    ids = [i for i in (call.request.arg("ids") or "").split(",") if i]
    if len(ids) > MAX_RECORDS:
        raise _too_many()
    all_or_none = (call.request.arg("allOrNone") or "false").lower() == "true"

    def op(conn: sqlite3.Connection, sfid: Any) -> dict[str, Any]:
        obj = ctx.schema.object_for_id(str(sfid))
        if obj is None:
            raise RecordErrors([FieldError("MALFORMED_ID", f"malformed id {sfid}")])
        return {"id": ctx.store.delete(conn, obj, str(sfid), user_id(call)), "success": True, "errors": []}

    return _run(ctx, ids, all_or_none, op)


def retrieve(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    ids = [i for i in (call.request.arg("ids") or "").split(",") if i]
    fields = call.request.arg("fields")
    if not ids or not fields:
        raise SalesforceApiError(400, "MISSING_ARGUMENT", "ids and fields are required")
    if len(ids) > 2000:
        raise _too_many()
    normalized = [to_18(i) if is_valid_id(i) else "" for i in ids]
    found = fetch_records(ctx, obj, normalized, fields, call.version)
    body = ",".join(f[0] if f is not None and not f[1] else "null" for f in found)
    return Response(200, f"[{body}]".encode())


COMPOSITE = DATA + "/composite/sobjects"

ROUTES: list[Route] = [
    route("POST", COMPOSITE, create),
    route("PATCH", COMPOSITE, update),
    route("DELETE", COMPOSITE, delete),
    route("PATCH", COMPOSITE + r"/(?P<sobject>\w+)/(?P<field>\w+)", upsert),
    route("GET", COMPOSITE + r"/(?P<sobject>\w+)", retrieve),
]
