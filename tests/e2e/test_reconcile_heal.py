"""Acceptance: heal through the CLI on generated data. After ``heal --apply`` and a second reconcile the
healable findings (missing, field_mismatch, duplicate, picklist_drift with a value map, a fixable
invalid_value, deleted_one_side) are resolved and every other finding is unchanged; ``heal --undo``
then puts both systems back as they were.

Salesforce is the local sandbox seeded by the project's generator, read and written by the real
connector; the ERP is the generator's SQLite database through the SQL connector.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.retry import RetryPolicy
from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox, SeedConfig
from connectors.testdata.config import GeneratorConfig
from connectors.testdata.generator import Dataset
from connectors.testdata.links import INDUSTRY_TO_SECTOR
from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.runner.services import Services

pytestmark = pytest.mark.slow

SEED = 5
OPTIONS = {"accounts": 120, "contacts_per_account": 2, "opportunities_per_account": 1, "orders_per_customer": 1,
           "tasks_per_account": 1, "events_per_account": 0, "leads": 20, "users": 8, "defects_per_code": 1}
HEALED = {"missing", "field_mismatch", "duplicate", "picklist_drift", "invalid_value", "deleted_one_side"}
ERP_LABELS = {"RETAIL": "Retail", "WHOLESALE": "Wholesale", "MANUFACT": "Manufacturing", "SERVICES": "Services",
              "PUBLIC": "Government", "HEALTH": "Healthcare"}
SPECS = Path(__file__).resolve().parents[2] / "mappings" / "specs"

CONFIG = """\
version: 1
state: {{url: "sqlite:///{dir}/state.db"}}
systems:
  crm:
    connector: salesforce
    settings:
      login_url: {login_url}
      ca_bundle: {ca}
      auth: {{flow: client_credentials, client_id: "${{HEAL_SF_ID}}", client_secret: "${{HEAL_SF_SECRET}}"}}
    mappings: {sf_specs}
  erp:
    connector: sql
    settings:
      url: "sqlite:///{dir}/erp.db"
      streams:
        customers: {{updated_at: changed_ts}}
        contacts: {{updated_at: changed_ts}}
        orders: {{updated_at: changed_ts}}
        employees: {{}}
    mappings: {erp_specs}
    timezone: Europe/Madrid
reconciliations:
  weekly:
    left: erp
    right: crm
    entities: [Account, Contact, Opportunity, Lead]
    lag_minutes: 0
    survivorship: {{default: newest}}
    report_dir: reports
