"""`crmsync demo` runs the whole story (twice), and its HTML report opens in headless Chromium without
console errors, showing the same counts as the JSON report."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CRMSYNC = Path(sys.executable).with_name("crmsync")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium is not installed (.ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def findings_table(dom: str) -> dict[str, int]:
    """The rendered 'Findings by type' table: code -> open count."""
    section = dom.split(">Findings by type</h2>", 1)[1].split("</table>", 1)[0]
    return {code: int(n) for code, n in re.findall(r'class="tag">(\w+)</span></td><td class="n">(\d+)</td>', section)}


def run_demo(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CRMSYNC), "demo", "--dir", str(directory), "--accounts", "300"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "120"})


@pytest.mark.slow
def test_demo_runs_twice_and_its_report_renders(tmp_path: Path) -> None:
    directory = tmp_path / "crmsync-demo"
    first = run_demo(directory)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    for text in ("Two-way sync erp-crm: succeeded", "Reconciliation findings", "Finished in", "Where the time went",
                 "crmsync.yaml"):
        assert text in first.stdout
    second = run_demo(directory)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]

    report_json = json.loads((directory / "reports" / "weekly-latest.json").read_text())
    html = directory / "reports" / "weekly-latest.html"
    rendered = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                               "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    console = [line for line in rendered.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    shown = findings_table(rendered.stdout)
    assert shown and shown == {k: v for k, v in report_json["counts"].items() if v}
    assert f"<b>{report_json['total']}</b> findings" in rendered.stdout

    config = (directory / "crmsync.yaml").read_text()
    assert "client_secret: ${DEMO_SF_CLIENT_SECRET}" in config  # a secret never lands in the file


def test_a_sandbox_that_fails_to_start_is_reported_with_its_log(tmp_path: Path) -> None:
    """The sandbox runs in a forked process: a failure there (here, a generator option it refuses) must
    surface in the demo as an error naming the sandbox's log, which holds the child's traceback."""
    from orchestrator.demo.servers import DemoSandbox
    from orchestrator.demo.story import prepare

    prepare(tmp_path)
    with DemoSandbox(tmp_path, seed=7, options={"accounts": -1}, timeout=60) as sandbox, \
            pytest.raises(RuntimeError, match="sandbox.log"):
        sandbox.wait_ready()
    assert "accounts must be >= 1" in (tmp_path / "logs" / "sandbox.log").read_text()
