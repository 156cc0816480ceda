"""JSON log lines of real syncs against the Salesforce sandbox never carry record values or Salesforce's error bodies.

Salesforce quotes values in its error messages ("Account Name: data value too large: <the name>"),
and its token endpoint answers a refused login with a JSON body. Both must reach the quarantine and
the run history (people need them) but never the log lines, which carry error codes instead.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox, SandboxConfig
from connectors.testdata import Dataset, GeneratorConfig
from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SYNC = "erp-to-crm"
LONG_CITY = "Villanueva de Quetzalcoatl del Camino Real"  # 42 characters: Salesforce's BillingCity holds 40
WRONG_SECRET = "wrong-secret-7f3a9c21"


def write_project(root: Path, sandbox: Sandbox) -> Path:
    assert sandbox.urls is not None
    specs = {}
    for system, source in (("crm", "salesforce"), ("erp", "erp")):
        specs[system] = root / system
        specs[system].mkdir()
        for path in (ROOT / "mappings/specs" / source).glob("*.yaml"):
            spec = yaml.safe_load(path.read_text())
            spec["fields"] = [f for f in spec["fields"] if f.get("canonical") != "owner_id"]
            (specs[system] / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
    config = {"version": 1, "systems": {
        "crm": {"connector": "salesforce", "mappings": str(specs["crm"]), "settings": {
            "auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID, "client_secret": "${SF_SECRET}"},
            "login_url": sandbox.urls.https, "ca_bundle": str(sandbox.urls.ca_path), "objects": ["Account"]}},
        "erp": {"connector": "sql", "mappings": str(specs["erp"]), "settings": {
            "url": f"sqlite:///{root / 'erp.db'}", "streams": {"customers": {"updated_at": "changed_ts"}}}}},
        "syncs": {SYNC: {"from": "erp", "to": "crm", "objects": ["Account"]}}}
    path = root / "crmsync.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def sync(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, str, list[dict[str, Any]]]:
    code = main(["--log-format", "json", "--log-level", "DEBUG", "sync", SYNC, "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_salesforce_error_bodies_and_values_stay_out_of_the_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    generated = Dataset(GeneratorConfig(seed=4, accounts=24, contacts_per_account=0, opportunities_per_account=0,
                                        orders_per_customer=0, formatting_variants=0.0))
    generated.load_erp(f"sqlite:///{tmp_path / 'erp.db'}")
    with sqlite3.connect(tmp_path / "erp.db") as db:
        names = [n for (n,) in db.execute("SELECT company_name FROM customers")]
        [(too_long,)] = db.execute("SELECT cust_no FROM customers ORDER BY cust_no LIMIT 1").fetchall()
        db.execute("UPDATE customers SET city = ? WHERE cust_no = ?", (LONG_CITY, too_long))
    monkeypatch.setenv("SF_SECRET", DEFAULT_CLIENT_SECRET)
    with Sandbox(SandboxConfig(http_port=None, proxy_port=None)) as sandbox:
        config = write_project(tmp_path, sandbox)
        code, out, events = sync(capsys, config)
        assert code == 0, out
        [rejected] = [e for e in events if e["event"] == "record.quarantined"]
        assert (rejected["native_key"], rejected["stage"]) == (too_long, "write")
        assert (rejected["codes"], rejected["fields"]) == (["STRING_TOO_LONG"], ["BillingCity"])
        assert rejected["run_id"] and rejected["sync"] == SYNC and rejected["stream"] == "Account"
        text = json.dumps(events)
        assert "data value too large" not in text and "Quetzalcoatl" not in text  # Salesforce's message quoted it
        assert not [n for n in names if n in text]  # no company name at all
        assert main(["quarantine", "list", "--json", "--config", str(config)]) == 0
        [kept] = json.loads(capsys.readouterr().out)
        assert "data value too large" in json.dumps(kept["reasons"])  # the person who looks finds the reason

        monkeypatch.setenv("SF_SECRET", WRONG_SECRET)
        with sqlite3.connect(tmp_path / "erp.db") as db:
            db.execute("UPDATE customers SET changed_ts = '2030-01-01 00:00:00' WHERE cust_no = ?", (too_long,))
        code, out, events = sync(capsys, config)
        assert code == 2, out  # refused credentials: a person must fix the config
        assert "invalid client credentials" in out  # the run's summary, for the person at the terminal
        [refused] = [e for e in events if e["event"] == "auth.failed"]
        assert refused["error_code"] == "invalid_client" and refused["stream"] == "Account"
        text = json.dumps(events)
        assert "invalid client credentials" not in text  # the token endpoint's 400 JSON body
        assert WRONG_SECRET not in text and DEFAULT_CLIENT_SECRET not in text
        assert "Quetzalcoatl" not in text
