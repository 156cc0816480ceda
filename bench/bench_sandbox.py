"""Benchmark ``sandbox``: records/s the Salesforce sandbox serves for 1,000,000 Contacts, REST and Bulk 2.0.

The sandbox runs as its own process (``crmsync sandbox serve``) on a SQLite file seeded once by the
project's generator (100,000 Accounts x 10 Contacts, kept in bench/.data/, git-ignored). The client is a
lean loop in this process, so the server is what is measured:

- ``value`` (REST): ``GET /queryAll`` of every Contact, then every ``nextRecordsUrl`` page of 2,000,
  each body parsed with orjson; records over wall time, first request to last page.
- ``bulk_value`` (Bulk 2.0): ``POST /jobs/query`` (queryAll), then every results page (CSV, the
  sandbox's default page, ``Sforce-Locator`` until ``null``, each body received in 1 MiB chunks as a
  client saving results to a file does), then ``DELETE`` of the job; records over wall time, job
  creation included.

Both read the field set a crmsync mapping reads (12 fields: ids, names, email, phone, city, country,
title, IsDeleted, LastModifiedDate, SystemModstamp). The same runs over every readable Contact field
(51) are reported beside them (``rest_all_fields_value`` over the first 200,000 records,
``bulk_all_fields_value`` over all), as is the sandbox process's peak RSS (VmHWM) and CPU seconds.
The machine is shared: the wall-clock rates include whatever else runs; the ``*_per_server_cpu_s`` rates
(records per second of the sandbox process's CPU time, from /proc) and the 1-minute load average are
reported beside them so a run on a busy machine can be read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import requests

from bench.common import emit

DATA = Path(__file__).resolve().parent / ".data"
ACCOUNTS, PER_ACCOUNT = 100_000, 10
SEED = {"seed": 1, "options": {"accounts": ACCOUNTS, "contacts_per_account": PER_ACCOUNT,
                               "opportunities_per_account": 0, "orders_per_customer": 0, "tasks_per_account": 0,
                               "events_per_account": 0, "leads": 0, "users": 20}}
FIELDS = ["Id", "IsDeleted", "FirstName", "LastName", "Email", "Phone", "AccountId", "MailingCity",
          "MailingCountry", "Title", "LastModifiedDate", "SystemModstamp"]
REST_TARGET, BULK_TARGET = 50_000, 300_000


class Server:
    """``crmsync sandbox serve`` in its own process; ``stop()`` returns its peak RSS (MB) and CPU seconds."""

    def __init__(self, db: Path, work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        config = work / "sandbox.json"
        config.write_text(json.dumps({"seed": SEED, "api_budget": 100_000_000}))
        crmsync = Path(sys.executable).with_name("crmsync")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(crmsync), "--log-format", "json", "sandbox", "serve", "--db", str(db), "--work-dir", str(work),
             "--config", str(config), "--https-port", "0", "--proxy-port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.urls: dict[str, str] = {}
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("sandbox ready"):
                break
            label, _, value = line.removeprefix("sandbox ").partition(": ")
            self.urls[label] = value.strip()
        if "http" not in self.urls:
            raise RuntimeError(f"the sandbox did not start (exit {self.proc.poll()})")
        self.ready_seconds = time.perf_counter() - self.started

    def usage(self) -> tuple[float, float]:
        """(peak RSS MB, CPU seconds) of the server process so far."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return hwm / 1024, (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=120)