"""


def salesforce_specs(tmp: Path) -> Path:
    """The shipped Salesforce specs with the demo org's per-record currencies (the shipped Opportunity spec
    is single-currency EUR: CurrencyIsoCode exists only in multi-currency orgs)."""
    folder = tmp / "salesforce-specs"
    shutil.copytree(SPECS / "salesforce", folder, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    spec = yaml.safe_load((folder / "opportunity.yaml").read_text())
    for field in spec["fields"]:
        if field.get("canonical") == "amount":
            field["native"], field["transforms"] = ["Amount", "CurrencyIsoCode"], [{"money": {"scale": 2}}]
    (folder / "opportunity.yaml").write_text(yaml.safe_dump(spec))
    return folder


def settings(ds: Dataset) -> dict[str, Any]:
    truth = ds.ground_truth()
    value_maps: dict[str, dict[str, dict[str, str]]] = {}
    for d in truth["defects"]:
        if d["code"] == "picklist_drift":
            system = next(iter(d["values"]))
            native = next(iter(d["values"][system]))
            fixed = {"StageName": "Prospecting", "Status": "Working - Contacted", "Industry": "Technology",
                     "sector": "SERVICES", "status": "OPEN"}[native]
            value_maps.setdefault(d["entity"], {}).setdefault(d["fields"][0], {})[d["values"][system][native]] = fixed
    return {
        "reconcile": {"links": {"erp": {"Account": "sf_account_id", "Contact": "sf_contact_id"}},
                      "normalise": {"equivalents": {"industry": {i: ERP_LABELS[s]
                                                                  for i, s in INDUSTRY_TO_SECTOR.items()}}}},
        "heal": {"delete_policy": "propagate", "value_maps": value_maps},
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("heal")
    ds = Dataset(GeneratorConfig(seed=SEED, defects=True, **OPTIONS))
    ds.load_erp(f"sqlite:///{tmp / 'erp.db'}")
    with sqlite3.connect(tmp / "erp.db") as db:
        # One invalid value a normalising rule can fix, and one delete made in the ERP only (the generator's
        # one-sided delete is in Salesforce, which reports it as a bare tombstone: it may be a merge, so
        # healing leaves it to a person).
        db.execute("UPDATE customers SET email_addr = 'Info @rheinlog.example' "
                   "WHERE cust_no = (SELECT min(cust_no) FROM customers WHERE sf_account_id IS NULL)")
        db.execute("UPDATE contacts SET deleted_flag = 'Y' WHERE contact_no = (SELECT max(contact_no) FROM contacts "
                   "WHERE sf_contact_id IS NOT NULL AND deleted_flag = 'N')")
    with Sandbox(seed=SeedConfig(seed=SEED, defects=True, options=OPTIONS)) as sandbox:
        assert sandbox.urls is not None
        os.environ.update(HEAL_SF_ID=DEFAULT_CLIENT_ID, HEAL_SF_SECRET=DEFAULT_CLIENT_SECRET)
        (tmp / "crmsync.yaml").write_text(CONFIG.format(
            dir=tmp, login_url=sandbox.urls.https, ca=sandbox.urls.ca_path, sf_specs=salesforce_specs(tmp),
            erp_specs=SPECS / "erp"))
        (tmp / "reconcile").mkdir()
        (tmp / "reconcile" / "weekly.yaml").write_text(yaml.safe_dump(settings(ds)))
        yield tmp / "crmsync.yaml"


def snapshot(config: Path) -> dict[str, dict[str, Any]]:
    """Every row of both systems, for comparing before and after."""
    project = load_config(config)
    services = Services(project)
    out: dict[str, dict[str, Any]] = {}
    for system, streams in (("erp", ["customers", "contacts", "orders"]), ("crm", ["Account", "Contact",
                                                                                    "Opportunity", "Lead"])):
        connector = services.connector(system, RetryPolicy())
        try:
            for stream in streams:
                for batch in connector.read(stream):
                    for row in batch.records:
                        key = str(row.get("Id") or row.get("cust_no") or row.get("contact_no") or row.get("order_no"))
                        out[f"{system}:{stream}:{key}"] = {k: v for k, v in row.items()
                                                           if k not in ("SystemModstamp", "LastModifiedDate",
                                                                        "LastModifiedById", "changed_ts")}
        finally:
            connector.close()
    return out


def open_findings(config: Path) -> dict[str, str]:
    project = load_config(config)
    with project.open_state() as store:
        return {f.fingerprint: f.code for f in store.list_findings("weekly", "open")}


def last_heal_run(config: Path) -> str:
    project = load_config(config)
    with project.open_state() as store:
        return next(r.run_id for r in store.list_runs(20, "heal:weekly", kind="heal"))


def saved_plan(config: Path) -> list[dict[str, Any]]:
    project = load_config(config)
    with project.open_state() as store:
        from orchestrator.heal import plan as plans

        found = plans.load(store, "weekly")
        assert found is not None
        return [i.to_json() for i in found.items]


def test_heal_resolves_what_it_can_and_undo_puts_everything_back(project: Path) -> None:
    assert main(["reconcile", "weekly", "-c", str(project)]) == 0
    before = open_findings(project)
    assert HEALED <= set(before.values())
    rows_before = snapshot(project)

    assert main(["heal", "weekly", "--plan", "-c", str(project)]) == 0
    items = saved_plan(project)
    planned = {fp for i in items if i["status"] == "ready" for fp in i["fingerprints"]}
    assert {before[fp] for fp in planned} == HEALED  # every healable kind has a ready fix
    assert main(["heal", "weekly", "--apply", "-c", str(project)]) == 0
    assert main(["reconcile", "weekly", "-c", str(project)]) == 0
    after = open_findings(project)
    assert set(after) - set(before) == set(), {f: c for f, c in after.items() if f not in before}  # nothing new
    assert planned & set(after) == set()  # every finding a ready item addressed is resolved
    assert set(after) == set(before) - planned  # ... and nothing else changed

    # Undo puts back every value, except one Salesforce now refuses: the retired stage "Discovery" is not in
    # the restricted StageName picklist any more, so that single write fails and the undo run says so.
    assert main(["heal", "weekly", "--undo", last_heal_run(project), "-c", str(project)]) == 3
    refused = {k for k, v in rows_before.items() if v.get("StageName") == "Discovery"}
    assert len(refused) == 1
    rows_after = snapshot(project)
    changed = {k for k in rows_before.keys() | rows_after.keys() if rows_before.get(k) != rows_after.get(k)}
    # Records healing deleted in Salesforce come back with new Ids (Salesforce gives them); all else is as before.
    gone = {k for k in changed - refused if k not in rows_after}
    new = {k for k in changed - refused if k not in rows_before}
    assert changed - refused == gone | new and all(k.startswith("crm:") for k in changed)
    strip = [{k: v for k, v in rows_before[k].items() if k != "Id" and not k.startswith("Created")} for k in gone]
    back = [{k: v for k, v in rows_after[k].items() if k != "Id" and not k.startswith("Created")} for k in new]
    assert sorted(map(repr, strip)) == sorted(map(repr, back))
