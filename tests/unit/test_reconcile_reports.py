"""Reports: personal data masked by default, JSON complete and streamable, HTML self-contained."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
from rich.console import Console

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.finding import Finding, RecordRef
from orchestrator.reconcile.result import Breach, Coverage, ReconcileResult
from orchestrator.reports import html, jsonreport, terminal
from orchestrator.reports.masking import is_personal, mask_finding, mask_text
from orchestrator.state.types import TrendPoint

AT = datetime(2024, 6, 1, tzinfo=UTC)


def result(tmp_path: Path) -> ReconcileResult:
    res = ReconcileResult("erp-vs-crm", "run1", "erp", "sf", ["Contact"], AT, AT)
    findings = [
        Finding(FindingCode.FIELD_MISMATCH, "Contact", (RecordRef("erp", "1"), RecordRef("sf", "S1")), ("email",),
                {"email": {"erp": "ana.garcia@acme.es", "sf": "ana@acme.es"}}, message="email differs"),
        Finding(FindingCode.FIELD_MISMATCH, "Contact", (RecordRef("erp", "2"), RecordRef("sf", "S2")), ("title",),
                {"title": {"erp": "CEO", "sf": "CFO"}}, message="title differs"),
        Finding(FindingCode.MISSING, "Contact", (RecordRef("erp", "3"),), message="in erp but not in sf"),
    ]
    res.findings_path = tmp_path / "f.jsonl"
    with res.findings_path.open("wb") as out:
        for f in findings:
            res.add(f)
            out.write(orjson.dumps(f.to_json()) + b"\n")
    res.delta = {"new": 2, "persisting": 1, "resolved": 4}
    res.records = {"Contact": {"erp": 10, "sf": 9}}
    res.coverage = Coverage("erp", "sf", customers=10, customers_in_crm=8, revenue=1000.0, revenue_in_crm=900.0,
                            currency="EUR", crm_accounts=9, active_accounts=3, by_owner={"005A": {"accounts": 9,
                                                                                                  "active": 3}})
    res.breaches = [Breach("missing", 0, 1, False)]
    return res


TREND = [TrendPoint("run0", AT, 3, 0, 0, 3, {"missing": 2, "duplicate": 1}),
         TrendPoint("run1", AT, 2, 1, 4, 3, {"missing": 1, "field_mismatch": 2})]


def test_masking_keeps_shape_not_content() -> None:
    assert mask_text("ana.garcia@acme.es") == "a***@a***.es"
    assert mask_text("+34 912 34 56 78") .startswith("+34") and "912" not in mask_text("+34 912 34 56 78")
    assert mask_text("Ana García") == "A*** G***"
    assert is_personal("Contact", "email") and is_personal("Contact", "last_name")
    assert is_personal("Contact", "mailing_address.street") and not is_personal("Account", "industry")
    data = mask_finding({"entity": "Contact", "code": "field_mismatch", "values": {"email": {"a": "x@y.io"},
                                                                                     "title": {"a": "CEO"}}})
    assert data["values"] == {"email": {"a": "x***@y***.io"}, "title": {"a": "CEO"}}


def test_json_report_streams_every_finding_masked(tmp_path: Path) -> None:
    path = jsonreport.write(result(tmp_path), tmp_path / "r.json", trend=TREND)
    doc = json.loads(path.read_text())
    assert doc["counts"] == {"field_mismatch": 2, "missing": 1} and len(doc["findings"]) == 3
    assert doc["personal_data"] == "masked" and "ana.garcia" not in path.read_text()
    assert doc["findings"][1]["values"]["title"] == {"erp": "CEO", "sf": "CFO"}
    assert doc["thresholds"]["breached"][0]["code"] == "missing" and len(doc["trend"]) == 2
    shown = json.loads(jsonreport.write(result(tmp_path), tmp_path / "r2.json", show_personal=True).read_text())
    assert shown["findings"][0]["values"]["email"]["erp"] == "ana.garcia@acme.es"


def test_html_is_self_contained_with_charts(tmp_path: Path) -> None:
    page = html.write(result(tmp_path), tmp_path / "r.html", TREND).read_text()
    assert page.count("<svg") >= 3  # trend, coverage, owners
    assert not re.search(r"<script|https?://(?!www\.w3\.org/2000/svg)", page)
    assert "ana.garcia" not in page and "a***@a***.es" in page
    assert "Threshold passed" in page and "80.0%" in page


def test_terminal_summary(tmp_path: Path) -> None:
    console = Console(record=True, width=140)
    terminal.render(result(tmp_path), console)
    text = console.export_text()
    assert "new 2" in text and "fixed 4" in text and "field_mismatch" in text
    assert "ana.garcia" not in text and "threshold passed" in text
