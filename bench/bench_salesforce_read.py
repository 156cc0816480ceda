"""Benchmark ``salesforce_read``: a full read of 1,000,000 Contacts (every readable field) from the sandbox.

Side by side in one run, against one sandbox process serving one SQLite file: crmsync's REST read
(queryAll pages of 2,000), crmsync's Bulk API 2.0 read (one query job, CSV pages of 50,000) and
airbyte-source-salesforce 2.10.3 (its own choice for Contact: REST queryAll, because Contact has
compound address fields). Each runs as its own process and writes every record as a JSON line to
/dev/null (the peer to its stdout, which this process counts and discards). Records/s is records
over the wall time of that process, login and describe included; peak memory is the process's
high-water RSS (VmHWM). The value is crmsync's faster read.

The peer logs in at login.salesforce.com through the sandbox's CONNECT proxy, as the reference
describes, and reads from the sandbox's plain-HTTP instance URL; crmsync logs in at the sandbox's
HTTPS URL and reads over TLS (simple-salesforce always builds https URLs).

The Contacts are generated once and kept in bench/.data/ (git-ignored): CRMSYNC_BENCH_SF_ROWS sets
how many (default 1,000,000).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from bench.common import emit

ROWS = int(os.environ.get("CRMSYNC_BENCH_SF_ROWS", "1000000"))
DATA = Path(__file__).resolve().parent / ".data"
PEER = "airbyte-source-salesforce"
BASE = datetime(2024, 3, 1, tzinfo=UTC)
CITIES = ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Lyon", "Berlin", "London")
TITLES = ("Buyer", "CFO", "Head of Logistics", "Office Manager", None)


# -- data ---------------------------------------------------------------------------------------------


def _rows(owner: str, account: str, count: int) -> Any:
    from connectors.salesforce.objects import id_for

    for n in range(count):
        stamp = (BASE + timedelta(seconds=n // 4)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        city = CITIES[n % len(CITIES)]
        yield {"Id": id_for("003", n + 1), "AccountId": account, "LastName": f"Apellido{n}", "FirstName": f"Nombre{n}",
               "Salutation": "Ms." if n % 2 else "Mr.", "Name": f"Nombre{n} Apellido{n}",
               "Email": f"persona{n}@example.com", "Phone": f"+34 91 {n % 1000:03d} {n % 10000:04d}",
               "MobilePhone": f"+34 6{n % 100000000:08d}", "Title": TITLES[n % len(TITLES)], "Department": "Ops",
               "MailingStreet": f"Calle {n % 300} {n % 90}", "MailingCity": city,
               "MailingPostalCode": f"{n % 90000:05d}",
               "MailingCountry": "Spain", "LeadSource": "Web", "ERP_Contact_No__c": f"C{n:08d}",
               "HasOptedOutOfEmail": n % 7 == 0, "DoNotCall": 0, "IsDeleted": 0, "OwnerId": owner,
               "CreatedById": owner, "LastModifiedById": owner, "CreatedDate": stamp, "LastModifiedDate": stamp,
               "SystemModstamp": stamp}


def prepare(count: int) -> Path:
    """The SQLite file holding ``count`` Contacts (made once, then reused)."""
    from connectors.salesforce.objects import id_for
    from connectors.salesforce.sandbox import Sandbox, SandboxConfig

    DATA.mkdir(exist_ok=True)
    db = DATA / f"sandbox-contacts-{count}.sqlite"
    if db.exists():
        return db
    partial = db.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with Sandbox(SandboxConfig(db=str(partial), http_port=None, https_port=None, proxy_port=None)) as sb:
        account = id_for("001", 1)
        sb.insert_rows("Account", [{"Id": account, "Name": "Bench Account", "IsDeleted": 0,
                                    "OwnerId": sb.user_id(), "CreatedById": sb.user_id(),
                                    "LastModifiedById": sb.user_id(), "CreatedDate": "2024-01-01T00:00:00.000+0000",
                                    "LastModifiedDate": "2024-01-01T00:00:00.000+0000",
                                    "SystemModstamp": "2024-01-01T00:00:00.000+0000"}])
        sb.insert_rows("Contact", _rows(sb.user_id(), account, count))
    partial.rename(db)
    return db


# -- the sandbox process ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``crmsync sandbox serve`` on the benchmark's database, in its own process."""

    def __init__(self, db: Path, work: Path) -> None:
        self.http = _free_port()
        config = work / "sandbox.json"
        config.write_text(json.dumps({"advertised_url": f"http://127.0.0.1:{self.http}", "api_budget": 100_000_000}))
        crmsync = Path(sys.executable).with_name("crmsync")
        self.proc = subprocess.Popen(
            [str(crmsync), "sandbox", "serve", "--no-seed", "--db", str(db), "--work-dir", str(work),
             "--port", str(self.http), "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.urls: dict[str, str] = {}
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("sandbox ready"):
                break
            label, _, value = line.removeprefix("sandbox ").partition(": ")
            self.urls[label] = value.strip()
        if "https" not in self.urls:
            raise RuntimeError("the sandbox did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


# -- crmsync reads (child processes) ------------------------------------------------------------------


def child(kind: str, login_url: str, ca: str) -> None:
    """Read every Contact and write it as a JSON line to /dev/null; print the count."""
    from connectors.retry import RetryPolicy
    from connectors.salesforce.config import SalesforceConfig
    from connectors.salesforce.connector import SalesforceConnector

    # Credentials come from the parent: importing the sandbox here would add its memory to crmsync's.
    config = SalesforceConfig.model_validate({
        "auth": {"flow": "client_credentials", "client_id": os.environ["BENCH_SF_CLIENT_ID"],
                 "client_secret": os.environ["BENCH_SF_CLIENT_SECRET"]},
        "login_url": login_url, "ca_bundle": ca, "objects": ["Contact"], "bulk_poll_interval": 0.2,
        "bulk_read_threshold": 0 if kind == "bulk" else None,
        # Bulk reads in day windows (the data spans about three days): the next window's job is
        # prepared while this one's results are read. REST pages need no windows.
        "window": os.environ.get("BENCH_SF_WINDOW", "P1D") if kind == "bulk" else None})
    connector = SalesforceConnector(config, RetryPolicy())
    count = 0
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    with open(os.devnull, "wb") as sink:
        for batch in connector.read("Contact"):
            sink.write(b"".join([dumps(r, option=newline) for r in batch.records]))
            count += len(batch.records)
    connector.close()
    print(json.dumps({"records": count}))


def run_child(kind: str, server: Server) -> tuple[float, float, int]:
    """(seconds, peak RSS MB, records) of one crmsync read in its own process."""
    from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    env = {**os.environ, "BENCH_SF_CLIENT_ID": DEFAULT_CLIENT_ID, "BENCH_SF_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}
    with tempfile.TemporaryFile() as out:
        seconds, rss, records = _measured([sys.executable, "-m", "bench.bench_salesforce_read", "--child", kind,
                                           server.urls["https"], server.urls["ca"]], out, count_json=True, env=env)
    return seconds, rss, records


# -- the peer -----------------------------------------------------------------------------------------


def run_peer(server: Server, work: Path) -> tuple[float, float, int]:
    from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REFRESH_TOKEN
    from connectors.testdata.peers import ensure_peer

    source = ensure_peer(PEER) / "bin" / "source-salesforce"
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy", "all_proxy")}
    env.update({"HTTPS_PROXY": server.urls["proxy"], "https_proxy": server.urls["proxy"],
                "REQUESTS_CA_BUNDLE": server.urls["ca"], "SSL_CERT_FILE": server.urls["ca"]})
    config = work / "peer-config.json"
    config.write_text(json.dumps({"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
                                  "refresh_token": DEFAULT_REFRESH_TOKEN, "is_sandbox": False,
                                  "start_date": "2020-01-01T00:00:00Z", "streams_criteria": [
                                      {"criteria": "exacts", "value": "Contact"}]}))
    found = subprocess.run([str(source), "discover", "--config", str(config)], env=env, capture_output=True,
                           text=True, timeout=600, check=True)
    stream = next(json.loads(line)["catalog"]["streams"] for line in found.stdout.splitlines()
                  if line.startswith('{"type":"CATALOG"'))
    contact = next(s for s in stream if s["name"] == "Contact")
    catalog = work / "peer-catalog.json"
    catalog.write_text(json.dumps({"streams": [{"stream": contact, "sync_mode": "full_refresh",
                                                "destination_sync_mode": "overwrite"}]}))
    return _measured([str(source), "read", "--config", str(config), "--catalog", str(catalog)], None, env=env)


def _measured(cmd: list[str], out: IO[bytes] | None, *, count_json: bool = False,
              env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Run ``cmd``; (seconds, peak RSS MB, records). Records: the child's JSON count, or RECORD lines on stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out if count_json else subprocess.PIPE, env=env)
    peak = _PeakRss(proc.pid)
    records = 0 if count_json else _count_records(proc.stdout)
    proc.wait()
    seconds = time.perf_counter() - start
    peak.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}")
    if count_json and out is not None:
        out.seek(0)
        records = int(json.loads(out.read().decode().strip().splitlines()[-1])["records"])
    return seconds, peak.mb, records


class _PeakRss:
    """The child's own high-water RSS (VmHWM), sampled until it exits.

    Not ru_maxrss: Linux carries the parent's high-water mark into a child across fork and exec, so a
    child of this (large) benchmark process would report at least this process's peak.
    """

    def __init__(self, pid: int) -> None:
        self.path = Path(f"/proc/{pid}/status")
        self.mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            try:
                text = self.path.read_text()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.mb = max(self.mb, int(line.split()[1]) / 1024)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _count_records(stream: IO[bytes] | None) -> int:
    assert stream is not None
    count, tail = 0, b""
    while chunk := stream.read(1 << 20):
        lines = (tail + chunk).split(b"\n")
        tail = lines.pop()
        count += sum(1 for line in lines if line.startswith(b'{"type":"RECORD"'))
    return count + (1 if tail.startswith(b'{"type":"RECORD"') else 0)


# -- main ---------------------------------------------------------------------------------------------


def main() -> int:
    db = prepare(ROWS)
    with tempfile.TemporaryDirectory(prefix="crmsync-bench-sf-") as tmp:
        work = Path(tmp)
        server = Server(db, work)
        try:
            rest_s, rest_rss, rest_n = run_child("rest", server)
            bulk_s, bulk_rss, bulk_n = run_child("bulk", server)
            peer_s, peer_rss, peer_n = run_peer(server, work)
        finally:
            server.stop()
    for name, got in (("rest", rest_n), ("bulk", bulk_n), ("peer", peer_n)):
        if got != ROWS:
            print(f"salesforce_read: {name} read {got} records, expected {ROWS}", file=sys.stderr)
            return 1
    rest, bulk, peer = ROWS / rest_s, ROWS / bulk_s, ROWS / peer_s
    emit("salesforce_read", max(rest, bulk), "records/s", peer=PEER, peer_value=peer,
         peak_rss_mb=max(rest_rss, bulk_rss), peer_peak_rss_mb=peer_rss, rest_value=round(rest, 1),
         bulk_value=round(bulk, 1), rest_peak_rss_mb=round(rest_rss, 1), bulk_peak_rss_mb=round(bulk_rss, 1),
         speedup=round(max(rest, bulk) / peer, 2), records=ROWS)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(main())
