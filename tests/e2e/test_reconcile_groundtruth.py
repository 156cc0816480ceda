"""Acceptance: reconciliation on generated data finds every injected defect with the right type and
records (recall 100%), reports no formatting-only variant, and >= 99% of its findings are defects.

Both sides come from the project's one generator: the ERP tables in SQLite through the SQL connector,
the Salesforce rows (recycle bin included, so merged losers keep their MasterRecordId) through the
in-memory connector with the org's real describe. The shipped mapping specs are used, with the
demo org's multi-currency amounts added to the Opportunity spec.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.memory import MemoryConfig, MemoryConnector, MemoryStream, reset_store
from connectors.retry import RetryPolicy
from connectors.salesforce.objects import FORMULAS, OBJECTS, OPPORTUNITY_STAGES, describe_sobject_json
from connectors.salesforce.schema import shape
from connectors.sql.config import SqlConfig
from connectors.sql.connector import SqlConnector
from connectors.testdata.config import GeneratorConfig
from connectors.testdata.generator import Dataset
from connectors.testdata.links import INDUSTRY_TO_SECTOR
from mappings.engine.mapping_set import MappingSet
from orchestrator.reconcile.detectors.schema_drift import snapshot
from orchestrator.reconcile.engine import Engine
from orchestrator.reconcile.history import StoreHistory
from orchestrator.reconcile.job import JobSpec, ReconcileSettings
from orchestrator.reconcile.normalise import NormaliseConfig
from orchestrator.reconcile.result import ReconcileResult
from orchestrator.reconcile.schema_history import SchemaHistory
from orchestrator.reconcile.sides import SideSpec
from orchestrator.state import StateStore

SPECS = Path(__file__).resolve().parents[2] / "mappings" / "specs"
ERP_LABELS = {"RETAIL": "Retail", "WHOLESALE": "Wholesale", "MANUFACT": "Manufacturing", "SERVICES": "Services",
              "PUBLIC": "Government", "HEALTH": "Healthcare"}
ENTITIES = ["Account", "Contact", "Opportunity", "Lead", "Activity"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def salesforce_specs(tmp: Path) -> Path:
    """The shipped Salesforce specs, with the demo org's currencies per record (every stage it uses is shipped)."""
    folder = tmp / "salesforce-specs"
    shutil.copytree(SPECS / "salesforce", folder)
    spec = yaml.safe_load((folder / "opportunity.yaml").read_text())
    for field in spec["fields"]:
        if field.get("canonical") == "amount":
            field["native"], field["transforms"] = ["Amount", "CurrencyIsoCode"], [{"money": {"scale": 2}}]
    (folder / "opportunity.yaml").write_text(yaml.safe_dump(spec))
    assert set(OPPORTUNITY_STAGES) <= set(next(f for f in spec["fields"] if f.get("canonical") == "stage")
                                          ["transforms"][0]["value_map"]["map"])
    return folder


def build(tmp: Path, ds: Dataset, truth: dict[str, Any]) -> Engine:
    url = f"sqlite:///{tmp / 'erp.db'}"
    ds.load_erp(url)
    tables = {t: {"updated_at": "changed_ts"} for t in ("customers", "contacts", "orders", "invoices")}
    erp = SqlConnector(SqlConfig(url=url, streams={**tables, "employees": {}}), RetryPolicy())
    reset_store("groundtruth-sf")
    objects = ds.salesforce_objects()
    sf = MemoryConnector(MemoryConfig(store="groundtruth-sf", streams={o: MemoryStream(primary_key="Id")
                                                                       for o in objects}), RetryPolicy())
    for obj in objects:
        sf.write(obj, list(ds.iter_salesforce(obj)))
    describe = {n: shape(describe_sobject_json(o, ds.objects)).spec for n, o in ds.objects.items()}
    left = SideSpec("erp", erp, MappingSet.load(SPECS / "erp"), timezone=ds.config.erp_timezone,
                    connector_type="sql", links={"Account": "sf_account_id", "Contact": "sf_contact_id"})
    right = SideSpec("salesforce", sf, MappingSet.load(salesforce_specs(tmp)), connector_type="salesforce",
                     formulas=FORMULAS, describe=describe)
    last, now = at(truth["last_sync_at"]), at(truth["base_time"])
    with StateStore.open(f"sqlite:///{tmp / 'state.db'}", clock=lambda: last) as past:
        past.finish_run(past.start_run("erp-to-crm", "sync", {}), "succeeded", {})
    store = StateStore.open(f"sqlite:///{tmp / 'state.db'}", clock=lambda: now)
    history = SchemaHistory(store, "groundtruth")  # the previous run saw the org before its schema drifted
    history.save("salesforce", "before", snapshot(shape(describe_sobject_json(o, OBJECTS)).spec
                                                  for o in OBJECTS.values()))
    history.save("erp", "before", snapshot(erp.discover()))
    equivalents = {"industry": {industry: ERP_LABELS[sector] for industry, sector in INDUSTRY_TO_SECTOR.items()}}
    job = JobSpec("groundtruth", "erp", "salesforce", ENTITIES, lag=timedelta(minutes=60),
                  settings=ReconcileSettings(normalise=NormaliseConfig(equivalents=equivalents)))
    return Engine(job, left, right, store=store, history=StoreHistory(store, ["erp-to-crm"]), clock=lambda: now,
                  workdir=tmp, schema_history=history)


