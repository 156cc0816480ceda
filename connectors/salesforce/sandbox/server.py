"""``Sandbox``: builds the org (schema, data, users), starts the HTTP, HTTPS and proxy listeners, stops them.

Usable in-process (tests: ``with Sandbox(config) as sb: ...`` or ``sb.start()`` / ``sb.stop()``, all
listeners in daemon threads) and as a process (``crmsync sandbox serve``). Ports 0 pick free ports;
the bound URLs are on the instance after ``start()``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select

from connectors.salesforce.objects import OBJECTS, extend_objects, id_for

from .app import Context, SandboxApp, default_sleep
from .auth import Authenticator, SessionStore
from .bulkingest import BulkIngestJobs
from .bulkquery import BulkQueryJobs
from .config import SandboxConfig
from .db import Database, compile_sql
from .faults import ApiBudget, FaultInjector
from .httpserver import HTTPService
from .proxy import ConnectProxy
from .queries import QueryEngine
from .routes import all_routes
from .schema import Schema
from .seed import ensure_users, insert_rows, is_empty, make_dataset, seed_from_dataset
from .store import Store
from .timefmt import Clock
from .tls import LocalCA

log = structlog.get_logger(__name__)

ORG_ID = id_for("00D", 1)


@dataclass(frozen=True)
class SandboxUrls:
    """Where the running sandbox listens."""

    http: str | None
    https: str | None
    proxy: str | None
    ca_path: Path

    def client_env(self) -> dict[str, str]:
        """Environment for unmodified clients (reference §1.2 A): login hosts go through the proxy and
        everything trusts the sandbox CA."""
        env = {"REQUESTS_CA_BUNDLE": str(self.ca_path), "SSL_CERT_FILE": str(self.ca_path)}
        if self.proxy:
            env["HTTPS_PROXY"] = env["https_proxy"] = self.proxy
        return env


class Sandbox:
    """A local Salesforce org. ``config`` fields can also be given as keyword arguments."""

    def __init__(self, config: SandboxConfig | None = None, *, clock: Clock = time.time,
                 sleep: Callable[[float], None] = default_sleep, **overrides: Any) -> None:
        base = config.model_dump() if config is not None else {}
        self.config = SandboxConfig.model_validate({**base, **overrides}) if overrides else (config or SandboxConfig())
        self.clock = clock
        self.sleep = sleep
        self.ctx: Context | None = None
        self.urls: SandboxUrls | None = None
        self.seeded: dict[str, int] = {}
        self._services: list[HTTPService | ConnectProxy] = []
        self._temp_dir: Path | None = None

    # ----------------------------------------------------------------------------- build
    def _work_dir(self) -> Path:
        if self.config.work_dir is not None:
            self.config.work_dir.mkdir(parents=True, exist_ok=True)
            return self.config.work_dir
        self._temp_dir = Path(tempfile.mkdtemp(prefix="crmsync-sandbox-"))
        return self._temp_dir

    def _build(self) -> Context:
        cfg = self.config
        work = self._work_dir()
        dataset = make_dataset(cfg.seed, cfg.custom) if cfg.seed is not None else None
        objects = dataset.objects if dataset is not None else extend_objects(cfg.custom) if cfg.custom else OBJECTS
        schema = Schema(objects)
        db = Database(cfg.db)
        db.executescript(schema.create_tables_sql())
        if dataset is not None and is_empty(db, schema):
            self.seeded = seed_from_dataset(db, schema, dataset)
        db.executescript(schema.create_indexes_sql())
        store = Store(db, schema, self.clock)
        user_ids = ensure_users(db, store, schema, cfg.users)
        sessions = SessionStore(ORG_ID, cfg.session_ttl, self.clock)
        first = cfg.users[0].username
        for token in cfg.static_sessions:
            sessions.issue(user_ids[first.lower()], first, token=token, ttl=10 * 365 * 86400)
        engine = QueryEngine(db, schema, self.clock, cfg.cursor_ttl)
        return Context(
            config=cfg, schema=schema, db=db, store=store, engine=engine,
            bulk_query=BulkQueryJobs(db, engine, work, self.clock, cfg.bulk_page_size),
            bulk_ingest=BulkIngestJobs(db, schema, store, work, self.clock),
            sessions=sessions, auth=Authenticator(cfg, sessions, user_ids), faults=FaultInjector(cfg.faults),
            budget=ApiBudget(cfg.api_budget, self.clock), clock=self.clock, sleep=self.sleep, work_dir=work,
            org_id=ORG_ID,
        )

    # ----------------------------------------------------------------------------- lifecycle
    def start(self) -> SandboxUrls:
        """Build the org and start listening; returns the URLs (also on ``self.urls``)."""
        if self.urls is not None:
            return self.urls
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> SandboxUrls:
        cfg = self.config
        self.ctx = ctx = self._build()
        ca = LocalCA()
        ca_path = ca.write(cfg.ca_path or ctx.work_dir / "sandbox-ca.pem")
        app = SandboxApp(ctx, all_routes())
        http = https = proxy = None
        if cfg.http_port is not None:
            # The plain port also answers TLS (told apart by the first byte), so simple-salesforce, which turns
            # any instance_url into https://, works even when the proxy is bypassed (NO_PROXY=127.0.0.1).
            http = HTTPService(app, cfg.host, cfg.http_port, ca.server_context(), sniff_tls=True)
            ctx.urls["http"] = f"http://{cfg.host}:{http.port}"
            self._services.append(http)
        if cfg.https_port is not None:
            https = HTTPService(app, cfg.host, cfg.https_port, ca.server_context())
            ctx.urls["https"] = f"https://{cfg.host}:{https.port}"
            self._services.append(https)
        if cfg.proxy_port is not None and http is not None:
            proxy = ConnectProxy((cfg.host, http.port), ca.server_context(), cfg.host, cfg.proxy_port)
            self._services.append(proxy)
        for service in self._services:
            service.start()
        self.urls = SandboxUrls(ctx.urls.get("http"), ctx.urls.get("https"), proxy.url if proxy else None, ca_path)
        log.info("sandbox.started", http=self.urls.http, https=self.urls.https, proxy=self.urls.proxy,
                 seeded=self.seeded)
        return self.urls

    def stop(self) -> None:
        for service in reversed(self._services):
            service.stop()
        self._services.clear()
        if self.ctx is not None:
            self.ctx.engine.close()
            self.ctx.bulk_query.close()
            self.ctx.bulk_ingest.close()
            self.ctx.db.close()
            self.ctx = None
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None
        self.urls = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------------------- test helpers
    @property
    def context(self) -> Context:
        if self.ctx is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self.ctx

    @property
    def proxy(self) -> ConnectProxy | None:
        return next((s for s in self._services if isinstance(s, ConnectProxy)), None)

    def session(self, username: str | None = None, ttl: float | None = None) -> str:
        """A valid session token (a "direct session", as a password-less client would hold)."""
        ctx = self.context
        name = username or ctx.config.users[0].username
        return ctx.sessions.issue(ctx.auth.user_ids[name.lower()], name, ttl=ttl).token

    def user_id(self, username: str | None = None) -> str:
        ctx = self.context
        return ctx.auth.user_ids[(username or ctx.config.users[0].username).lower()]

    @property
    def faults(self) -> FaultInjector:
        """``configure({...})``, ``reset()``, ``snapshot()``, ``injected`` (counts by kind)."""
        return self.context.faults

    @property
    def budget(self) -> ApiBudget:
        """``set(limit=, used=)``, ``snapshot()``, ``usage()``."""
        return self.context.budget

    def insert_rows(self, sobject: str, rows: list[dict[str, Any]]) -> int:
        """Load native rows directly (no validation, no API budget): test fixtures beyond the generator."""
        obj = self.context.schema.get(sobject)
        if obj is None:
            raise KeyError(sobject)
        return insert_rows(self.context.db, obj, rows)

    def rows(self, sobject: str, include_deleted: bool = True) -> list[dict[str, Any]]:
        """Every stored row of an object (stored form, keyed by field name), in Id order: the truth tests compare
        client output with."""
        ctx = self.context
        obj = ctx.schema.get(sobject)
        if obj is None:
            raise KeyError(sobject)
        t = obj.table
        names = [f.name for f in obj.stored]
        stmt = select(*(t.c[n] for n in names)).order_by(t.c.Id)
        if not include_deleted and "IsDeleted" in t.c:
            stmt = stmt.where(t.c.IsDeleted == 0)
        sql = compile_sql(stmt)
        with ctx.db.read() as conn:
            return [dict(zip(names, r, strict=True)) for r in conn.execute(sql.text, sql.params())]