def prepare() -> tuple[Path, float | None]:
    """The seeded database file, and the seconds seeding took if it was made now (None when reused)."""
    DATA.mkdir(exist_ok=True)
    db = DATA / f"sandbox-generated-{ACCOUNTS * PER_ACCOUNT}.sqlite"
    if db.exists():
        return db, None
    partial = db.with_name(db.name + ".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    server = Server(partial, DATA / "sandbox-seed-work")
    seconds = server.ready_seconds
    server.stop()
    partial.rename(db)
    return db, seconds


def session(server: Server) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    token = http.post(f"{server.urls['http']}/__sandbox/sessions", json={}).json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def rest_rate(server: Server, fields: list[str], limit: int | None = None) -> tuple[float, int]:
    """Records/s of a queryAll read through every page (up to ``limit`` records)."""
    http, root = session(server), server.urls["http"]
    soql = "SELECT " + ",".join(fields) + " FROM Contact"  # noqa: S608 - constant field names
    start = time.perf_counter()
    body = orjson.loads(http.get(f"{root}/services/data/v62.0/queryAll", params={"q": soql}).content)
    count = len(body["records"])
    while "nextRecordsUrl" in body and (limit is None or count < limit):
        body = orjson.loads(http.get(root + body["nextRecordsUrl"]).content)
        count += len(body["records"])
    return count / (time.perf_counter() - start), count


def bulk_rate(server: Server, fields: list[str]) -> tuple[float, int]:
    """Records/s of a Bulk 2.0 queryAll job: create, download every page, delete."""
    http, base = session(server), f"{server.urls['http']}/services/data/v62.0/jobs/query"
    soql = "SELECT " + ", ".join(fields) + " FROM Contact"  # noqa: S608 - constant field names
    start = time.perf_counter()
    job = http.post(base, json={"operation": "queryAll", "query": soql, "contentType": "CSV",
                                "columnDelimiter": "COMMA", "lineEnding": "LF"}).json()
    count, locator, size = 0, None, 0
    while locator != "null":
        # Streamed in 1 MiB chunks, as a client writing results to a file does (airbyte, simple-salesforce's
        # download); every byte is received, none is parsed.
        with http.get(f"{base}/{job['id']}/results", params={"locator": locator} if locator else {},
                      stream=True) as page:
            size += sum(len(chunk) for chunk in page.iter_content(1 << 20))
            count += int(page.headers["Sforce-NumberOfRecords"])
            locator = page.headers["Sforce-Locator"]
    http.delete(f"{base}/{job['id']}")
    assert size > count * len(fields)  # the bodies really arrived
    return count / (time.perf_counter() - start), count


def all_fields() -> list[str]:
    from connectors.salesforce.objects import OBJECTS

    return [f.name for f in OBJECTS["Contact"].fields if not f.is_compound]


def measured(server: Server, run: Any, *args: Any, **kw: Any) -> tuple[float, int, float]:
    """(records/s wall, records, records per server CPU second) of one phase."""
    _, before = server.usage()
    rate, count = run(server, *args, **kw)
    _, after = server.usage()
    return rate, count, count / max(after - before, 1e-9)


def main() -> int:
    db, seed_seconds = prepare()
    server = Server(db, DATA / "sandbox-work")
    try:
        ready_rss, _ = server.usage()
        rest, rows, rest_cpu = measured(server, rest_rate, FIELDS)
        after_rest_rss, _ = server.usage()
        bulk, bulk_rows, bulk_cpu = measured(server, bulk_rate, FIELDS)
        rest_all, _, rest_all_cpu = measured(server, rest_rate, all_fields(), limit=200_000)
        bulk_all, _, bulk_all_cpu = measured(server, bulk_rate, all_fields())
        rss, cpu = server.usage()
    finally:
        server.stop()
    extra: dict[str, Any] = {
        "bulk_value": round(bulk, 1), "rows": rows, "fields": len(FIELDS),
        "rest_all_fields_value": round(rest_all, 1), "bulk_all_fields_value": round(bulk_all, 1),
        # records per second of sandbox CPU time: what the server sustains per core, whatever else runs
        "rest_per_server_cpu_s": round(rest_cpu), "bulk_per_server_cpu_s": round(bulk_cpu),
        "rest_all_fields_per_server_cpu_s": round(rest_all_cpu),
        "bulk_all_fields_per_server_cpu_s": round(bulk_all_cpu),
        "server_cpu_seconds": round(cpu, 1), "load_avg_1m": round(os.getloadavg()[0], 1),
        # memory stays flat: the peak after paging through 1,000,000 records is about the peak at start
        "rss_at_ready_mb": round(ready_rss, 1), "peak_rss_after_rest_mb": round(after_rest_rss, 1),
        "targets_met": rest >= REST_TARGET and bulk >= BULK_TARGET,
    }
    if seed_seconds is not None:
        extra["seed_seconds"] = round(seed_seconds, 1)
    assert rows == bulk_rows == ACCOUNTS * PER_ACCOUNT, (rows, bulk_rows)
    emit("sandbox", rest, "records/s", peak_rss_mb=rss, **extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
