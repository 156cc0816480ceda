"""``crmsync reconcile`` through the CLI on two SQLite copies of the demo ERP: findings, formatting-only
variants ignored, runs compared (new, persisting, fixed), schema drift between runs, masked reports,
and exit code 4 when a threshold is passed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.testdata.erp_schema import customers, metadata
from orchestrator.cli import main

SPECS = Path(__file__).resolve().parents[2] / "mappings" / "specs" / "erp"
CONFIG = """\
version: 1
state: {{url: "sqlite:///{dir}/state.db"}}
systems:
  left: {{connector: sql, mappings: {specs}, timezone: Europe/Madrid,
          settings: {{url: "sqlite:///{dir}/left.db", streams: {{customers: {{updated_at: changed_ts}}}}}}}}
  right: {{connector: sql, mappings: {specs}, timezone: Europe/Madrid,
           settings: {{url: "sqlite:///{dir}/right.db", streams: {{customers: {{updated_at: changed_ts}}}}}}}}
reconciliations:
  mirror: {{left: left, right: right, entities: [Account], lag_minutes: 0, report_dir: reports{extra}}}
"""


def row(n: int, **kw: object) -> dict[str, object]:
    return {"cust_no": f"C{n:04d}", "company_name": f"Firm {n} S.L.", "country": "ES", "city": "Madrid",
            "phone_no": f"+34 91 123 {n:04d}", "email_addr": f"info{n}@firm{n}.es", "sector": "RETAIL",
            "status": "A", "currency": "EUR", "created_ts": datetime(2024, 1, 1), "changed_ts": datetime(2024, 2, 1),
            "deleted_flag": "N", **kw}


def database(path: Path, rows: list[dict[str, object]]) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine, tables=[customers])
    with engine.begin() as conn:
        conn.execute(customers.insert(), rows)
    engine.dispose()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    database(tmp_path / "left.db", [row(n) for n in range(30)])
    right = [row(n) for n in range(30) if n != 7]
    right[1]["phone_no"] = "+34 91 999 0001"  # a real difference
    right[2]["phone_no"] = "0034911230002"  # the same number written differently
    right[3]["country"] = "Spain"  # the same country by name
    right[4]["company_name"] = "FIRM 4 S.L."  # letter case only
    database(tmp_path / "right.db", right)
    (tmp_path / "reconcile").mkdir()
    (tmp_path / "reconcile" / "mirror.yaml").write_text("reconcile: {expect: {Account: all}}\n")
    config = tmp_path / "crmsync.yaml"
    config.write_text(CONFIG.format(dir=tmp_path, specs=SPECS, extra=""))
    return config


def report(config: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((config.parent / "reports" / "mirror-latest.json").read_text())
    return data


def test_reconcile_runs_over_time_and_thresholds(project: Path) -> None:
    assert main(["reconcile", "mirror", "-c", str(project)]) == 0
    first = report(project)
    assert first["counts"] == {"field_mismatch": 1, "missing": 1}
    assert first["delta"] == {"new": 2, "persisting": 0, "resolved": 0}
    text = (project.parent / "reports" / "mirror-latest.json").read_text()
    assert "999 0001" not in text and "+34*" in text  # phones masked by default
    assert "<svg" in (project.parent / "reports" / "mirror-latest.html").read_text()

    engine = sa.create_engine(f"sqlite:///{project.parent / 'right.db'}")
    with engine.begin() as conn:  # fix the phone, and add a column (the schema drifts)
        conn.execute(sa.text("UPDATE customers SET phone_no = '+34 91 123 0001' WHERE cust_no = 'C0001'"))
        conn.execute(sa.text("ALTER TABLE customers ADD COLUMN segment VARCHAR(10)"))
    engine.dispose()
    assert main(["reconcile", "mirror", "-c", str(project), "--show-personal-data"]) == 0
    second = report(project)
    assert second["counts"] == {"missing": 1, "schema_drift": 1}
    assert second["delta"] == {"new": 1, "persisting": 1, "resolved": 1}
    assert second["resolved_by_code"] == {"field_mismatch": 1} and len(second["trend"]) == 2
    drift = next(f for f in second["findings"] if f["code"] == "schema_drift")
    assert drift["fields"] == ["segment"] and drift["subject"] == "field_added"

    project.write_text(CONFIG.format(dir=project.parent, specs=SPECS, extra=", thresholds: {missing: 0}"))
    assert main(["reconcile", "mirror", "-c", str(project)]) == 4
    assert report(project)["thresholds"] == {"breached": [{"code": "missing", "limit": 0.0, "measured": 1.0,
                                                            "share": False}]}


def test_row_diff_of_a_mirror(project: Path) -> None:
    from orchestrator.config import load_config
    from orchestrator.reconcile.run import row_diff

    config = load_config(project)
    with config.open_state() as store:
        first = row_diff(config, store, "mirror")["Account"]
        second = row_diff(config, store, "mirror")["Account"]
    # Raw rows differ wherever a value is written differently: the row diff is byte-level, the findings are not.
    assert first.left_only == ["C0007"] and set(first.changed) == {"C0001", "C0002", "C0003", "C0004"}
    assert second.differing == first.differing and second.rows_read < first.rows_read
    assert main(["reconcile", "mirror", "--row-diff", "-c", str(project)]) == 0


def test_job_settings_may_live_in_crmsync_yaml(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project.parent / "reconcile" / "mirror.yaml").unlink()
    assert main(["reconcile", "mirror", "-c", str(project)]) == 0
    assert report(project)["counts"] == {"field_mismatch": 1}  # default: only linked records must be on both sides
    inline = ", settings: {reconcile: {expect: {Account: all}}}"
    project.write_text(CONFIG.format(dir=project.parent, specs=SPECS, extra=inline))
    assert main(["reconcile", "mirror", "-c", str(project)]) == 0
    assert report(project)["counts"] == {"field_mismatch": 1, "missing": 1}  # as the settings file said

    (project.parent / "reconcile" / "mirror.yaml").write_text("reconcile: {expect: {Account: linked}}\n")
    assert main(["reconcile", "mirror", "-c", str(project)]) == 2  # two places: one would be ignored
    assert "keep one" in capsys.readouterr().err
    (project.parent / "reconcile" / "mirror.yaml").unlink()
    project.write_text(CONFIG.format(dir=project.parent, specs=SPECS,
                                     extra=", settings: {reconcile: {expct: {Account: all}}}"))
    assert main(["reconcile", "mirror", "-c", str(project)]) == 2
    err = capsys.readouterr().err
    assert "crmsync.yaml:" in err and "reconciliations.mirror.settings.reconcile.expct" in err
