"""Crash safety: a 100,000-record sync SIGKILLed 20 times at seeded points still lands every record once.

Each run is ``crmsync sync`` as its own process, on a crmsync.yaml and mapping specs written here
(SQLite file -> SQLite file, through the real mapping engine and state store). ``CRMSYNC_TEST_KILL_AT``
makes the process SIGKILL itself at a kill point, as the OOM killer or a pulled plug would: no
cleanup, no ``finally``, no flush.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

N = 100_000
KILLS = 20
CRMSYNC = str(Path(sys.executable).with_name("crmsync"))
ERP_SPEC = {"system_type": "sql", "object": "customers", "entity": "Account", "key": "cust_no", "cursor": "seq",
            "fields": [{"canonical": "account_number", "native": "cust_no", "transforms": ["trim"], "required": True},
                       {"canonical": "name", "native": "name", "transforms": ["trim"], "required": True}]}
CRM_SPEC = {"system_type": "sql", "object": "accounts", "entity": "Account", "key": "ext_id",
            "fields": [{"canonical": "account_number", "native": "ext_id", "required": True},
                       {"canonical": "name", "native": "name", "required": True}]}


def make_project(workdir: Path) -> Path:
    src = sqlite3.connect(workdir / "src.db")
    src.execute("CREATE TABLE customers (cust_no TEXT PRIMARY KEY, name TEXT NOT NULL, seq INTEGER NOT NULL)")
    src.executemany("INSERT INTO customers VALUES (?, ?, ?)", ((f"C{i:06d}", f"Firm {i}", i) for i in range(N)))
    src.commit()
    src.close()
    dst = sqlite3.connect(workdir / "dst.db")
    dst.execute("CREATE TABLE accounts (ext_id TEXT PRIMARY KEY, name TEXT NOT NULL)")
    dst.commit()
    dst.close()
    for system, spec in (("erp", ERP_SPEC), ("crm", CRM_SPEC)):
        (workdir / system).mkdir()
        (workdir / system / "account.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    config = {
        "version": 1,
        "state": {"url": "sqlite:///state.db"},
        "systems": {
            "erp": {"connector": "sql", "mappings": "erp", "settings": {
                "url": f"sqlite:///{workdir / 'src.db'}", "batch_size": 2000,
                "streams": {"customers": {"updated_at": "seq"}}}},
            "crm": {"connector": "sql", "mappings": "crm", "settings": {
                "url": f"sqlite:///{workdir / 'dst.db'}", "batch_size": 2000, "streams": {"accounts": {}}}},
        },
        "syncs": {"copy": {"from": "erp", "to": "crm", "objects": ["Account"], "batch_size": 2000}},
    }
    path = workdir / "crmsync.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(config: Path, kill_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMSYNC_TEST_KILL_AT": kill_at or ""}
    return subprocess.run([CRMSYNC, "--log-format", "json", "--log-level", "WARNING", "sync", "copy", "--config",
                           str(config)], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_sigkill_twenty_times_then_every_record_exactly_once(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    rng = random.Random(20240611)
    plan = (["after_write_before_commit"] * 8 + ["after_read"] * 4 + ["after_commit"] * 8)
    rng.shuffle(plan)
    killed = {"after_read": 0, "after_write_before_commit": 0, "after_commit": 0}
    for point in plan:
        done = run(config, f"{point}:{rng.randint(1, 3)}")
        if done.returncode == 0:
            break  # finished before the kill point came up
        assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
        killed[point] += 1
    final = run(config, None)
    assert final.returncode == 0, final.stderr[-2000:]
    assert sum(killed.values()) == KILLS and killed["after_write_before_commit"] >= 5, killed
    dst = sqlite3.connect(tmp_path / "dst.db")
    count, distinct = dst.execute("SELECT COUNT(*), COUNT(DISTINCT ext_id) FROM accounts").fetchone()
    wrong = dst.execute("SELECT COUNT(*) FROM accounts WHERE name != 'Firm ' || CAST(SUBSTR(ext_id, 2) AS INTEGER)"
                        ).fetchone()[0]
    dst.close()
    assert (count, distinct, wrong) == (N, N, 0)
    state = sqlite3.connect(tmp_path / "state.db")
    links = state.execute("SELECT COUNT(*), COUNT(DISTINCT canonical_id) FROM xref WHERE system = 'crm'").fetchone()
    runs = state.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall()
    state.close()
    assert links == (N, N)  # one canonical id per record, each linked once at the target
    assert dict(runs).get("succeeded") == 1  # the killed runs never claimed success
