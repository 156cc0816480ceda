"""sql_write: upsert contacts into PostgreSQL through the SQL connector, then read them all back.

Value: records/s written (``SqlConnector.write``: COPY into staging, INSERT ... ON CONFLICT, a
result per record); ``read_value``: records/s read (keyset over a server-side cursor). Each size
runs in a fresh subprocess so its peak RSS is that of the process doing the work (the database's
memory is not counted); ``peak_rss_mb_4x`` is the same run at four times the rows and must stay
within 1.2x of the 1x peak (memory flat as N grows). Target: >= 100,000 rows/s written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CHAR, BigInteger, Column, DateTime, MetaData, String, Table, create_engine, event, text

from bench.common import emit, self_peak_rss_mb
from connectors.retry import RetryPolicy
from connectors.sql import SqlConfig, SqlConnector

ROWS = 1_000_000
CHUNK = 20_000  # records per write() call, as a sync batch would hand them over
TARGET = 100_000
URL = os.environ.get("CRMSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
GIVEN = ("Ana", "Bruno", "Carla", "Diego", "Elena", "Fabio", "Greta", "Hugo", "Irene", "Jonas", "Karin", "Luis")
FAMILY = ("Garcia", "Muller", "Rossi", "Dubois", "Novak", "Silva", "Jensen", "Kowalski", "Fischer", "Moreno")
POSITIONS = ("CEO", "CFO", "Buyer", "Head of IT", "Office Manager", "Sales Lead", None)
LANGS = ("es", "de", "it", "fr", "en", "pt")


def contacts(metadata: MetaData) -> Table:
    """The demo ERP's contacts table (connectors/testdata/erp_schema.py) without its foreign key."""
    return Table(
        "contacts", metadata,
        Column("contact_no", BigInteger, primary_key=True, autoincrement=False),
        Column("cust_no", String(10)), Column("salutation", String(10)), Column("given_name", String(60)),
        Column("family_name", String(80), nullable=False), Column("email_addr", String(120)),
        Column("phone_no", String(40)), Column("mobile_no", String(40)), Column("position", String(80)),
        Column("lang", CHAR(2)), Column("changed_ts", DateTime, nullable=False),
        Column("deleted_flag", CHAR(1), nullable=False, server_default="N"),
    )


def generate(rows: int) -> Iterator[list[dict[str, Any]]]:
    """Contact-like rows in chunks, made on the fly so the generator holds one chunk at a time."""
    base = datetime(2024, 1, 1)
    for start in range(0, rows, CHUNK):
        chunk = []
        for n in range(start, min(start + CHUNK, rows)):
            given, family = GIVEN[n % len(GIVEN)], FAMILY[(n // 7) % len(FAMILY)]
            chunk.append({
                "contact_no": n + 1, "cust_no": f"C{n // 4:07d}", "salutation": "Ms." if n % 2 else "Mr.",
                "given_name": given, "family_name": family,
                "email_addr": f"{given.lower()}.{family.lower()}{n}@example.com",
                "phone_no": f"+34 91 {n % 1000:03d} {n % 10000:04d}", "mobile_no": None,
                "position": POSITIONS[n % len(POSITIONS)], "lang": LANGS[n % len(LANGS)],
                "changed_ts": base + timedelta(seconds=n // 3), "deleted_flag": "N",
            })
        yield chunk


def run_child(rows: int) -> dict[str, Any]:
    """Write then read ``rows`` contacts in a schema of its own; returns rates and this process's peak."""
    schema = f"crmsync_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        metadata = MetaData(schema=schema)
        contacts(metadata)
        metadata.create_all(admin)
        config = SqlConfig(url=URL, schema=schema, batch_size=CHUNK, copy_threshold=5000,
                           streams={"contacts": {"updated_at": "changed_ts", "soft_delete_column": "deleted_flag",
                                                 "deleted_value": "Y"}})
        sql = SqlConnector(config, RetryPolicy())
        backends = _backend_pids(sql)
        written, failed, write_seconds, write_cpu = 0, 0, 0.0, 0.0
        for chunk in generate(rows):
            started, cpu = time.perf_counter(), time.process_time()
            result = sql.write("contacts", chunk)
            write_seconds += time.perf_counter() - started
            write_cpu += time.process_time() - cpu
            written += len(result.results)
            failed += len(result.failed)
        server_cpu = sum(_cpu_seconds(pid) for pid in backends)
        started = time.perf_counter()
        read = sum(len(batch.records) for batch in sql.read("contacts"))
        read_seconds = time.perf_counter() - started
        sql.close()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    return {"rows": rows, "written": written, "failed": failed, "read": read,
            "write_rps": written / write_seconds, "read_rps": read / read_seconds,
            "write_cpu_us_per_row": 1e6 * write_cpu / written,
            "write_rps_per_cpu": written / (write_cpu + server_cpu),
            "peak_rss_mb": self_peak_rss_mb()}


def _backend_pids(sql: SqlConnector) -> set[int]:
    """PostgreSQL backend pids of the connector's connections (the server is local: /proc has them)."""
    pids: set[int] = set()

    @event.listens_for(sql.client.engine, "connect")
    def _remember(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.add(cursor.fetchone()[0])

    return pids


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (0 when it is gone or not ours to see)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(rows: int) -> dict[str, Any]:
    """``run_child`` in a fresh interpreter, so peaks of different sizes do not mix."""
    out = subprocess.run([sys.executable, "-m", "bench.bench_sql_write", "--child", str(rows)],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    load = os.getloadavg()[0]  # the machine is shared: say how busy it was
    one = measure(ROWS)
    four = measure(4 * ROWS)
    ok_rows = one["written"] == one["read"] == ROWS and not one["failed"] and four["read"] == 4 * ROWS
    flat = four["peak_rss_mb"] <= 1.2 * one["peak_rss_mb"]
    emit("sql_write", one["write_rps"], "records/s", peak_rss_mb=one["peak_rss_mb"],
         read_value=round(one["read_rps"], 1), peak_rss_mb_4x=round(four["peak_rss_mb"], 1),
         write_value_4x=round(four["write_rps"], 1), rows=ROWS, memory_flat=flat,
         write_cpu_us_per_row=round(one["write_cpu_us_per_row"], 2), load_avg=round(load, 1),
         write_value_per_cpu_second=round(one["write_rps_per_cpu"], 1),
         target_met=one["write_rps"] >= TARGET)
    return 0 if ok_rows and flat and one["write_rps"] >= TARGET else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(run_child(int(sys.argv[2]))), flush=True)
    else:
        sys.exit(main())
