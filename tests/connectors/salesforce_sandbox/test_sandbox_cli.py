"""``crmsync sandbox serve`` as users run it: prints where it listens and a ready line, serves, and exits 0 on
SIGTERM or SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from orchestrator.commands.sandbox_cmd import build_config


def serve(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from orchestrator.cli import run; run()", "--log-format", "json",
                             "sandbox", "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env, cwd=tmp_path)
    printed: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "sandbox ready":
            return proc, printed
        key, _, value = line.strip().partition(": ")
        printed[key] = value
    raise AssertionError(f"no ready line; exit {proc.wait()}")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_urls_serves_and_stops_cleanly(tmp_path: Path, stop: signal.Signals) -> None:
    db = tmp_path / "org.db"
    proc, printed = serve(["--port", "0", "--accounts", "4", "--users", "2", "--db", str(db),
                           "--ca-path", str(tmp_path / "ca.pem"), "--fault-503", "0.0"], tmp_path)
    try:
        assert printed["sandbox ca"] == str(tmp_path / "ca.pem") and (tmp_path / "ca.pem").exists()
        http, https = printed["sandbox http"], printed["sandbox https"]
        assert requests.get(f"{http}/__sandbox/health", timeout=10).json()["status"] == "ok"
        assert requests.get(f"{https}/__sandbox/health", verify=str(tmp_path / "ca.pem"), timeout=10).ok
        token = requests.post(f"{http}/__sandbox/sessions", json={}, timeout=10).json()["access_token"]
        count = requests.get(f"{http}/services/data/v62.0/query", params={"q": "SELECT COUNT() FROM Account"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        assert count["totalSize"] == 4 and "Account=4" in printed["sandbox seeded"]
    finally:
        proc.send_signal(stop)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "sandbox stopped" in out
    assert db.exists()


def test_flags_override_the_config_file() -> None:
    file = {"api_budget": 10, "faults": {"seed": 4, "drop_rate": 0.5},
            "seed": {"seed": 9, "options": {"accounts": 7, "leads": 0}}}
    cfg = build_config(file, {"http_port": 0, "host": "127.0.0.1"}, {"options": {"accounts": 3}},
                       {"server_unavailable_rate": 0.1, "seed": None}, {"api_budget": 99})
    assert cfg.api_budget == 99
    assert cfg.seed is not None and (cfg.seed.seed, cfg.seed.options) == (9, {"accounts": 3, "leads": 0})
    assert (cfg.faults.seed, cfg.faults.drop_rate, cfg.faults.server_unavailable_rate) == (4, 0.5, 0.1)
    assert build_config(file, {}, None, {}, {}).seed is None  # --no-seed
