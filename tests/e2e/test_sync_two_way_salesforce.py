"""Two-way sync through the CLI: the local Salesforce sandbox and a PostgreSQL ERP, edits on both sides.

``crmsync sync`` runs as a subprocess on a crmsync.yaml written here, against the sandbox (in this
process, its own threads) and a PostgreSQL ERP in a schema of its own. The first run copies the
generated CRM into the empty ERP; then people edit both sides (through the Salesforce REST API and
SQL) and an incremental run settles them by the conflict policy (the CRM wins by default, the ERP
wins phone numbers). Nothing may be duplicated on either side or in the cross-reference.

Size: ``CRMSYNC_E2E_TWO_WAY_RECORDS`` Accounts and Contacts in total (one account per four
contacts), 50,000 by default: about a minute on a quiet 2-core machine (ten on a busy one);
set it lower for a quick local run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
import yaml
from simple_salesforce import Salesforce

from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox, SandboxConfig, SeedConfig
from connectors.testdata import erp_schema
from orchestrator.state import StateStore

RECORDS = int(os.environ.get("CRMSYNC_E2E_TWO_WAY_RECORDS", "50000"))
ACCOUNTS = RECORDS // 5
ROOT = Path(__file__).resolve().parents[2]
CRMSYNC = str(Path(sys.executable).with_name("crmsync"))
MADRID = ZoneInfo("Europe/Madrid")
SYNC = "crm-erp"
CUSTOMERS, CONTACTS = erp_schema.customers, erp_schema.contacts


def copy_specs(source: Path, target: Path, drop: set[str]) -> Path:
    """The shipped specs as an integration engineer adapts them: without the fields this sync does not carry."""
    target.mkdir(parents=True)
    for path in sorted(source.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        spec["fields"] = [f for f in spec["fields"] if str(f.get("canonical")) not in drop]
        (target / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
    return target


def write_project(root: Path, sandbox: Sandbox, url: str, schema: str) -> Path:
    urls = sandbox.urls
    assert urls is not None and urls.https is not None
    # Owners are not part of this sync (no users on the ERP side), and the ERP's six sector codes cannot
    # hold Salesforce's industries: the engineer leaves both out of this project's mappings.
    crm = copy_specs(ROOT / "mappings/specs/salesforce", root / "mappings/crm", {"owner_id"})
    erp = copy_specs(ROOT / "mappings/specs/erp", root / "mappings/erp", {"owner_id", "industry"})
    config = {
        "version": 1,
        "state": {"url": "sqlite:///.crmsync/state.db"},
        "systems": {
            "crm": {"connector": "salesforce", "mappings": str(crm), "settings": {
                "auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                         "client_secret": "${SF_CLIENT_SECRET}"},
                "login_url": urls.https, "ca_bundle": str(urls.ca_path), "objects": ["Account", "Contact"],
                "bulk_poll_interval": 0.05}},
            "erp": {"connector": "sql", "mappings": str(erp), "timezone": "Europe/Madrid", "settings": {
                "url": url, "schema": schema, "streams": {
                    "customers": {"updated_at": "changed_ts", "soft_delete_column": "deleted_flag",
                                  "deleted_value": "Y"},
                    "contacts": {"updated_at": "changed_ts", "soft_delete_column": "deleted_flag",
                                 "deleted_value": "Y"}}}},
        },
        "syncs": {SYNC: {"from": "crm", "to": "erp", "direction": "two_way", "objects": ["Account", "Contact"],
                         "batch_size": 2000, "conflict": {"default": "crm", "fields": {"phone": "erp"}}}},
    }
    path = root / "crmsync.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def crmsync(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SF_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}
    return subprocess.run([CRMSYNC, "--log-format", "json", "--log-level", "WARNING", *args, "--config",
                           str(project)], capture_output=True, text=True, env=env, timeout=max(900, RECORDS // 20))


def last_run(project: Path) -> dict[str, Any]:
    listed = crmsync(project, "runs", "--sync", SYNC, "--limit", "1", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    run_id = json.loads(listed.stdout)[0]["run_id"]
    shown = crmsync(project, "runs", "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr[-2000:]
    return dict(json.loads(shown.stdout)["run"])


@pytest.fixture
def erp(postgres_url: str) -> Iterator[tuple[sa.Engine, str]]:
    schema = "e2e_two_way_" + uuid.uuid4().hex[:8]
    engine = sa.create_engine(postgres_url, execution_options={"schema_translate_map": {None: schema}})
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
        erp_schema.metadata.create_all(conn)
    try:
        yield engine, schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
        engine.dispose()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    options = {"accounts": ACCOUNTS, "contacts_per_account": 4, "opportunities_per_account": 0,
               "orders_per_customer": 0, "tasks_per_account": 0, "events_per_account": 0, "leads": 0,
               "crm_only_share": 0.0, "formatting_variants": 0.0}
    with Sandbox(SandboxConfig(http_port=None, proxy_port=None, seed=SeedConfig(seed=11, options=options))) as sb:
        yield sb


def salesforce(sb: Sandbox) -> Salesforce:
    """A simple-salesforce client on the sandbox: what a person's tool or another integration would use."""
    assert sb.urls is not None and sb.urls.https is not None
    session = requests.Session()
    session.verify = str(sb.urls.ca_path)
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would replace the sandbox CA
    return Salesforce(instance_url=sb.urls.https, session_id=sb.session(), session=session, version="62.0")


