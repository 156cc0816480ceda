"""Crash safety: a 100,000-record sync SIGKILLed 20 times at seeded points still lands every record once."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = Path(__file__).with_name("crash_sync_driver.py")
N = 100_000
KILLS = 20


def make_databases(workdir: Path) -> None:
    src = sqlite3.connect(workdir / "src.db")
    src.execute("CREATE TABLE customers (cust_no TEXT PRIMARY KEY, name TEXT NOT NULL, seq INTEGER NOT NULL)")
    src.executemany("INSERT INTO customers VALUES (?, ?, ?)", ((f"C{i:06d}", f"Firm {i}", i) for i in range(N)))
    src.commit()
    src.close()
    dst = sqlite3.connect(workdir / "dst.db")
    dst.execute("CREATE TABLE accounts (ext_id TEXT PRIMARY KEY, name TEXT NOT NULL)")
    dst.commit()
    dst.close()


def run(workdir: Path, kill_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMSYNC_TEST_KILL_AT": kill_at or ""}
    return subprocess.run([sys.executable, str(DRIVER), str(workdir)], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_sigkill_twenty_times_then_every_record_exactly_once(tmp_path: Path) -> None:
    make_databases(tmp_path)
    rng = random.Random(20240611)
    plan = (["after_write_before_commit"] * 8 + ["after_read"] * 4 + ["after_commit"] * 8)
    rng.shuffle(plan)
    killed = {"after_read": 0, "after_write_before_commit": 0, "after_commit": 0}
    for point in plan:
        done = run(tmp_path, f"{point}:{rng.randint(1, 3)}")
        if done.returncode == 0:
            break  # finished before the kill point came up
        assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
        killed[point] += 1
    final = run(tmp_path, None)
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
    state.close()
    assert links == (N, N)  # one canonical id per record, each linked once at the target
