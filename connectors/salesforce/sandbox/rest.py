"""REST resources: versions, describe, sObject rows (CRUD, upsert by external id), query, getUpdated/Deleted, limits.

Shapes and status codes follow reference §3-§5, §9-§11: create 201 ``{"id","success","errors"}``,
update/delete 204, upsert 201/200 with ``created``, several upsert matches 300 with the records' URLs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import orjson

from connectors.salesforce.objects import (
    describe_global_entry,
    describe_global_json,
    describe_sobject_json,
    is_valid_id,
    to_18,
)

from .app import DATA, Call, Context, Route, route
from .errors import SalesforceApiError, not_found
from .httpserver import Response
from .schema import ObjectSchema
from .soql import nodes as n
from .soql.compiler import QueryPlan, plan_query
from .store import MultipleMatches
from .timefmt import from_epoch, normalize_datetime

VERSIONS = [("Winter '24", "59.0"), ("Spring '24", "60.0"), ("Summer '24", "61.0"), ("Winter '25", "62.0"),
            ("Spring '25", "63.0")]


def object_or_404(ctx: Context, name: str) -> ObjectSchema:
    obj = ctx.schema.get(name)
    if obj is None:
        raise not_found()
    return obj


def user_id(call: Call) -> str:
    assert call.session is not None
    return call.session.user_id


# --------------------------------------------------------------------------------------------------- metadata


def versions(ctx: Context, call: Call) -> Response:
    return Response.json([{"label": label, "url": f"/services/data/v{v}", "version": v} for label, v in VERSIONS])


def resources(ctx: Context, call: Call) -> Response:
    base = f"/services/data/v{call.version}"
    names = ("sobjects", "query", "queryAll", "limits", "composite", "jobs")
    return Response.json({name: f"{base}/{name}" for name in names})


def describe_global(ctx: Context, call: Call) -> Response:
    return Response(200, _describe_global_bytes(ctx, call.version))


def _describe_global_bytes(ctx: Context, version: str) -> bytes:
    return _cached(ctx, ("global", version), lambda: orjson.dumps(describe_global_json(ctx.schema.objects, version)))


def describe(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    return Response(200, _cached(ctx, ("describe", obj.name, call.version), lambda: orjson.dumps(
        describe_sobject_json(obj.obj, ctx.schema.objects, call.version))))


def sobject_info(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    return Response.json({"objectDescribe": describe_global_entry(obj.obj, call.version), "recentItems": []})


def _cached(ctx: Context, key: tuple[str, ...], build: Any) -> bytes:
    """Describe bodies never change while the sandbox runs: build each once (airbyte asks for them in parallel)."""
    value = ctx.cache.get(key)
    if value is None:
        value = ctx.cache[key] = build()
    return value


# --------------------------------------------------------------------------------------------------- rows


def record_plan(ctx: Context, obj: ObjectSchema, fields: str | None) -> QueryPlan:
    """A plan selecting ``fields`` (comma-separated, or every field) of ``obj``, built from nodes, not text."""
    names = [f.strip() for f in fields.split(",") if f.strip()] if fields else [f.name for f in obj.obj.fields]
    pos = n.Pos(1, 1)
    query = n.Query(tuple(n.FieldItem(n.FieldRef(tuple(name.split(".")), pos)) for name in names), obj.name, pos,
                    None, None, (), None, None, " ".join(("SELECT", ", ".join(names), "FROM", obj.name)))
    return plan_query(ctx.schema, query, include_deleted=True)


def fetch_records(ctx: Context, obj: ObjectSchema, ids: list[str], fields: str | None,
                  version: str) -> list[tuple[str, bool] | None]:
    """Each record's JSON text and whether it is in the recycle bin (None when there is no such record)."""
    plan = record_plan(ctx, obj, fields)
    sql, url = plan.by_id, f"/services/data/v{version}/sobjects/"
    out: list[tuple[str, bool] | None] = []
    with ctx.db.read() as conn:
        for sfid in ids:
            row = conn.execute(sql.text, sql.params(id=sfid, sobjects_url=url)).fetchone() if sfid else None
            out.append((row[0], bool(row[1])) if row is not None else None)
    return out


