"""Benchmark ``airbyte_read``: ``source-crmsync read`` of 1,000,000 Contacts from the sandbox, beside
airbyte-source-salesforce 2.10.3 reading the same Contacts, in one run.

Both speak the Airbyte protocol through the same CDK, so the difference is per-record work. Both
run as their own processes against one sandbox process and one SQLite file (bench_salesforce_read's
data, made once under bench/.data/); their stdout is counted (RECORD lines) and discarded. Records/s
is records over the process's wall time, login and discovery included; peak memory is its
ru_maxrss. source-crmsync emits canonical Contacts (mapped and validated); a record the mapping
rejects goes to the rejections stream, so the rate counts only contacts emitted.

Last full run (1,000,000 Contacts, 2026-11-24, shared 2-core machine, load average 4.3-6.5):
source-crmsync 6,603 records/s (151.4 s) vs the peer 1,477 records/s (677.0 s), 4.47x.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from bench.bench_salesforce_read import PEER, ROWS, Server, _measured, prepare, run_peer
from bench.common import emit


def run_crmsync(server: Server, work: Path) -> tuple[float, float, int]:
    from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    config = work / "source-config.json"
    config.write_text(json.dumps({
        "system": {"connector": "salesforce", "login_url": server.urls["https"], "ca_bundle": server.urls["ca"],
                   "auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                            "client_secret": DEFAULT_CLIENT_SECRET},
                   "objects": ["Contact"], "bulk_read_threshold": 0, "bulk_poll_interval": 0.2},
        "system_name": "crm", "entities": ["Contact"]}))
    catalog = work / "source-catalog.json"
    catalog.write_text(json.dumps({"streams": [{
        "stream": {"name": "contacts", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
        "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}))
    source = Path(sys.executable).with_name("source-crmsync")
    return _measured([str(source), "read", "--config", str(config), "--catalog", str(catalog)], None,
                     env=dict(os.environ))


def main() -> int:
    db = prepare(ROWS)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="crmsync-bench-ab-") as tmp:
        work = Path(tmp)
        server = Server(db, work)
        try:
            ours_s, ours_rss, ours_n = run_crmsync(server, work)
            peer_s, peer_rss, peer_n = run_peer(server, work)
        finally:
            server.stop()
    if peer_n != ROWS or ours_n < 0.99 * ROWS:
        print(f"airbyte_read: crmsync emitted {ours_n}, peer {peer_n}, expected {ROWS}", file=sys.stderr)
        return 1
    ours, peer = ours_n / ours_s, peer_n / peer_s
    emit("airbyte_read", ours, "records/s", peer=PEER, peer_value=peer, peak_rss_mb=ours_rss,
         peer_peak_rss_mb=peer_rss, records=ours_n, rejected=ROWS - ours_n, speedup=round(ours / peer, 2),
         target_met=ours >= 3 * peer, seconds=round(ours_s, 1), peer_seconds=round(peer_s, 1),
         load_average=f"{load_before:.1f}-{os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
