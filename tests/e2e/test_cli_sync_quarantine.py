"""2% bad records through the CLI: the sync succeeds, quarantines exactly those, and a retry after the
mapping fix lands them and closes them.

The demo ERP (SQLite, from the one generator) syncs its customers into the local Salesforce sandbox.
One customer in fifty carries a sector code the shipped mapping does not know (``AGRI``); the user
adds it to the project's mapping spec and runs ``crmsync quarantine retry``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox, SandboxConfig
from connectors.testdata import Dataset, GeneratorConfig
from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SYNC = "erp-to-crm"


def cli(capsys: pytest.CaptureFixture[str], config: Path, *argv: str) -> tuple[int, str]:
    code = main(["--log-format", "json", "--log-level", "WARNING", *argv, "--config", str(config)])
    out, _ = capsys.readouterr()
    return code, out


def write_project(root: Path, sandbox: Sandbox) -> tuple[Path, Path]:
    assert sandbox.urls is not None
    specs = {}
    for system, source in (("crm", "salesforce"), ("erp", "erp")):
        specs[system] = root / "mappings" / system
        specs[system].mkdir(parents=True)
        for path in (ROOT / "mappings/specs" / source).glob("*.yaml"):
            spec = yaml.safe_load(path.read_text())
            spec["fields"] = [f for f in spec["fields"] if f.get("canonical") != "owner_id"]  # no users synced
            (specs[system] / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
    config = {"version": 1, "systems": {
        "crm": {"connector": "salesforce", "mappings": str(specs["crm"]), "settings": {
            "auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID, "client_secret": "${SF_SECRET}"},
            "login_url": sandbox.urls.https, "ca_bundle": str(sandbox.urls.ca_path), "objects": ["Account"]}},
        "erp": {"connector": "sql", "mappings": str(specs["erp"]), "timezone": "Europe/Madrid", "settings": {
            "url": f"sqlite:///{root / 'erp.db'}", "streams": {"customers": {"updated_at": "changed_ts"}}}}},
        "syncs": {SYNC: {"from": "erp", "to": "crm", "objects": ["Account"], "batch_size": 200}}}
    path = root / "crmsync.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path, specs["erp"] / "customers.yaml"


def fix_sector_map(spec_path: Path) -> None:
    """What the user does: teach the ERP mapping the sector code it did not know."""
    spec = yaml.safe_load(spec_path.read_text())
    [industry] = [f for f in spec["fields"] if f.get("canonical") == "industry"]
    [value_map] = [t["value_map"] for t in industry["transforms"] if isinstance(t, dict) and "value_map" in t]
    value_map["map"]["AGRI"] = "Agriculture"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))


def test_two_percent_bad_records_are_quarantined_exactly_then_land_after_the_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = Dataset(GeneratorConfig(seed=9, accounts=800, contacts_per_account=0, opportunities_per_account=0,
                                     orders_per_customer=0, tasks_per_account=0, events_per_account=0,
                                     formatting_variants=0.0)).load_erp(f"sqlite:///{tmp_path / 'erp.db'}")
    total = loaded["customers"]
    with sqlite3.connect(tmp_path / "erp.db") as db:
        keys = [k for (k,) in db.execute("SELECT cust_no FROM customers ORDER BY cust_no")]
        bad = set(keys[::50])  # one in fifty: 2%
        db.executemany("UPDATE customers SET sector = 'AGRI' WHERE cust_no = ?", [(k,) for k in bad])
    assert len(bad) == total // 50
    monkeypatch.setenv("SF_SECRET", DEFAULT_CLIENT_SECRET)
    with Sandbox(SandboxConfig(http_port=None, proxy_port=None)) as sandbox:
        config, spec = write_project(tmp_path, sandbox)
        code, out = cli(capsys, config, "sync", SYNC)
        assert code == 0, out  # success with quarantined records is still success
        account = next(line for line in out.splitlines() if line.strip("│ ").startswith("Account"))
        cells = [c.strip() for c in account.strip("│ ").split("│")]
        assert cells[:5] == ["Account", "succeeded", str(total), str(total - len(bad)), str(len(bad))], out
        code, listed = cli(capsys, config, "quarantine", "list", "--json", "--limit", "1000")
        quarantined = json.loads(listed)
        assert {q["native_key"] for q in quarantined} == bad
        assert {(r["code"], r["field"]) for q in quarantined for r in q["reasons"]} == {
            ("unknown_picklist_value", "industry")}
        code, grouped = cli(capsys, config, "quarantine", "list", "--by-reason", "--json")
        assert [(g["code"], g["field"], g["count"]) for g in json.loads(grouped)] == [
            ("unknown_picklist_value", "industry", len(bad))]
        assert {a["ERP_Customer_No__c"] for a in sandbox.rows("Account")} == set(keys) - bad

        code, out = cli(capsys, config, "quarantine", "retry", "--sync", SYNC)
        assert code == 3 and f"still failing {len(bad)}" in out  # nothing fixed yet: they stay, one more attempt
        fix_sector_map(spec)
        code, out = cli(capsys, config, "quarantine", "retry", "--sync", SYNC)
        assert code == 0 and f"resolved {len(bad)}, still failing 0" in out, out
        accounts = {a["ERP_Customer_No__c"]: a for a in sandbox.rows("Account")}
        assert set(accounts) == set(keys) and len(sandbox.rows("Account")) == total  # landed once each
        assert {accounts[k]["Industry"] for k in bad} == {"Agriculture"}
        code, still = cli(capsys, config, "quarantine", "list", "--json")
        assert json.loads(still) == []
        code, closed = cli(capsys, config, "quarantine", "list", "--status", "resolved", "--json", "--limit", "1000")
        assert {q["native_key"]: q["attempts"] for q in json.loads(closed)} == {k: 1 for k in bad}