def _normalized_id(value: str) -> str | None:
    return to_18(value) if is_valid_id(value) else None


def get_record(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    sfid = _normalized_id(call.params["id"])
    if sfid is None or ctx.schema.object_for_id(sfid) is not obj:
        raise not_found()
    found = fetch_records(ctx, obj, [sfid], call.request.arg("fields"), call.version)[0]
    if found is None:
        raise not_found()
    if found[1]:
        raise SalesforceApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
    return Response(200, found[0].encode())


def create_record(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    body = _json_object(call)
    with ctx.db.write() as conn:
        sfid = ctx.store.insert(conn, obj, body, user_id(call))
    return Response.json({"id": sfid, "success": True, "errors": []}, status=201)


def update_record(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    body = _json_object(call)
    with ctx.db.write() as conn:
        ctx.store.update(conn, obj, call.params["id"], body, user_id(call))
    return Response.empty()


def delete_record(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    with ctx.db.write() as conn:
        ctx.store.delete(conn, obj, call.params["id"], user_id(call))
    return Response.empty()


def _json_object(call: Call) -> dict[str, Any]:
    try:
        body = call.request.json()
    except orjson.JSONDecodeError:
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "Unexpected character in request body") from None
    if not isinstance(body, dict):
        raise SalesforceApiError(400, "JSON_PARSER_ERROR",
                                 "Cannot deserialize instance of sObject from START_ARRAY value")
    return body


def _record_urls(call: Call, obj: ObjectSchema, ids: list[str]) -> bytes:
    return orjson.dumps([f"/services/data/v{call.version}/sobjects/{obj.name}/{i}" for i in ids])


def upsert_record(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    body = _json_object(call)
    value = unquote(call.params["value"])
    try:
        with ctx.db.write() as conn:
            sfid, created = ctx.store.upsert(conn, obj, call.params["field"], value, body, user_id(call))
    except MultipleMatches as exc:
        return Response(300, _record_urls(call, obj, exc.ids))
    return Response.json({"id": sfid, "success": True, "errors": [], "created": created},
                         status=201 if created else 200)


def get_by_external_id(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    field = ctx.store.external_id_field(obj, call.params["field"])
    value = unquote(call.params["value"])
    with ctx.db.read() as conn:
        ids = ctx.store.live_matches(conn, obj, field.name, value)
    if len(ids) > 1:
        return Response(300, _record_urls(call, obj, ids))
    if not ids:
        raise not_found()
    found = fetch_records(ctx, obj, ids, call.request.arg("fields"), call.version)[0]
    if found is None:
        raise not_found()
    return Response(200, found[0].encode())


def delete_by_external_id(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    field = ctx.store.external_id_field(obj, call.params["field"])
    with ctx.db.write() as conn:
        ids = ctx.store.live_matches(conn, obj, field.name, unquote(call.params["value"]))
        if len(ids) > 1:
            return Response(300, _record_urls(call, obj, ids))
        if not ids:
            raise not_found()
        ctx.store.delete(conn, obj, ids[0], user_id(call))
    return Response.empty()


# --------------------------------------------------------------------------------------------------- query


def batch_size(call: Call, default: int) -> int:
    """``Sforce-Query-Options: batchSize=N`` (200-2000), else the configured page size."""
    header = call.request.header("Sforce-Query-Options") or ""
    for part in header.replace(";", ",").split(","):
        name, _, value = part.partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(200, min(2000, int(value.strip())))
    return default


def query(ctx: Context, call: Call, include_deleted: bool) -> Response:
    text = call.request.arg("q")
    if text is None:
        raise SalesforceApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    return Response(200, ctx.engine.run(text, include_deleted, batch_size(call, ctx.config.page_size), call.version))


def query_more(ctx: Context, call: Call) -> Response:
    return Response(200, ctx.engine.more(call.params["locator"], call.version))


# --------------------------------------------------------------------------------------------------- replication


def _window(call: Call) -> tuple[str, str]:
    start, end = call.request.arg("start"), call.request.arg("end")
    if not start or not end:
        raise SalesforceApiError(400, "MISSING_ARGUMENT", "start and end are required")
    try:
        lo, hi = normalize_datetime(start), normalize_datetime(end)
    except ValueError:
        raise SalesforceApiError(400, "INVALID_REPLICATION_DATE", "invalid date for start or end") from None
    if hi <= lo:
        raise SalesforceApiError(400, "INVALID_REPLICATION_DATE", "EndDate before StartDate")
    return lo, hi


def get_updated(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    lo, hi = _window(call)
    with ctx.db.read() as conn:
        ids = ctx.store.changed_ids(conn, obj, lo, hi)
    return Response.json({"ids": ids, "latestDateCovered": min(hi, from_epoch(ctx.clock()))})


def get_deleted(ctx: Context, call: Call) -> Response:
    obj = object_or_404(ctx, call.params["sobject"])
    lo, hi = _window(call)
    with ctx.db.read() as conn:
        rows = ctx.store.deleted_rows(conn, obj, lo, hi)
    return Response.json({"deletedRecords": [{"id": i, "deletedDate": d} for i, d in rows],
                          "earliestDateAvailable": lo, "latestDateCovered": min(hi, from_epoch(ctx.clock()))})


# --------------------------------------------------------------------------------------------------- limits


def limits(ctx: Context, call: Call) -> Response:
    used, limit = ctx.budget.usage()
    big = {"Max": 10000, "Remaining": 10000}
    return Response.json({
        "DailyApiRequests": {"Max": limit, "Remaining": max(limit - used, 0)},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DailyBulkV2QueryJobs": big, "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
        "DataStorageMB": {"Max": 1024, "Remaining": 1024}, "ConcurrentAsyncGetReportInstances": {"Max": 200,
                                                                                                  "Remaining": 200},
    })


def identity(ctx: Context, call: Call) -> Response:
    assert call.session is not None
    return Response.json({"id": f"{ctx.base_url(call.request)}/id/{ctx.org_id}/{call.session.user_id}",
                          "user_id": call.session.user_id, "organization_id": ctx.org_id,
                          "username": call.session.username, "active": True})


SOBJ = DATA + r"/sobjects/(?P<sobject>\w+)"

ROUTES: list[Route] = [
    route("GET", r"/services/data", versions, kind="public"),
    route("GET", DATA, resources),
    route("GET", DATA + "/sobjects", describe_global),
    route("GET", SOBJ + "/describe", describe),
    route("GET", SOBJ + "/updated", get_updated),
    route("GET", SOBJ + "/deleted", get_deleted),
    route("GET", SOBJ, sobject_info),
    route("POST", SOBJ, create_record),
    route("GET", SOBJ + r"/(?P<id>[^/]+)", get_record),
    route("PATCH", SOBJ + r"/(?P<id>[^/]+)", update_record),
    route("DELETE", SOBJ + r"/(?P<id>[^/]+)", delete_record),
    route("GET", SOBJ + r"/(?P<field>\w+)/(?P<value>[^/]+)", get_by_external_id),
    route("PATCH", SOBJ + r"/(?P<field>\w+)/(?P<value>[^/]*)", upsert_record),
    route("DELETE", SOBJ + r"/(?P<field>\w+)/(?P<value>[^/]+)", delete_by_external_id),
    route("GET", DATA + "/query", lambda c, k: query(c, k, False), query=True),
    route("GET", DATA + "/queryAll", lambda c, k: query(c, k, True), query=True),
    route("GET", DATA + r"/(?:query|queryAll)/(?P<locator>[^/]+)", query_more),
    route("GET", DATA + "/limits", limits),
    route("GET", r"/id/(?P<org>\w+)/(?P<user>\w+)", identity),
]
