"""reconcile: crmsync's reconciliation of two PostgreSQL tables side by side with reladiff.

Two tables of the demo ERP's customers shape (``rows`` each, default 1,000,000) in two schemas, where
1% of rows differ in value (a real phone change; no formatting-only differences), so both tools must
report exactly those keys (asserted). Measured in one run:

- value: seconds of crmsync's full reconciliation (``crmsync reconcile`` in its own process: both
  tables read, mapped through the shipped ERP mapping, every detector run), ``peak_rss_mb`` its peak;
- ``rowdiff_s``: crmsync's row diff with learned key ranges (range checksums in the database, differing
  ranges bisected while that pays, then the rows' hashes read for the ranges left; ``checksums`` ranges
  checksummed per side over ``levels`` levels), ``rowdiff_cold_s`` the first, full pass that learns the ranges;
- peer ``reladiff`` 0.6.0 (hashdiff across two connections): ``peer_value`` its seconds.
Targets: the row diff at least as fast as reladiff; the full reconciliation under 60 s and 1 GB.
CRMSYNC_BENCH_RECONCILE_ROWS sets the size; CRMSYNC_BENCH_RECONCILE_SKIP_FULL=1 (development only) skips
the full reconciliation.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import emit, run_measured
from connectors.retry import RetryPolicy
from connectors.sql.config import SqlConfig
from connectors.sql.connector import SqlConnector
from connectors.testdata.peers import PeerUnavailable, peer_bin
from orchestrator.reconcile.rangediff import diff_full, diff_ranges

ROWS = int(os.environ.get("CRMSYNC_BENCH_RECONCILE_ROWS", "1000000"))
# Development only: skip the full reconciliation (the slow part) to iterate on the row diff.
SKIP_FULL = os.environ.get("CRMSYNC_BENCH_RECONCILE_SKIP_FULL", "") == "1"
URL = os.environ.get("CRMSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
COLUMNS = ["cust_no", "company_name", "vat_id", "street", "zip", "city", "country", "phone_no", "email_addr", "web",
           "sector", "status", "credit_limit", "currency", "sales_rep", "sf_account_id", "created_ts", "changed_ts",
           "deleted_flag"]
SPECS = Path(__file__).resolve().parents[1] / "mappings" / "specs" / "erp"
TABLE = """CREATE TABLE {s}.customers (
  cust_no varchar(10) PRIMARY KEY, company_name varchar(120) NOT NULL, vat_id varchar(20), street varchar(120),
  zip varchar(12), city varchar(60), country varchar(60), phone_no varchar(40), email_addr varchar(120),
  web varchar(120), sector varchar(12), status char(1) NOT NULL DEFAULT 'A', credit_limit numeric(12,2),
  currency char(3) NOT NULL DEFAULT 'EUR', sales_rep varchar(10), sf_account_id varchar(18),
  created_ts timestamp NOT NULL, changed_ts timestamp NOT NULL, deleted_flag char(1) NOT NULL DEFAULT 'N')"""
FILL = """INSERT INTO {s}.customers
SELECT lpad(g::text, 7, '0'),
  (ARRAY['Acme','Borealis','Cobalt','Delta','Echo','Fjord','Garnet','Helix'])[1 + g % 8] || ' '
    || (ARRAY['Logistics','Foods','Systems','Textiles','Metals','Pharma','Media','Energy'])[1 + (g / 8) % 8]
    || ' ' || g::text || ' S.L.',
  'ESB' || lpad((g % 10000000)::text, 7, '0') || (g % 10)::text, 'Calle Mayor ' || (g % 300)::text,
  lpad((28000 + g % 1000)::text, 5, '0'), (ARRAY['Madrid','Sevilla','Valencia','Bilbao'])[1 + g % 4], 'ES',
  '+34 91' || lpad((g % 10000000)::text, 7, '0'), 'info' || g::text || '@firm' || g::text || '.es',
  'https://www.firm' || g::text || '.es',
  (ARRAY['RETAIL','WHOLESALE','MANUFACT','SERVICES','PUBLIC','HEALTH'])[1 + g % 6], 'A', (g % 100000)::numeric / 4,
  'EUR', 'E' || lpad((g % 20)::text, 4, '0'), NULL, timestamp '2022-01-01' + g * interval '1 second',
  timestamp '2023-01-01' + g * interval '1 second', 'N'
FROM generate_series(1, :rows) AS g"""
CHANGE = """UPDATE {s}.customers SET phone_no = '+34 93' || lpad(((cust_no::int * 7) % 10000000)::text, 7, '0')
WHERE cust_no::int % 100 = 37"""
PROJECT = """version: 1
state: {{url: "sqlite:///{dir}/state.db"}}
systems:
  left:
    connector: sql
    timezone: Europe/Madrid
    mappings: {specs}
    settings: {{url: "{url}", schema: {left}, batch_size: 5000, streams: {{customers: {{updated_at: changed_ts}}}}}}
  right:
    connector: sql
    timezone: Europe/Madrid
    mappings: {specs}
    settings: {{url: "{url}", schema: {right}, batch_size: 5000, streams: {{customers: {{updated_at: changed_ts}}}}}}
reconciliations:
  mirror: {{left: left, right: right, entities: [Account], lag_minutes: 0, report_dir: reports}}
