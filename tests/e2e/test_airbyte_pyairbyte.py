"""PyAirbyte 0.69.0, in its own virtual environment, loads the installed source-crmsync through
local_executable (offline) and reads Accounts and Contacts from the Salesforce sandbox into DuckDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox, SandboxConfig, SeedConfig
from connectors.testdata.peers import PeerUnavailable, ensure_peer

SCRIPT = textwrap.dedent('''
    import json, sys
    import airbyte as ab
    config = json.load(open(sys.argv[1]))
    source = ab.get_source("source-crmsync", config=config, local_executable=sys.argv[2])
    source.check()
    source.select_streams(["accounts", "contacts"])
    cache = ab.new_local_cache("crmsync_test", cache_dir=sys.argv[3])
    result = source.read(cache=cache)
    out = {}
    for name in ("accounts", "contacts"):
        frame = cache.get_pandas_dataframe(name)
        out[name] = {"rows": len(frame), "ids": sorted(frame["id"].astype(str)),
                     "names": dict(zip(frame["id"].astype(str), frame["name" if name == "accounts"
                                                                    else "last_name"].astype(str)))}
    print("RESULT " + json.dumps(out))
''')


@pytest.mark.peer
@pytest.mark.slow
def test_pyairbyte_reads_the_sandbox_into_duckdb(tmp_path: Path) -> None:
    try:
        peer = ensure_peer("pyairbyte")
    except PeerUnavailable as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(exc))
    source_bin = Path(sys.executable).with_name("source-crmsync")
    with Sandbox(SandboxConfig(seed=SeedConfig(seed=3, options={"accounts": 60}))) as sandbox:
        assert sandbox.urls is not None and sandbox.urls.http
        config = {"system": {"connector": "salesforce", "login_url": sandbox.urls.http,
                             "ca_bundle": str(sandbox.urls.ca_path),
                             "auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                                      "client_secret": DEFAULT_CLIENT_SECRET}},
                  "system_name": "crm", "entities": ["Account", "Contact"]}
        (tmp_path / "config.json").write_text(json.dumps(config))
        (tmp_path / "read.py").write_text(SCRIPT)
        env = {**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1", "AIRBYTE_NO_UV": "1"}
        run = subprocess.run([str(peer / "bin" / "python"), str(tmp_path / "read.py"), str(tmp_path / "config.json"),
                              str(source_bin), str(tmp_path / "cache")], capture_output=True, text=True,
                             timeout=600, cwd=tmp_path, env=env)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        rows = {obj: _live_rows(sandbox, obj) for obj in ("Account", "Contact")}
    result = json.loads(next(line[7:] for line in run.stdout.splitlines() if line.startswith("RESULT ")))
    for stream, obj, field in (("accounts", "Account", "Name"), ("contacts", "Contact", "LastName")):
        cached = result[stream]
        assert cached["rows"] == len(cached["ids"]) == len(set(cached["ids"]))
        assert set(cached["ids"]) <= set(rows[obj])
        assert cached["rows"] >= 0.9 * len(rows[obj])  # the rest are rejected by the mapping, never silently
        for record_id in cached["ids"][:20]:
            assert cached["names"][record_id] == rows[obj][record_id][field].strip()


def _live_rows(sandbox: Sandbox, obj: str) -> dict[str, dict[str, str]]:
    """The sandbox's live (not deleted) rows of ``obj``, through its own REST query API."""
    import requests

    assert sandbox.urls is not None and sandbox.urls.http
    token = requests.post(f"{sandbox.urls.http}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
    }, timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{sandbox.urls.http}/services/data/v62.0/query?q=SELECT+Id,Name,LastName+FROM+{obj}" if obj == "Contact" \
        else f"{sandbox.urls.http}/services/data/v62.0/query?q=SELECT+Id,Name+FROM+{obj}"
    rows: dict[str, dict[str, str]] = {}
    while url:
        page = requests.get(url, headers=headers, timeout=30).json()
        rows.update({r["Id"]: r for r in page["records"]})
        url = f"{sandbox.urls.http}{page['nextRecordsUrl']}" if page.get("nextRecordsUrl") else ""
    return rows
