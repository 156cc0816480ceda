"""Helpers for executor tests and benchmarks: a PostgreSQL project of N rows, worker processes, cleanup.

Shipped in the package (like ``orchestrator.state.testing``) so the scale-out tests and the
``scale_out`` benchmark build the same project: an ERP ``customers`` table (key ``cust_no``,
cursor ``seq``) synced to a CRM ``accounts`` table in its own PostgreSQL schema, with the state
store in a second schema and a RabbitMQ queue of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

BROKER_ENV = "CRMSYNC_SCALE_BROKER_URL"
SOURCE_SPEC = {"system_type": "sql", "object": "customers", "entity": "Account", "key": "cust_no", "cursor": "seq",
               "fields": [{"canonical": "account_number", "native": "cust_no", "required": True},
                          {"canonical": "name", "native": "name", "transforms": ["trim"], "required": True}]}
TARGET_SPEC = {"system_type": "sql", "object": "accounts", "entity": "Account", "key": "ext_id",
               "fields": [{"canonical": "account_number", "native": "ext_id", "required": True},
                          {"canonical": "name", "native": "name", "required": True}]}


@dataclass(frozen=True, slots=True)
class ScaleProject:
    """A crmsync project on PostgreSQL and RabbitMQ, made for one test or benchmark."""

    workdir: Path
    postgres_url: str
    broker_url: str
    schema: str  # source and target tables
    state_schema: str
    queue: str
    rows: int

    @property
    def config(self) -> Path:
        return self.workdir / "crmsync.yaml"

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.postgres_url)

    def env(self) -> dict[str, str]:
        """The environment crmsync commands of this project run with (the broker URL is a secret)."""
        return {**os.environ, BROKER_ENV: self.broker_url, "PYTHONUNBUFFERED": "1"}

    def command(self, *args: str) -> list[str]:
        """``crmsync --log-format json ARGS --config <this project>``."""
        return [str(Path(sys.executable).with_name("crmsync")), "--log-format", "json", *args,
                "--config", str(self.config)]


def key(n: int) -> str:
    """The n-th source key: ``C000042``."""
    return f"C{n:06d}"


def make_project(workdir: Path, postgres_url: str, broker_url: str, rows: int, *, batch_size: int = 2000,
                 lease_ttl_s: float = 10.0, time_slice_s: float = 20.0,
                 blank_names: Sequence[int] = ()) -> ScaleProject:
    """Create the tables (``rows`` customers, an empty accounts table) and write crmsync.yaml and the specs.

    ``blank_names``: customers whose name is blank, so they are quarantined by the mapping.
    """
    tag = uuid.uuid4().hex[:10]
    project = ScaleProject(workdir, postgres_url, broker_url, f"scale_{tag}", f"scale_{tag}_state",
                           f"crmsync.test.{tag}", rows)
    _create_tables(project, blank_names)
    for system, spec in (("erp", SOURCE_SPEC), ("crm", TARGET_SPEC)):
        (workdir / "maps" / system).mkdir(parents=True, exist_ok=True)
        (workdir / "maps" / system / f"{spec['object']}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    project.config.write_text(yaml.safe_dump(_config(project, batch_size, lease_ttl_s, time_slice_s),
                                             sort_keys=False))
    return project


def _config(p: ScaleProject, batch_size: int, lease_ttl_s: float, time_slice_s: float) -> dict[str, Any]:
    def system(mappings: str, streams: dict[str, Any]) -> dict[str, Any]:
        return {"connector": "sql", "mappings": mappings, "settings": {
            "url": p.postgres_url, "schema": p.schema, "batch_size": batch_size, "streams": streams}}

    return {"version": 1, "state": {"url": p.postgres_url, "schema": p.state_schema},
            "executor": {"type": "celery", "broker_url": "${" + BROKER_ENV + "}", "lease_ttl_s": lease_ttl_s,
                         "time_slice_s": time_slice_s,
                         # A partition now works its 12,500 records in 2-3 s: report progress at every
                         # batch commit so tests can see one at work before it ends.
                         "progress_every_s": 0.1},
            "systems": {"erp": system("maps/erp", {"customers": {"updated_at": "seq"}}),
                        "crm": system("maps/crm", {"accounts": {}})},
            "syncs": {"copy": {"from": "erp", "to": "crm", "objects": ["Account"], "batch_size": batch_size}}}


def tables(schema: str) -> tuple[sa.Table, sa.Table]:
    """The source ``customers`` and target ``accounts`` tables of a project's schema."""
    metadata = sa.MetaData(schema=schema)
    customers = sa.Table("customers", metadata, sa.Column("cust_no", sa.Text, primary_key=True),
                         sa.Column("name", sa.Text, nullable=False), sa.Column("seq", sa.Integer, nullable=False),
                         sa.Index(f"ix_{schema}_seq", "seq", "cust_no"))
    accounts = sa.Table("accounts", metadata, sa.Column("ext_id", sa.Text, primary_key=True),
                        sa.Column("name", sa.Text, nullable=False))
    return customers, accounts


