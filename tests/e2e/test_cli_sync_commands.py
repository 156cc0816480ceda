"""The sync-side commands through the CLI entry point: check, discover, sync --dry-run, customer, partial runs.

Each test gets its own project: the demo ERP in SQLite (from the one generator) and an empty local
Salesforce sandbox, with the shipped mappings copied into the project as a user would start.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox, SandboxConfig
from connectors.testdata import Dataset, GeneratorConfig
from orchestrator.cli import main
from orchestrator.state import StateStore

ROOT = Path(__file__).resolve().parents[2]
SYNC = "erp-to-crm"


@dataclass
class Project:
    config: Path
    erp_db: Path
    sandbox: Sandbox
    customers: int
    contacts: int

    def cli(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        code = main(["--log-format", "json", "--log-level", "WARNING", *argv, "--config", str(self.config)])
        out, err = capsys.readouterr()
        return code, out, err

    def state(self) -> StateStore:
        return StateStore.open(f"sqlite:///{self.config.parent / '.crmsync/state.db'}")


def copy_specs(source: Path, target: Path, drop: set[str]) -> Path:
    target.mkdir(parents=True)
    for path in sorted(source.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        spec["fields"] = [f for f in spec["fields"] if str(f.get("canonical")) not in drop]
        (target / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
    return target


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    dataset = Dataset(GeneratorConfig(seed=5, accounts=40, contacts_per_account=2, opportunities_per_account=1,
                                      crm_only_share=0.0, formatting_variants=0.0))
    loaded = dataset.load_erp(f"sqlite:///{tmp_path / 'erp.db'}")
    monkeypatch.setenv("SF_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    with Sandbox(SandboxConfig(http_port=None, proxy_port=None)) as sandbox:
        assert sandbox.urls is not None
        config = {
            "version": 1,
            "systems": {
                "crm": {"connector": "salesforce",
                        "mappings": str(copy_specs(ROOT / "mappings/specs/salesforce", tmp_path / "crm", {"owner_id"})),
                        "settings": {"auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                                              "client_secret": "${SF_CLIENT_SECRET}"},
                                     "login_url": sandbox.urls.https, "ca_bundle": str(sandbox.urls.ca_path),
                                     "objects": ["Account", "Contact"]}},
                "erp": {"connector": "sql", "timezone": "Europe/Madrid",
                        "mappings": str(copy_specs(ROOT / "mappings/specs/erp", tmp_path / "erp", {"owner_id"})),
                        "settings": {"url": f"sqlite:///{tmp_path / 'erp.db'}", "streams": {
                            "customers": {"updated_at": "changed_ts"}, "contacts": {"updated_at": "changed_ts"}}}},
            },
            "syncs": {SYNC: {"from": "erp", "to": "crm", "objects": ["Account", "Contact"]}},
        }
        path = tmp_path / "crmsync.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        yield Project(path, tmp_path / "erp.db", sandbox, loaded["customers"], loaded["contacts"])


def test_check_passes_then_names_the_exact_reason_and_exits_2(project: Project, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = project.cli(capsys, "check")
    assert code == 0, out
    assert "FAILED" not in out and "login" in out and "crm" in out and "erp" in out
    monkeypatch.setenv("SF_CLIENT_SECRET", "not-the-secret-0042")
    code, out, _ = project.cli(capsys, "check")
    assert code == 2
    failed = [line for line in out.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and "crm" in failed[0], out
    assert "invalid_client" in out and "invalid client credentials" in out  # the org's own words
    assert "not-the-secret-0042" not in out


def test_discover_lists_each_systems_streams_with_keys_and_cursors(project: Project,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = project.cli(capsys, "discover", "--json")
    assert code == 0
    found = {system: {s["name"]: s for s in streams} for system, streams in json.loads(out).items()}
    assert set(found["crm"]) == {"Account", "Contact"}
    assert (found["crm"]["Account"]["primary_key"], found["crm"]["Account"]["cursor_field"]) == (
        ["Id"], "SystemModstamp")
    assert set(found["erp"]) == {"customers", "contacts"}  # the streams the config offers
    assert (found["erp"]["customers"]["primary_key"], found["erp"]["customers"]["cursor_field"]) == (
        ["cust_no"], "changed_ts")
    code, out, _ = project.cli(capsys, "discover", "erp", "--fields")
    assert code == 0 and "company_name" in out and "crm" not in out.split("\n", 2)[1]


def test_dry_run_shows_what_would_be_written_and_writes_nothing(project: Project,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = project.cli(capsys, "sync", SYNC, "--dry-run")
    assert code == 0, out
    assert "dry run" in out and "would create" in out
    account_line = next(line for line in out.splitlines() if line.strip("│ ").startswith("Account"))
    assert str(project.customers) in account_line  # every customer would be created
    assert "create (new) <-" in out  # the preview of records
    assert project.sandbox.rows("Account") == [] and project.sandbox.rows("Contact") == []
    with project.state() as store:
        assert store.get_cursor(SYNC, "Account", "0") is None and store.get_cursor(SYNC, "Contact", "0") is None
        assert store.list_runs() == []
    with sqlite3.connect(project.config.parent / ".crmsync/state.db") as db:
        assert db.execute("SELECT COUNT(*) FROM xref").fetchone()[0] == 0


def test_customer_shows_one_customer_from_each_system_side_by_side(project: Project,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = project.cli(capsys, "sync", SYNC)
    assert code == 0, out
    with sqlite3.connect(project.erp_db) as db:
        cust_no, name = db.execute("SELECT cust_no, company_name FROM customers ORDER BY cust_no").fetchone()
    code, out, err = project.cli(capsys, "customer", cust_no, "--json")
    assert code == 0, err
    view = json.loads(out)
    assert view["entity"] == "Account"
    sides = {key.split(" ")[0]: value for key, value in view["systems"].items()}
    assert set(sides) == {"erp.customers", "crm.Account"}
    assert sides["erp.customers"]["name"] == sides["crm.Account"]["name"] == name
    assert sides["erp.customers"]["account_number"] == sides["crm.Account"]["account_number"] == cust_no
    code, table, _ = project.cli(capsys, "customer", view["canonical_id"])
    assert code == 0 and "erp.customers" in table and "crm.Account" in table
    assert sum(name in line for line in table.splitlines()) == 1  # one row, both systems' columns
    code, _, err = project.cli(capsys, "customer", "NO-SUCH-ID")
    assert code == 2 and "no record known" in err


def test_a_failing_stream_ends_the_run_partial_with_its_reason(project: Project,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = yaml.safe_load(project.config.read_text())
    config["syncs"][SYNC]["retry"] = {"max_attempts": 2, "initial_wait": 0.01, "max_wait": 0.01}
    project.config.write_text(yaml.safe_dump(config))
    # Salesforce keeps refusing contact writes (503): the contacts stream fails, the accounts stream goes on.
    project.sandbox.faults.configure({"server_unavailable_rate": 1.0, "path_pattern": "composite/sobjects/Contact"},
                                     reset_counters=True)
    code, out, _ = project.cli(capsys, "sync", SYNC)
    assert code == 3, out
    assert "partial" in out and "SERVER_UNAVAILABLE" in out
    assert len(project.sandbox.rows("Account")) == project.customers and project.sandbox.rows("Contact") == []
    code, listed, _ = project.cli(capsys, "runs", "--json")
    run_id = json.loads(listed)[0]["run_id"]
    code, shown, _ = project.cli(capsys, "runs", "show", run_id, "--json")
    assert code == 0
    run = json.loads(shown)["run"]
    assert run["status"] == "partial"
    streams = {s["stream"]: s for s in run["streams"]}
    assert streams["Account"]["status"] == "succeeded" and streams["Account"]["counts"]["written"] == project.customers
    assert streams["Contact"]["status"] == "failed" and "SERVER_UNAVAILABLE" in streams["Contact"]["error"]
    assert run["error"].startswith("Contact: ") and "SERVER_UNAVAILABLE" in run["error"]
    code, table, _ = project.cli(capsys, "runs", "show", run_id)
    assert code == 0 and "partial" in table and "SERVER_UNAVAILABLE" in table
