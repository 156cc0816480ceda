"""Healing on two in-memory systems with real mapping specs: plan, apply through the runner, re-check, undo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.memory import MemoryConfig, MemoryConnector, MemoryStream, reset_store
from connectors.retry import RetryPolicy
from mappings.engine.mapping_set import MappingSet
from orchestrator.heal import plan as plans
from orchestrator.heal.apply import apply_plan
from orchestrator.heal.planner import HealSettings, Planner
from orchestrator.heal.survivorship import Rules
from orchestrator.heal.undo import undo_run
from orchestrator.reconcile.engine import Engine
from orchestrator.reconcile.job import JobSpec
from orchestrator.reconcile.sides import SideSpec
from orchestrator.state import StateStore

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
OLD = "2024-05-01T10:00:00+00:00"
NEWER = "2024-05-20T10:00:00+00:00"

ERP_SPEC = """
system_type: memory
object: customers
entity: Account
key: cust_no
options: {timezone: UTC, phone_region: ES}
fields:
  - {canonical: account_number, native: cust_no, transforms: [trim]}
  - {canonical: name, native: company_name, transforms: [trim], required: true}
  - {canonical: phone, native: phone_no, transforms: [phone]}
  - {canonical: email, native: email_addr, transforms: [email]}
  - {canonical: industry, native: sector, transforms: [trim]}
  - {canonical: billing_address.country, native: country, transforms: [country]}
  - {canonical: updated_at, native: changed, transforms: [datetime], read_only: true}
"""
CRM_SPEC = """
system_type: memory
object: Account
entity: Account
key: Id
options: {timezone: UTC, phone_region: ES}
fields:
  - {canonical: account_number, native: ERP_No, transforms: [trim]}
  - {canonical: name, native: Name, transforms: [trim], required: true}
  - {canonical: phone, native: Phone, transforms: [phone]}
  - {canonical: email, native: Email, transforms: [email]}
  - {canonical: industry, native: Industry, transforms: [trim]}
  - {canonical: billing_address.country, native: BillingCountry, transforms: [country]}
  - {canonical: updated_at, native: Modified, transforms: [datetime], read_only: true}
"""


def system(tmp: Path, name: str, spec: str, stream: str, key: str, rows: list[dict[str, Any]]) -> SideSpec:
    folder = tmp / name
    folder.mkdir()
    (folder / "spec.yaml").write_text(spec)
    reset_store(f"heal-{name}")
    connector = MemoryConnector(MemoryConfig(store=f"heal-{name}", streams={stream: MemoryStream(primary_key=key)}),
                                RetryPolicy())
    connector.write(stream, rows)
    return SideSpec(name, connector, MappingSet.load(folder), connector_type="memory")


def erp(no: str, name: str, **kw: Any) -> dict[str, Any]:
    return {"cust_no": no, "company_name": name, "phone_no": None, "email_addr": None, "sector": "Retail",
            "country": "ES", "changed": OLD, **kw}


def crm(sfid: str, no: str | None, name: str, **kw: Any) -> dict[str, Any]:
    return {"Id": sfid, "ERP_No": no, "Name": name, "Phone": None, "Email": None, "Industry": "Retail",
            "BillingCountry": "Spain", "Modified": OLD, **kw}


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    left = system(tmp_path, "erp", ERP_SPEC, "customers", "cust_no", [
        erp("1", "Acme", phone_no="+34912345678"),
        erp("2", "Borealis", sector="Energy", changed=NEWER),  # newer: its sector wins
        erp("3", "Cobalt", email_addr="ops @cobalt.es"),  # invalid; a normalising rule fixes it
        erp("4", "Delta"),  # linked in the CRM by number, present: fine
    ])
    right = system(tmp_path, "crm", CRM_SPEC, "Account", "Id", [
        crm("A1", "1", "Acme", Phone="+34912345678"),
        crm("A2", "2", "Borealis"),
        crm("A3", "3", "Cobalt"),
        crm("A4", "4", "Delta"),
        crm("A5", "5", "Echo Foods", Email="info@echo.es"),  # missing in the ERP: created there
        crm("A6", None, "Delta", Phone="+34911111111"),  # duplicate of A4: merged into it
    ])
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", clock=lambda: NOW)
    job = JobSpec("erp-crm", "erp", "crm", ["Account"], lag=timedelta(minutes=30))
    return {"left": left, "right": right, "store": store, "job": job, "tmp": tmp_path}


def reconcile(w: dict[str, Any], run: str, observer: Any = None) -> Any:
    engine = Engine(w["job"], w["left"], w["right"], store=w["store"], clock=lambda: NOW, workdir=w["tmp"])
    if observer is not None:
        engine.observer, engine.identities = observer, observer.identities
    return engine.run(run)


def codes(result: Any) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((f.code.value, tuple(r.key for r in f.records)) for f in result.findings())


def rows(side: SideSpec, stream: str) -> dict[str, dict[str, Any]]:
    out = {}
    for batch in side.connector.read(stream):
        out.update({str(r.get("cust_no") or r.get("Id")): r for r in batch.records})
    return out


def test_plan_apply_recheck_undo(world: dict[str, Any]) -> None:
    sides = {"erp": world["left"], "crm": world["right"]}
    planner = Planner(sides, Rules("newest"), HealSettings())
    before = reconcile(world, "r1", planner)
    assert codes(before) == [
        ("duplicate", ("A4", "A6")),
        ("field_mismatch", ("2", "A2")),
        ("invalid_value", ("3",)),
        ("missing", ("A5",)),
    ]
    plan = plans.Plan("erp-crm", NOW, planner.items, "r1")
    # updates: A2 (sector), 3 (email fixed) and A3 (gets the fixed email), A4 and 4 (phone from the duplicate)
    assert plan.summary()["by_action"] == {"update": 5, "create": 1, "delete": 1}
    erp_before, crm_before = rows(world["left"], "customers"), rows(world["right"], "Account")

    heal_run = world["store"].start_run("heal:erp-crm", "heal", {"plan": plan.plan_id})
    report = apply_plan(plan, world["store"], sides, heal_run, NOW)
    assert (report.applied, report.failed) == (7, 0), report.errors
    healed = rows(world["right"], "Account")
    assert healed["A2"]["Industry"] == "Energy" and "A6" not in healed
    assert healed["A4"]["Phone"] == "+34911111111"  # filled from the merged duplicate
    assert rows(world["left"], "customers")["3"]["email_addr"] == "ops@cobalt.es"
    assert rows(world["left"], "customers")["5"]["company_name"] == "Echo Foods"
    assert codes(reconcile(world, "r2")) == []

    undo = world["store"].start_run("heal:erp-crm", "heal-undo", {"run": heal_run})
    undone = undo_run(world["store"], sides, "erp-crm", heal_run, undo, NOW)
    assert (undone.applied, undone.failed) == (7, 0), undone.errors
    assert rows(world["left"], "customers") == erp_before
    restored = rows(world["right"], "Account")
    assert {k: sorted(r.items()) for k, r in restored.items()} == {k: sorted(r.items()) for k, r in crm_before.items()}
