"""Bulk 2.0, login and admin routes, and the full route table."""

from __future__ import annotations

from typing import Any

import orjson

from . import composite, rest
from .app import DATA, Call, Context, Route, route
from .errors import SalesforceApiError
from .httpserver import Response
from .rest import _json_object, user_id

# --------------------------------------------------------------------------------------------------- Bulk 2.0


def create_query_job(ctx: Context, call: Call) -> Response:
    # simple-salesforce sends Accept: text/csv here; the answer is JSON regardless (reference §6.1).
    return Response.json(ctx.bulk_query.create(_json_object(call), user_id(call), call.version))


def query_job(ctx: Context, call: Call) -> Response:
    return Response.json(ctx.bulk_query.info(call.params["job"]))


def patch_query_job(ctx: Context, call: Call) -> Response:
    state = _json_object(call).get("state")
    if state != "Aborted":
        raise SalesforceApiError(400, "INVALIDJOBSTATE", f"Invalid state: {state}")
    return Response.json(ctx.bulk_query.abort(call.params["job"]))


def delete_query_job(ctx: Context, call: Call) -> Response:
    ctx.bulk_query.delete(call.params["job"])
    return Response.empty()


def query_results(ctx: Context, call: Call) -> Response:
    max_records = call.request.arg("maxRecords")
    if max_records is not None and (not max_records.isdigit() or int(max_records) < 1):
        raise SalesforceApiError(400, "INVALIDPARAMETER", f"Invalid maxRecords: {max_records}")
    return ctx.bulk_query.results(call.params["job"], call.request.arg("locator"),
                                  int(max_records) if max_records else None)


def create_ingest_job(ctx: Context, call: Call) -> Response:
    return Response.json(ctx.bulk_ingest.create(_json_object(call), user_id(call), call.version))


def ingest_job(ctx: Context, call: Call) -> Response:
    return Response.json(ctx.bulk_ingest.info(call.params["job"]))


def patch_ingest_job(ctx: Context, call: Call) -> Response:
    state = str(_json_object(call).get("state"))
    return Response.json(ctx.bulk_ingest.set_state(call.params["job"], state, user_id(call)))


def delete_ingest_job(ctx: Context, call: Call) -> Response:
    ctx.bulk_ingest.delete(call.params["job"])
    return Response.empty()


def upload_batch(ctx: Context, call: Call) -> Response:
    ctx.bulk_ingest.upload(call.params["job"], call.request.body)
    return Response(201, b"", content_type=None)  # simple-salesforce accepts exactly 201


def ingest_results(ctx: Context, call: Call) -> Response:
    kind = call.params["kind"].lower()
    return Response(200, ctx.bulk_ingest.results(call.params["job"], kind), content_type="text/csv; charset=UTF-8")


def list_query_jobs(ctx: Context, call: Call) -> Response:
    return Response.json(ctx.bulk_query.all_jobs())


def list_ingest_jobs(ctx: Context, call: Call) -> Response:
    return Response.json(ctx.bulk_ingest.all_jobs())


JOBS = DATA + "/jobs"
QJOB = JOBS + r"/query/(?P<job>\w+)"
IJOB = JOBS + r"/ingest/(?P<job>\w+)"

BULK_ROUTES: list[Route] = [
    route("POST", JOBS + "/query", create_query_job),
    route("GET", JOBS + "/query", list_query_jobs),
    route("GET", QJOB + "/results", query_results),
    route("GET", QJOB, query_job),
    route("PATCH", QJOB, patch_query_job),
    route("DELETE", QJOB, delete_query_job),
    route("POST", JOBS + "/ingest", create_ingest_job),
    route("GET", JOBS + "/ingest", list_ingest_jobs),
    route("PUT", IJOB + "/batches", upload_batch),
    route("GET", IJOB + r"/(?P<kind>(?i:successfulResults|failedResults|unprocessedrecords))", ingest_results),
    route("GET", IJOB, ingest_job),
    route("PATCH", IJOB, patch_ingest_job),
    route("DELETE", IJOB, delete_ingest_job),
]

# --------------------------------------------------------------------------------------------------- login


