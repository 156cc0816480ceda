"""The state and config commands through the real CLI entry point: output, JSON, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from mappings.errors import Reason
from orchestrator import logging as crmlog
from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.state import Finding, QuarantineItem, StateStore

STARTER_ENV = {"SF_CLIENT_ID": "3MVG9xyz", "SF_USERNAME": "integration@acme.example",
               "SF_KEY_FILE": "/etc/crmsync/sf.key", "ERP_DB_PASSWORD": "erp-db-password-1"}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() points structlog at the captured stderr; later tests must not log into a closed file."""
    crmlog.configure(json=True, level="WARNING")  # seeding logs go to stderr too, never into --json stdout
    yield
    structlog.reset_defaults()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--log-format", "json", "--log-level", "WARNING", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "crmsync.yaml"
    path.write_text("version: 1\nstate:\n  url: sqlite:///.crmsync/state.db\n  retention_days: 30\n")
    return path


def seed(config: Path) -> tuple[str, list[int]]:
    with load_config(config, sections={"state"}).open_state() as store:
        run_id = store.start_run("erp-to-crm", "sync", {})
        store.record_stream(run_id, "Account", status="succeeded", counts={"read": 12, "written": 10,
                                                                           "quarantined": 2})
        store.finish_run(run_id, "partial", {"reason": "budget_exhausted"}, error="API budget at 90%: stopped")
        ids = store.add_quarantine([
            QuarantineItem("erp-to-crm", "Account", "erp", "clientes", str(k), "map",
                           [Reason("invalid_email", "email")], {"email": f"c{k}@example.org", "name": "Ana"})
            for k in range(3)])
        store.link("erp", "clientes", "100245", "c-100245", "Account")
        return run_id, ids


def test_init_writes_a_starter_that_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, "init", str(tmp_path))
    assert code == 0 and "wrote" in out
    config = load_config(tmp_path / "crmsync.yaml", environ=STARTER_ENV)  # every check, connectors included
    assert set(config.systems) == {"crm", "erp"} and config.systems["crm"].connector == "salesforce"
    assert config.systems["crm"].settings["auth"]["flow"] == "jwt_bearer"
    assert config.sync("erp-to-crm").source == "erp" and list(config.reconciliations) == ["weekly"]
    assert config.state.url == f"sqlite:///{tmp_path.resolve()}/.crmsync/state.db"
    code, _, err = run(capsys, "init", str(tmp_path / "crmsync.yaml"))
    assert code == 2 and "exists; use --force" in err
    (tmp_path / "crmsync.yaml").write_text("edited")
    assert run(capsys, "init", "--force", str(tmp_path))[0] == 0
    assert (tmp_path / "crmsync.yaml").read_text().startswith("# crmsync project config")
    for name, value in STARTER_ENV.items():
        monkeypatch.setenv(name, value)
    code, out, _ = run(capsys, "config", "validate", "--config", str(tmp_path / "crmsync.yaml"))
    assert code == 0 and "2 system(s), 1 sync(s), 1 reconciliation(s)" in out


@pytest.mark.parametrize(("text", "where"), [
    ("version: 1\nstate:\n  retention: 3\n", ":3: state.retention: unknown key 'retention'"),
    ("version: 1\nstate:\n  retention_days: many\n", ":3: state.retention_days: Input should be a valid integer"),
    ("version: 1\nstate:\n  url: [a, b\n  retention_days: 3\n", ":3: url: YAML syntax error"),
    ("version: 1\nstate:\n  url: postgresql+psycopg://u:${CRMSYNC_NO_SUCH_VAR}@h/db\n",
     ":3: state.url: environment variable CRMSYNC_NO_SUCH_VAR is not set"),
    ("version: 1\nsystems:\n  erp: {connector: memory}\nsyncs:\n  s: {from: erp, to: crmm, objects: [Account]}\n",
     ":5: syncs.s.to: unknown system 'crmm'"),
    ("version: 1\nsystems:\n  erp:\n    connector: sql\n    settings: {url: 'sqlite://', password: abcdefgh}\n",
     ":5: systems.erp.settings.password: secrets must not be written in the config"),
])
def test_config_errors_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                            where: str) -> None:
    path = tmp_path / "crmsync.yaml"
    path.write_text(text)
    code, _, err = run(capsys, "config", "validate", "--config", str(path))
    lines = [line for line in err.splitlines() if line.startswith("crmsync:")]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"crmsync: {path}{where}"), lines[0]


def test_ops_commands_need_only_the_state_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crmsync.yaml"
    path.write_text("version: 1\nsystems:\n  crm:\n    connector: salesforce\n    settings:\n      auth:\n"
                    "        flow: client_credentials\n        client_id: x\n        client_secret: ${SF_UNSET_1}\n")
    code, out, _ = run(capsys, "runs", "--json", "--config", str(path))
    assert code == 0 and json.loads(out) == []
    code, _, err = run(capsys, "config", "validate", "--config", str(path))
    assert code == 2 and "SF_UNSET_1 is not set" in err