def erp_rows(engine: sa.Engine, table: sa.Table, key: str) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table)).mappings().all()
    return {str(r[key]): dict(r) for r in rows}


def erp_edit(engine: sa.Engine, table: sa.Table, key: str, value: Any, **changes: Any) -> None:
    """An ERP user's edit: the columns and the change time, in the ERP's local time as its application writes it."""
    now = datetime.now(MADRID).replace(tzinfo=None)
    with engine.begin() as conn:
        done = conn.execute(table.update().where(table.c[key] == value).values(**changes, changed_ts=now)).rowcount
    assert done == 1


def assert_one_to_one(sb: Sandbox, engine: sa.Engine, state_db: Path) -> None:
    """Same records on both sides, by key, and each linked exactly once in the cross-reference."""
    accounts = sb.rows("Account", include_deleted=False)
    contacts = sb.rows("Contact", include_deleted=False)
    customers = erp_rows(engine, CUSTOMERS, "cust_no")
    people = erp_rows(engine, CONTACTS, "contact_no")
    assert sorted(a["ERP_Customer_No__c"] for a in accounts) == sorted(customers)
    assert sorted(c["ERP_Contact_No__c"] for c in contacts) == sorted(people)
    account_no = {a["Id"]: a["ERP_Customer_No__c"] for a in accounts}
    parents = {c["Id"]: (people[c["ERP_Contact_No__c"]]["cust_no"], account_no[c["AccountId"]]) for c in contacts}
    assert [k for k, (erp, crm) in parents.items() if erp != crm] == []
    with sqlite3.connect(state_db) as db:
        for entity, count in (("Account", len(accounts)), ("Contact", len(contacts))):
            per_system = dict(db.execute("SELECT system, COUNT(DISTINCT canonical_id) FROM xref WHERE entity = ? "
                                         "GROUP BY system", (entity,)).fetchall())
            assert per_system == {"crm": count, "erp": count}, entity
            unpaired = db.execute("SELECT COUNT(*) FROM (SELECT canonical_id FROM xref WHERE entity = ? GROUP BY "
                                  "canonical_id HAVING COUNT(*) != 2 OR COUNT(DISTINCT system) != 2)",
                                  (entity,)).fetchone()[0]
            assert unpaired == 0, entity