def refs(entry: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(system, key) of the records a ground-truth entry is about (not the one a missing record lacks)."""
    for system, key in entry["keys"].items():
        if entry.get("absent_in") != system:
            for one in key if isinstance(key, list) else [key]:
                yield system, str(one)


def no_op(entry: dict[str, Any]) -> bool:
    """An injected change that changed nothing, so there is nothing to find: a formula defect whose stored
    value equals what the formula gives (0 on a lost deal), or a conflict that drew the same value twice."""
    if entry["code"] == "formula_drift":
        stored = next(iter(entry["values"]["salesforce"].values()))
        return abs(Decimal(str(stored)) - Decimal(str(entry["expected"] or 0))) < Decimal("0.005")
    if entry["code"] == "conflict":
        drawn = [str(v).strip().casefold() for values in entry["values"].values() for v in values.values()]
        return len(drawn) == 2 and drawn[0] == drawn[1]
    return False


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReconcileResult, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("groundtruth")
    ds = Dataset(GeneratorConfig(seed=1, accounts=1000, defects=True, defects_per_code=4))
    truth = ds.ground_truth()
    ds.write_ground_truth(tmp / "truth.json")  # read back: the test compares against the file
    truth = json.loads((tmp / "truth.json").read_text())
    return build(tmp, ds, truth).run("groundtruth-1"), truth


def test_the_dataset_has_every_code_and_enough_formatting_variants(run: tuple[ReconcileResult, Any]) -> None:
    _, truth = run
    codes = {d["code"] for d in truth["defects"] if not no_op(d)}
    assert codes == {"missing", "field_mismatch", "duplicate", "orphan_reference", "invalid_value", "picklist_drift",
                     "stale", "conflict", "formula_drift", "merged", "inactive_owner", "queue_owner", "schema_drift",
                     "deleted_one_side"}
    linked = truth["population"]["linked"]
    accounts = {v["keys"]["erp"] for v in truth["formatting_variants"] if v["entity"] == "Account"}
    assert len(accounts) >= 0.05 * linked and len(truth["formatting_variants"]) >= 0.05 * linked


def test_recall_every_injected_defect_with_its_code_and_records(run: tuple[ReconcileResult, Any]) -> None:
    result, truth = run
    found: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for finding in result.findings():
        for record in finding.records:
            found[(finding.code.value, finding.entity, record.system, record.key)] += 1
    missed = [d["id"] for d in truth["defects"] if not no_op(d)
              and not all(found[(d["code"], d["entity"], s, k)] for s, k in refs(d))]
    assert missed == []


def test_no_formatting_variant_and_precision_at_least_99_percent(run: tuple[ReconcileResult, Any]) -> None:
    result, truth = run
    expected: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for d in truth["defects"]:
        expected[(d["code"], d["entity"])].update(refs(d))
    findings = list(result.findings())
    false = [f for f in findings if not any((r.system, r.key) in expected[(f.code.value, f.entity)]
                                            for r in f.records)]
    variants = {(s, str(k)) for v in truth["formatting_variants"] for s, k in v["keys"].items()}
    defect_refs = set().union(*expected.values())
    on_variants = [f for f in findings if any((r.system, r.key) in variants - defect_refs for r in f.records)]
    assert on_variants == []
    assert len(findings) >= len(truth["defects"]) // 2
    assert len(false) <= 0.01 * len(findings), [(f.code.value, f.entity, [r.key for r in f.records]) for f in false]
