"""The request pipeline: route -> authenticate -> spend budget -> inject faults -> handle -> translate errors.

Paths are matched with and without a trailing slash (simple-salesforce adds one, airbyte and tap do not)
and any ``vNN.N`` API version. Data calls carry ``Sforce-Limit-Info: api-usage=N/M`` in exactly the
format tap-salesforce parses. Every error leaves as Salesforce's JSON array (or the OAuth/SOAP shapes
on the login endpoints).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import structlog

from .auth import Authenticator, Session, SessionStore, bearer_token
from .bulkingest import BulkIngestJobs
from .bulkquery import BulkQueryJobs
from .config import SandboxConfig
from .db import Database
from .errors import OAuthError, RecordErrors, SalesforceApiError, SoapFault, invalid_session, not_found
from .faults import ApiBudget, FaultInjector, fault_error
from .httpserver import Request, Response
from .queries import QueryEngine
from .schema import Schema
from .store import Store
from .timefmt import Clock

log = structlog.get_logger(__name__)


@dataclass
class Context:
    """Everything a handler may use; built once by the Sandbox."""

    config: SandboxConfig
    schema: Schema
    db: Database
    store: Store
    engine: QueryEngine
    bulk_query: BulkQueryJobs
    bulk_ingest: BulkIngestJobs
    sessions: SessionStore
    auth: Authenticator
    faults: FaultInjector
    budget: ApiBudget
    clock: Clock
    sleep: Callable[[float], None]
    work_dir: Path
    org_id: str
    urls: dict[str, str] = field(default_factory=dict)  # scheme -> base URL, set once listeners are bound
    calls: int = 0
    cache: dict[tuple[str, ...], bytes] = field(default_factory=dict)

    def base_url(self, request: Request) -> str:
        """The instance_url to advertise: configured, else the listener this request arrived on."""
        if self.config.advertised_url:
            return self.config.advertised_url.rstrip("/")
        return self.urls.get(request.scheme) or next(iter(self.urls.values()), "")


@dataclass
class Call:
    request: Request
    session: Session | None
    version: str
    params: dict[str, str]


Handler = Callable[[Context, Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    kind: str  # data | public | admin
    query: bool = False  # may be answered with QUERY_TIMEOUT


DATA = r"/services/data/v(?P<version>\d+\.\d+)"


def route(method: str, path: str, handler: Handler, kind: str = "data", query: bool = False) -> Route:
    """``path`` is a regex without the trailing-slash handling, which is added here."""
    return Route(method, re.compile("^" + path.rstrip("/") + "/?$"), handler, kind, query)


class SandboxApp:
    """Callable WSGI-like app: ``app(request) -> Response``."""

    def __init__(self, ctx: Context, routes: list[Route]) -> None:
        self.ctx = ctx
        self.routes = routes

    def __call__(self, request: Request) -> Response:
        try:
            return self._dispatch(request)
        except SalesforceApiError as err:
            return self._error(err)
        except RecordErrors as err:
            return Response(400, orjson.dumps([e.rest_json() for e in err.errors]))
        except OAuthError as err:
            return Response(err.status, err.body())
        except SoapFault as err:
            return Response(500, err.body(), content_type="text/xml; charset=utf-8")
        except Exception as exc:  # the type only: messages and locals may carry record values
            log.error("sandbox.request.failed", method=request.method, path=request.path, error=type(exc).__name__)
            return Response(500, orjson.dumps([{"errorCode": "UNKNOWN_EXCEPTION",
                                                "message": "An unexpected error occurred. Please include this "
                                                           "ErrorId if you contact support: sandbox"}]))

    def _error(self, err: SalesforceApiError, extra: list[tuple[str, str]] | None = None) -> Response:
        return Response(err.status, err.body(), headers=[*err.headers, *(extra or [])])

    def _match(self, request: Request) -> tuple[Route, dict[str, str]]:
        allowed = []
        for r in self.routes:
            m = r.pattern.match(request.path)
            if m is None:
                continue
            if r.method == request.method or (r.method == "GET" and request.method == "HEAD"):
                return r, {k: v for k, v in m.groupdict().items() if v is not None}
            allowed.append(r.method)
        if allowed:
            raise SalesforceApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. "
                                     f"Allowed are {','.join(sorted(set(allowed)))}")
        raise not_found()

    def _dispatch(self, request: Request) -> Response:
        r, params = self._match(request)
        call = Call(request, None, params.pop("version", self.ctx.config.api_version), params)
        if r.kind != "data":
            return r.handler(self.ctx, call)
        return self._data_call(r, call)

    def _data_call(self, r: Route, call: Call) -> Response:
        ctx = self.ctx
        token = bearer_token(call.request)
        call.session = ctx.sessions.check(token) if token else None
        if call.session is None:
            raise invalid_session()
        used, limit = ctx.budget.spend()
        limit_header = [("Sforce-Limit-Info", f"api-usage={used}/{limit}")]
        for kind in ctx.faults.decide(call.request.path, r.query):
            if kind == "slow":
                ctx.sleep(ctx.faults.config.slow_seconds)
            elif kind == "drop":
                return Response(drop=True)
            elif kind == "invalid_session":
                ctx.sessions.invalidate(call.session.token)
                return self._error(invalid_session(), limit_header)
            else:
                return self._error(fault_error(kind), limit_header)
        ctx.calls += 1
        try:
            response = r.handler(ctx, call)
        except SalesforceApiError as err:
            return self._error(err, limit_header)
        except RecordErrors as err:
            status = 404 if err.errors[0].code in ("NOT_FOUND", "ENTITY_IS_DELETED") else 400
            return Response(status, orjson.dumps([e.rest_json() for e in err.errors]), headers=limit_header)
        response.headers.extend(limit_header)
        return response


def default_sleep(seconds: float) -> None:
    time.sleep(seconds)
