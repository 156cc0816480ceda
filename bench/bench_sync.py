"""Benchmark ``sync``: the local Salesforce sandbox to PostgreSQL, Contacts and their Accounts, end to end.

``crmsync sync`` runs as its own process on a crmsync.yaml written here: Salesforce (Bulk API 2.0
reads) -> mapping engine -> the demo ERP's ``customers`` and ``contacts`` tables in PostgreSQL, with
the cross-reference and checkpoints in a SQLite state store. The sandbox is a separate process
(``crmsync sandbox serve --db FILE``), seeded once from the project's generator into a file under
bench/.data/ (git-ignored) and reused; PostgreSQL is the local server. Neither is counted in the
memory figure: ``peak_rss_mb`` is the peak RSS of the ``crmsync sync`` process tree (wait4's rusage).

The value is records read (Accounts + Contacts) per second of that process's wall time, start-up
included. A second run at ``CRMSYNC_BENCH_SYNC_SCALE`` times the Contacts (default 4) reports
``peak_rss_mb_<k>x``: memory must stay flat as the data grows.

``CRMSYNC_BENCH_SYNC_CONTACTS`` sets the Contacts of the first run (default 1,000,000); four per Account.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from bench.common import emit, run_measured

CONTACTS = int(os.environ.get("CRMSYNC_BENCH_SYNC_CONTACTS", "1000000"))
SCALE = int(os.environ.get("CRMSYNC_BENCH_SYNC_SCALE", "4"))
PER_ACCOUNT = 4
POSTGRES = os.environ.get("CRMSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
ROOT = HERE.parent
CRMSYNC = str(Path(sys.executable).with_name("crmsync"))
SEED = {"contacts_per_account": PER_ACCOUNT, "opportunities_per_account": 0, "orders_per_customer": 0,
        "tasks_per_account": 0, "events_per_account": 0, "leads": 0,
        "crm_only_share": 0.0}  # every account has its ERP customer number: all of them land in the ERP


class Sandbox:
    """``crmsync sandbox serve`` on a seeded file, in its own process; seeds the file first if it is new."""

    def __init__(self, accounts: int) -> None:
        DATA.mkdir(exist_ok=True)
        self.db = DATA / f"sync-sandbox-{accounts}.sqlite"
        self.work = DATA / f"sync-sandbox-work-{accounts}"
        if not self.db.exists():
            self._seed(accounts)
        self.proc, self.urls = self._serve(self.db, ["--no-seed"])

    def _seed(self, accounts: int) -> None:
        """Seed into a side file and rename it when complete, so an interrupted seed is never reused."""
        partial = self.db.with_name(self.db.name + ".partial")
        for stale in partial.parent.glob(partial.name + "*"):
            stale.unlink()
        started = time.perf_counter()
        seed = self.work / "seed.json"
        seed.parent.mkdir(parents=True, exist_ok=True)
        seed.write_text(json.dumps({"seed": {"seed": 42, "options": {"accounts": accounts, **SEED}}}))
        proc, _ = self._serve(partial, ["--config", str(seed)])
        proc.terminate()
        proc.wait(timeout=120)
        partial.rename(self.db)
        for side in ("-wal", "-shm"):
            Path(str(partial) + side).unlink(missing_ok=True)
        print(f"bench sync: seeded {accounts} accounts in {time.perf_counter() - started:.0f}s", file=sys.stderr)

    def _serve(self, db: Path, flags: list[str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
        proc = subprocess.Popen([CRMSYNC, "--log-level", "WARNING", "sandbox", "serve", "--db", str(db), "--work-dir",
                                 str(self.work), "--api-budget", "1000000000", *flags],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        urls: dict[str, str] = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("sandbox ready"):
                return proc, urls
            label, _, value = line.removeprefix("sandbox ").partition(": ")
            urls[label] = value.strip()
        raise RuntimeError(f"the sandbox on {db} did not start (exit {proc.wait()})")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=120)


def erp_schema(name: str) -> None:
    """A fresh PostgreSQL schema holding the demo ERP's tables."""
    from connectors.testdata import erp_schema as erp

    engine = sa.create_engine(POSTGRES, execution_options={"schema_translate_map": {None: name}})
    with engine.begin() as conn:
        conn.execute(sa.schema.DropSchema(name, cascade=True, if_exists=True))
        conn.execute(sa.schema.CreateSchema(name))
        erp.metadata.create_all(conn, tables=[erp.customers, erp.contacts])
    engine.dispose()