@pytest.mark.slow
@pytest.mark.timeout(max(600, RECORDS // 10))  # the full-size run takes minutes on a busy 2-core machine
def test_two_way_sync_settles_edits_on_both_sides_by_policy(tmp_path: Path, sandbox: Sandbox,
                                                            erp: tuple[sa.Engine, str]) -> None:
    engine, schema = erp
    project = write_project(tmp_path, sandbox, engine.url.render_as_string(hide_password=False), schema)
    first = crmsync(project, "sync", SYNC)
    assert first.returncode == 0, first.stderr[-3000:]
    assert_one_to_one(sandbox, engine, tmp_path / ".crmsync/state.db")
    assert len(erp_rows(engine, CUSTOMERS, "cust_no")) == ACCOUNTS

    sf = salesforce(sandbox)
    accounts = sandbox.rows("Account", include_deleted=False)[:5]
    sf_only, both_name, both_phone, merged, erp_only = accounts
    no = {a["Id"]: a["ERP_Customer_No__c"] for a in accounts}
    sf.Account.update(sf_only["Id"], {"Name": "Renamed In Salesforce"})
    sf.Account.update(both_name["Id"], {"Name": "Name From Crm"})
    erp_edit(engine, CUSTOMERS, "cust_no", no[both_name["Id"]], company_name="Name From Erp")
    sf.Account.update(both_phone["Id"], {"Phone": "+34 911 000 201"})
    erp_edit(engine, CUSTOMERS, "cust_no", no[both_phone["Id"]], phone_no="+34911000202")
    sf.Account.update(merged["Id"], {"Name": "Merged Name"})
    erp_edit(engine, CUSTOMERS, "cust_no", no[merged["Id"]], phone_no="+34911000303")
    erp_edit(engine, CUSTOMERS, "cust_no", no[erp_only["Id"]], company_name="Renamed In Erp")
    people = sandbox.rows("Contact", include_deleted=False)[:2]
    sf.Contact.update(people[0]["Id"], {"Email": "moved.mailbox@example.org"})
    erp_edit(engine, CONTACTS, "contact_no", int(people[1]["ERP_Contact_No__c"]), family_name="Erpson")
    newest_no = max(int(c) for c in erp_rows(engine, CONTACTS, "contact_no")) + 1
    sf.Contact.create({"AccountId": sf_only["Id"], "LastName": "Newcomer", "ERP_Contact_No__c": str(newest_no)})
    now = datetime.now(MADRID).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(CUSTOMERS.insert().values(cust_no="C9999999", company_name="Fresh Customer", status="A",
                                               currency="EUR", created_ts=now, changed_ts=now, deleted_flag="N"))

    second = crmsync(project, "sync", SYNC)
    assert second.returncode == 0, second.stderr[-3000:]
    customers = erp_rows(engine, CUSTOMERS, "cust_no")
    crm = {a["ERP_Customer_No__c"]: a for a in sandbox.rows("Account", include_deleted=False)}
    assert customers[no[sf_only["Id"]]]["company_name"] == "Renamed In Salesforce"
    assert crm[no[erp_only["Id"]]]["Name"] == "Renamed In Erp"
    kept = ("Industry", "Type", "AnnualRevenue", "NumberOfEmployees", "ShippingCity")  # fields the ERP has not
    assert {f: crm[no[erp_only["Id"]]][f] for f in kept} == {f: erp_only[f] for f in kept}
    assert crm[no[both_name["Id"]]]["Name"] == customers[no[both_name["Id"]]]["company_name"] == "Name From Crm"
    assert crm[no[both_phone["Id"]]]["Phone"] == customers[no[both_phone["Id"]]]["phone_no"] == "+34911000202"
    assert (crm[no[merged["Id"]]]["Name"], crm[no[merged["Id"]]]["Phone"]) == ("Merged Name", "+34911000303")
    assert (customers[no[merged["Id"]]]["company_name"], customers[no[merged["Id"]]]["phone_no"]) == (
        "Merged Name", "+34911000303")
    assert crm["C9999999"]["Name"] == "Fresh Customer"  # created in Salesforce through its external id
    contacts = erp_rows(engine, CONTACTS, "contact_no")
    assert contacts[people[0]["ERP_Contact_No__c"]]["email_addr"] == "moved.mailbox@example.org"
    assert {c["ERP_Contact_No__c"]: c for c in sandbox.rows("Contact")}[people[1]["ERP_Contact_No__c"]][
        "LastName"] == "Erpson"
    assert (contacts[str(newest_no)]["family_name"], contacts[str(newest_no)]["cust_no"]) == (
        "Newcomer", no[sf_only["Id"]])

    state_db = tmp_path / ".crmsync/state.db"
    with sqlite3.connect(state_db) as db:
        cid = {native: canonical for native, canonical in db.execute(
            "SELECT native_id, canonical_id FROM xref WHERE system = 'crm' AND object = 'Account'")}
    run = last_run(project)
    listed = {(c["canonical_id"], tuple(c["fields"]), c["outcome"], json.dumps(c["winners"], sort_keys=True))
              for c in run["summary"]["conflicts"]}
    assert listed == {(cid[both_name["Id"]], ("name",), "resolved", '{"name": "crm"}'),
                      (cid[both_phone["Id"]], ("phone",), "resolved", '{"phone": "erp"}')}
    with StateStore.open(f"sqlite:///{state_db}") as store:
        findings = store.list_findings(f"sync:{SYNC}", code="conflict")
    assert sorted((f.keys["canonical_id"], tuple(f.fields)) for f in findings) == sorted(
        [(cid[both_name["Id"]], ("name",)), (cid[both_phone["Id"]], ("phone",))])
    assert_one_to_one(sandbox, engine, state_db)
    assert len(customers) == ACCOUNTS + 1

    third = crmsync(project, "sync", SYNC)
    assert third.returncode == 0, third.stderr[-3000:]
    totals = {k: sum(s["counts"].get(k, 0) for s in last_run(project)["streams"]) for k in ("written", "conflicts")}
    assert totals == {"written": 0, "conflicts": 0}  # our own writes come back as echoes and are skipped