def oauth_token(ctx: Context, call: Call) -> Response:
    return ctx.auth.token(call.request, ctx.base_url(call.request))


def soap_login(ctx: Context, call: Call) -> Response:
    return ctx.auth.soap_login(call.request, ctx.base_url(call.request), call.params.get("soapver", "59.0"))


LOGIN_ROUTES: list[Route] = [
    route("POST", r"/services/oauth2/token", oauth_token, kind="public"),
    route("POST", r"/services/Soap/u/(?P<soapver>\d+\.\d+)(?:/\w+)?", soap_login, kind="public"),
]

# --------------------------------------------------------------------------------------------------- admin


def _admin_body(call: Call) -> dict[str, Any]:
    body = call.request.json() if call.request.body else {}
    if not isinstance(body, dict):
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "a JSON object is expected")
    return body


def faults_get(ctx: Context, call: Call) -> Response:
    return Response.json(ctx.faults.snapshot())


def faults_put(ctx: Context, call: Call) -> Response:
    body = _admin_body(call)
    reset = bool(body.pop("reset_counters", False))
    try:
        ctx.faults.configure(body, reset_counters=reset)
    except ValueError as exc:
        raise SalesforceApiError(400, "INVALID_FAULT_CONFIG", str(exc).splitlines()[0]) from None
    return Response.json(ctx.faults.snapshot())


def faults_delete(ctx: Context, call: Call) -> Response:
    ctx.faults.reset()
    return Response.json(ctx.faults.snapshot())


def budget_get(ctx: Context, call: Call) -> Response:
    return Response.json(ctx.budget.snapshot())


def budget_put(ctx: Context, call: Call) -> Response:
    body = _admin_body(call)
    limit, used = body.get("limit"), body.get("used")
    if not all(v is None or (isinstance(v, int) and v >= 0) for v in (limit, used)):
        raise SalesforceApiError(400, "INVALID_BUDGET", "limit and used must be non-negative integers")
    ctx.budget.set(limit=limit, used=used)
    return Response.json(ctx.budget.snapshot())


def session_post(ctx: Context, call: Call) -> Response:
    """Issue a session directly (no login round trip): ``{"username"?, "ttl"?}`` -> token + instance_url."""
    body = _admin_body(call)
    username = str(body.get("username") or ctx.config.users[0].username)
    user = ctx.auth.user_ids.get(username.lower())
    if user is None:
        raise SalesforceApiError(400, "INVALID_USER", f"unknown user {username}")
    ttl = body.get("ttl")
    session = ctx.sessions.issue(user, username, ttl=float(ttl) if ttl is not None else None)
    return Response.json({"access_token": session.token, "instance_url": ctx.base_url(call.request),
                          "expires_at": session.expires_at})


def stats_get(ctx: Context, call: Call) -> Response:
    return Response.json({"calls": ctx.calls, "open_cursors": ctx.engine.open_cursors(),
                          "budget": ctx.budget.snapshot(), "faults": ctx.faults.snapshot()["injected"]})


def health(ctx: Context, call: Call) -> Response:
    return Response(200, orjson.dumps({"status": "ok", "urls": ctx.urls}))


ADMIN = r"/__sandbox"

ADMIN_ROUTES: list[Route] = [
    route("GET", ADMIN + "/health", health, kind="admin"),
    route("GET", ADMIN + "/faults", faults_get, kind="admin"),
    route("PUT", ADMIN + "/faults", faults_put, kind="admin"),
    route("POST", ADMIN + "/faults", faults_put, kind="admin"),
    route("DELETE", ADMIN + "/faults", faults_delete, kind="admin"),
    route("GET", ADMIN + "/budget", budget_get, kind="admin"),
    route("PUT", ADMIN + "/budget", budget_put, kind="admin"),
    route("POST", ADMIN + "/budget", budget_put, kind="admin"),
    route("POST", ADMIN + "/sessions", session_post, kind="admin"),
    route("GET", ADMIN + "/stats", stats_get, kind="admin"),
]


def all_routes() -> list[Route]:
    return [*LOGIN_ROUTES, *ADMIN_ROUTES, *BULK_ROUTES, *composite.ROUTES, *rest.ROUTES]