def test_runs_list_show_and_cancel(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, _ = seed(project)
    code, out, _ = run(capsys, "runs", "--json", "--config", str(project))
    runs = json.loads(out)
    assert code == 0 and [r["run_id"] for r in runs] == [run_id]
    assert runs[0]["status"] == "partial" and runs[0]["streams"][0]["counts"]["quarantined"] == 2
    code, out, _ = run(capsys, "runs", "--config", str(project))
    assert code == 0 and "partial" in out and run_id[:12] in out
    code, out, _ = run(capsys, "runs", "show", run_id[:10], "--config", str(project))
    assert code == 0 and "API budget at 90%: stopped" in out and "Account" in out
    code, out, _ = run(capsys, "runs", "show", run_id, "--json", "--config", str(project))
    assert json.loads(out)["run"]["summary"] == {"reason": "budget_exhausted"}
    assert run(capsys, "runs", "show", "ffffffffff", "--config", str(project))[0] == 1
    code, _, err = run(capsys, "runs", "cancel", run_id, "--config", str(project))
    assert code == 1 and "not running (partial)" in err
    with load_config(project, sections={"state"}).open_state() as store:
        live = store.start_run("erp-to-crm", "sync", {})
    assert run(capsys, "runs", "cancel", live, "--config", str(project))[0] == 0
    with load_config(project, sections={"state"}).open_state() as store:
        assert store.is_cancel_requested(live)


def test_quarantine_list_show_discard(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, ids = seed(project)
    code, out, _ = run(capsys, "quarantine", "list", "--by-reason", "--json", "--config", str(project))
    assert code == 0 and json.loads(out) == [{"code": "invalid_email", "field": "email", "count": 3, "sync": None}]
    code, out, _ = run(capsys, "quarantine", "list", "--by-reason", "--config", str(project))
    assert "invalid_email" in out and "3" in out
    code, out, _ = run(capsys, "quarantine", "show", str(ids[0]), "--config", str(project))
    assert code == 0 and "invalid_email" in out and "c0@example.org" not in out and "****" in out
    code, out, _ = run(capsys, "quarantine", "show", str(ids[0]), "--json", "--show-payload", "--config", str(project))
    assert json.loads(out)["payload"] == {"email": "c0@example.org", "name": "Ana"}
    code, out, _ = run(capsys, "quarantine", "show", str(ids[0]), "--json", "--config", str(project))
    assert json.loads(out)["payload"] == {"email": "****", "name": "****"}
    code, out, _ = run(capsys, "quarantine", "discard", str(ids[0]), str(ids[1]), "--config", str(project))
    assert code == 0 and "discarded 2" in out
    code, out, _ = run(capsys, "quarantine", "list", "--json", "--config", str(project))
    assert [r["id"] for r in json.loads(out)] == [ids[2]]
    assert run(capsys, "quarantine", "discard", "999", "--config", str(project))[0] == 1
    assert run(capsys, "quarantine", "show", "999", "--config", str(project))[0] == 1


def test_purge_forget_and_operator_controls(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, ids = seed(project)
    with load_config(project, sections={"state"}).open_state() as store:
        store.mark_quarantine(ids[:1], "resolved")
        store.upsert_findings("weekly", "r1", [Finding("missing", "Account", {"erp": "100245"})])
        lease = store.acquire_lease("erp-to-crm", "Account", "0", "host:1", ttl_s=600)
        assert lease is not None
        store.commit_batch(lease, cursor={"seq": 5})
    code, out, _ = run(capsys, "purge", "--older-than", "0", "--json", "--config", str(project))
    assert code == 0 and json.loads(out) == {"older_than_days": 0, "quarantine": 1, "findings": 0}
    code, out, _ = run(capsys, "forget", "100245", "--json", "--config", str(project))
    assert json.loads(out) == {"canonical_ids": ["c-100245"], "xref": 1, "quarantine": 0, "findings": 1,
                               "sync_state": 0}
    code, out, _ = run(capsys, "state", "leases", "--live", "--json", "--config", str(project))
    assert [p["owner"] for p in json.loads(out)] == ["host:1"]
    code, _, err = run(capsys, "state", "reset-cursor", "erp-to-crm", "--config", str(project))
    assert code == 1 and "is running" in err  # a live lease protects the cursor
    code, out, _ = run(capsys, "state", "release-lease", "erp-to-crm", "Account", "--config", str(project))
    assert code == 0
    code, out, _ = run(capsys, "state", "reset-cursor", "erp-to-crm", "--config", str(project))
    assert code == 0 and "reset 1 cursor" in out
    with StateStore.open(load_config(project, sections={"state"}).state.url) as store:
        assert store.get_cursor("erp-to-crm", "Account") is None
        assert store.acquire_lease("erp-to-crm", "Account", "0", "host:2", 60) is not None
    assert run(capsys, "state", "release-lease", "nope", "Account", "--config", str(project))[0] == 1