"""


def setup(rows: int) -> tuple[str, str, set[str]]:
    """Two schemas holding the same customers, 1% of the right one's phones changed; returns the changed keys."""
    tag = uuid.uuid4().hex[:8]
    left, right = f"crmsync_rec_l_{tag}", f"crmsync_rec_r_{tag}"
    engine = create_engine(URL)
    with engine.begin() as conn:
        for schema in (left, right):
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            conn.execute(text(TABLE.format(s=schema)))
        conn.execute(text(FILL.format(s=left)), {"rows": rows})
        conn.execute(text(f"INSERT INTO {right}.customers SELECT * FROM {left}.customers"))  # noqa: S608
        conn.execute(text(CHANGE.format(s=right)))
        changed = {r[0] for r in conn.execute(text(f"SELECT cust_no FROM {right}.customers "  # noqa: S608
                                                    "WHERE cust_no::int % 100 = 37"))}
        for schema in (left, right):
            conn.execute(text(f"ANALYZE {schema}.customers"))
    engine.dispose()
    return left, right, changed


def teardown(*schemas: str) -> None:
    engine = create_engine(URL)
    with engine.begin() as conn:
        for schema in schemas:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def connector(schema: str) -> SqlConnector:
    return SqlConnector(SqlConfig(url=URL, schema=schema, batch_size=5000,
                                  streams={"customers": {"updated_at": "changed_ts"}}), RetryPolicy())


def crmsync_rowdiff(left: str, right: str) -> tuple[dict[str, Any], set[str]]:
    a, b = connector(left), connector(right)
    try:
        cold = diff_full(a, b, "customers", "cust_no", COLUMNS)
        warm = diff_ranges(a, b, "customers", "cust_no", COLUMNS, cold.boundaries)
    finally:
        a.close()
        b.close()
    assert warm.differing == cold.differing
    return {"rowdiff_s": warm.seconds, "rowdiff_cold_s": cold.seconds, "ranges": warm.ranges,
            "equal_ranges": warm.equal_ranges, "checksums": warm.checksums, "levels": warm.levels,
            "rows_read_warm": warm.rows_read}, warm.differing


def reladiff(left: str, right: str, workdir: Path) -> tuple[float, float, set[str]]:
    db = URL.replace("postgresql+psycopg://", "postgresql://")
    cols = [arg for c in COLUMNS[1:] for arg in ("-c", c)]
    out = workdir / "reladiff.jsonl"
    cmd = [str(peer_bin("reladiff", "reladiff")), db, f"{left}.customers", db, f"{right}.customers",
           "-k", "cust_no", *cols, "--skip-sort-results", "--json"]
    env = {**os.environ, "COLUMNS": "100000"}  # one JSON line per row, never wrapped
    with out.open("wb") as handle:
        seconds, rss, result = run_measured(cmd, stdout=handle, stderr=subprocess.DEVNULL, env=env)
    assert result.returncode == 0, f"reladiff exited {result.returncode}"
    keys = {json.loads(line)[1][0] for line in out.read_text().splitlines() if line.strip()}
    return seconds, rss, keys


def full_reconciliation(left: str, right: str, workdir: Path) -> tuple[float, float, dict[str, Any]]:
    config = workdir / "crmsync.yaml"
    config.write_text(PROJECT.format(dir=workdir, url=URL, left=left, right=right, specs=SPECS))
    cmd = [str(Path(sys.executable).with_name("crmsync")), "--log-level", "WARNING", "reconcile", "mirror",
           "-c", str(config)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, rss, result = run_measured(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0, f"crmsync reconcile exited {result.returncode}"
    report = json.loads((workdir / "reports" / "mirror-latest.json").read_text())
    report["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return seconds, rss, report


def main() -> int:
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"crmsync-bench-reconcile-{uuid.uuid4().hex[:6]}"
    workdir.mkdir(parents=True)
    left, right, changed = setup(ROWS)
    try:
        rowdiff, found = crmsync_rowdiff(left, right)
        assert found == changed, f"crmsync row diff: {len(found)} keys, expected {len(changed)}"
        try:
            peer_s, peer_rss, peer_keys = reladiff(left, right, workdir)
            assert peer_keys == changed, f"reladiff: {len(peer_keys)} keys, expected {len(changed)}"
        except PeerUnavailable:
            peer_s, peer_rss = float("nan"), float("nan")
        report: dict[str, Any] = {"total": None, "cpu_s": float("nan")}
        if SKIP_FULL:
            seconds, rss = float("nan"), float("nan")
        else:
            seconds, rss, report = full_reconciliation(left, right, workdir)
            mismatched = {r["key"] for f in report["findings"] if f["code"] == "field_mismatch"
                          for r in f["records"] if r["system"] == "left"}
            assert mismatched == changed, f"reconcile: {len(mismatched)} mismatching records, expected {len(changed)}"
    finally:
        teardown(left, right)
    ok = seconds < 60 and rss < 1024 and rowdiff["rowdiff_s"] <= peer_s
    emit("reconcile", seconds, "s", peer="reladiff", peer_value=peer_s, peak_rss_mb=rss, peer_peak_rss_mb=peer_rss,
         rows=ROWS, differing=len(changed), same_keys=True, findings=report["total"], cpu_s=round(report["cpu_s"], 1),
         load_avg=round(os.getloadavg()[0], 1),
         **{k: round(v, 3) if isinstance(v, float) else v for k, v in rowdiff.items()}, target_met=ok)
    return 0 if ok else 1


if __name__ == "__main__":
    started = time.perf_counter()
    sys.exit(main())