def _create_tables(p: ScaleProject, blank_names: Sequence[int]) -> None:
    customers, accounts = tables(p.schema)
    g = sa.func.generate_series(0, p.rows - 1).column_valued("g")
    text = sa.cast(g, sa.Text)
    engine = p.engine()
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(p.schema))
        customers.metadata.create_all(conn)
        conn.execute(customers.insert().from_select(
            ["cust_no", "name", "seq"], sa.select(sa.literal("C") + sa.func.lpad(text, 6, "0"),
                                                  sa.literal("Firm ") + text, g)))
        if blank_names:
            conn.execute(customers.update().where(customers.c.cust_no.in_([key(n) for n in blank_names]))
                         .values(name="  "))
        conn.execute(sa.text(f"ANALYZE {_quoted(engine, customers)}"))
    engine.dispose()


def _quoted(engine: sa.Engine, table: sa.Table) -> str:
    return engine.dialect.identifier_preparer.format_table(table)


def target_rows(p: ScaleProject) -> list[tuple[str, str]]:
    """The target's (ext_id, name) rows, by key."""
    _, accounts = tables(p.schema)
    engine = p.engine()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(accounts.c.ext_id, accounts.c.name).order_by(accounts.c.ext_id)).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def drop_project(p: ScaleProject) -> None:
    """Drop the schemas and delete the queues the project used."""
    engine = p.engine()
    with engine.begin() as conn:
        for schema in (p.schema, p.state_schema):
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
    engine.dispose()
    try:
        import kombu

        with kombu.Connection(p.broker_url) as conn:
            channel = conn.default_channel
            for name in (p.queue, f"{p.queue}.recon", f"{p.queue}.dead"):
                channel.queue_delete(name)
    except Exception:  # the broker may be gone; nothing else to clean
        pass


@contextmanager
def fresh_statistics(p: ScaleProject, every_s: float = 5.0) -> Iterator[None]:
    """ANALYZE the state store's tables every few seconds, as autovacuum does on a default PostgreSQL.

    The CI server runs with autovacuum off; without statistics the planner picks a scan of every
    cross-reference row of a system for each lookup (quadratic in the run's size).
    """
    stop = threading.Event()
    engine = sa.create_engine(p.postgres_url, isolation_level="AUTOCOMMIT")
    xref = _quoted(engine, sa.Table("xref", sa.MetaData(schema=p.state_schema)))

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text(f"ANALYZE {xref}"))
            except Exception:  # the schema may not exist yet or any more
                continue

    thread = threading.Thread(target=loop, name="analyze", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        engine.dispose()


class WorkerProcess:
    """``crmsync worker`` in its own process group, so the test can kill the whole worker like a lost host."""

    def __init__(self, p: ScaleProject, concurrency: int = 1, *args: str, log: Path | None = None) -> None:
        self.log = log or p.workdir / f"worker-{uuid.uuid4().hex[:6]}.log"
        cmd = p.command("worker", "--queue", p.queue, "--concurrency", str(concurrency), *args)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                         cwd=p.workdir, env=p.env())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no cleanup, no acknowledgement, as when a host dies."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL what is left."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def peak_rss_mb(self) -> float:
        """The largest peak RSS (VmHWM) of the worker's processes, while they run."""
        peak = 0
        for pid in [self.proc.pid, *self.children()]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            peak = max([peak] + [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")])
        return peak / 1024

    def children(self) -> list[int]:
        """Pids of the worker's pool processes."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(x) for x in path.read_text().split()]
        except OSError:
            return []