def count_rows(schema: str) -> dict[str, int]:
    engine = sa.create_engine(POSTGRES, execution_options={"schema_translate_map": {None: schema}})
    from connectors.testdata import erp_schema as erp

    with engine.connect() as conn:
        found = {t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                 for t in (erp.customers, erp.contacts)}
    engine.dispose()
    return found


def copy_specs(source: Path, target: Path, drop: set[str]) -> None:
    target.mkdir(parents=True)
    for path in sorted(source.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        spec["fields"] = [f for f in spec["fields"] if str(f.get("canonical")) not in drop]
        (target / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))


def write_project(root: Path, sandbox: Sandbox, schema: str) -> Path:
    from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID

    shutil.rmtree(root, ignore_errors=True)
    copy_specs(ROOT / "mappings/specs/salesforce", root / "crm", {"owner_id"})
    copy_specs(ROOT / "mappings/specs/erp", root / "erp", {"owner_id", "industry"})
    config = {
        "version": 1,
        "state": {"url": "sqlite:///.crmsync/state.db"},
        "systems": {
            "crm": {"connector": "salesforce", "mappings": "crm", "settings": {
                "auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                         "client_secret": "${SF_CLIENT_SECRET}"},
                "login_url": sandbox.urls["https"], "ca_bundle": sandbox.urls["ca"], "objects": ["Account", "Contact"],
                "bulk_read_threshold": 0, "bulk_max_records": 20_000, "bulk_poll_interval": 0.2,
                "batch_size": 10_000}},
            "erp": {"connector": "sql", "mappings": "erp", "timezone": "Europe/Madrid", "settings": {
                "url": POSTGRES, "schema": schema, "batch_size": 5000, "streams": {
                    "customers": {"updated_at": "changed_ts"}, "contacts": {"updated_at": "changed_ts"}}}},
        },
        "syncs": {"bench": {"from": "crm", "to": "erp", "objects": ["Account", "Contact"], "batch_size": 5000}},
    }
    path = root / "crmsync.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_once(contacts: int) -> dict[str, Any]:
    """One full sync of ``contacts`` Contacts (and their Accounts) into an empty ERP schema."""
    from connectors.salesforce.sandbox import DEFAULT_CLIENT_SECRET

    accounts = contacts // PER_ACCOUNT
    sandbox = Sandbox(accounts)
    schema = f"bench_sync_{accounts}"
    try:
        erp_schema(schema)
        config = write_project(DATA / f"sync-project-{accounts}", sandbox, schema)
        log = config.parent / "sync.log"
        env = {**os.environ, "SF_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}
        with log.open("wb") as err:
            seconds, rss, result = run_measured([CRMSYNC, "--log-format", "json", "--log-level", "WARNING", "sync",
                                                 "bench", "--config", str(config)], env=env,
                                                stdout=subprocess.DEVNULL, stderr=err)
        if result.returncode != 0:
            raise RuntimeError(f"crmsync sync exited {result.returncode}: see {log}")
        totals = _totals(config)
        rows = count_rows(schema)
    finally:
        sandbox.stop()
    if rows["contacts"] + totals.get("quarantined", 0) < contacts:
        raise RuntimeError(f"contacts missing: {rows} of {contacts}, {totals}")
    return {"seconds": seconds, "rss": rss, "read": totals.get("read", 0), "rows": rows, "totals": totals}


def _totals(config: Path) -> dict[str, int]:
    listed = subprocess.run([CRMSYNC, "runs", "--sync", "bench", "--limit", "1", "--json", "--config", str(config)],
                            capture_output=True, text=True, check=True)
    run = json.loads(listed.stdout)[0]
    return {k: int(v) for k, v in run["summary"]["totals"].items()}


def main() -> int:
    first = run_once(CONTACTS)
    extra: dict[str, Any] = {"contacts": CONTACTS, "accounts": CONTACTS // PER_ACCOUNT,
                             "seconds": round(first["seconds"], 1), "written": first["totals"].get("written", 0),
                             "quarantined": first["totals"].get("quarantined", 0), "read_path": "bulk_2.0"}
    if SCALE > 1:
        bigger = run_once(CONTACTS * SCALE)
        extra[f"peak_rss_mb_{SCALE}x"] = round(bigger["rss"], 1)
        extra[f"records_per_s_{SCALE}x"] = round(bigger["read"] / bigger["seconds"], 1)
    emit("sync", first["read"] / first["seconds"], "records/s", peak_rss_mb=first["rss"], **extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
