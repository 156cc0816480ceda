"""Field coverage: a sync writes only what the source reads, and a two-way sync compares only shared fields."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from mappings import MappingSet
from orchestrator.runner import coverage

ROOT = Path(__file__).resolve().parents[2]
SF = MappingSet.load(ROOT / "mappings/specs/salesforce")
ERP = MappingSet.load(ROOT / "mappings/specs/erp")


def test_salesforce_to_erp_never_writes_what_salesforce_does_not_read() -> None:
    sf, erp = SF.for_entity("Account"), ERP.for_entity("Account")
    to_erp = coverage.written_natives(sf, erp)
    assert to_erp is not None
    assert {"cust_no", "company_name", "phone_no", "street", "changed_ts"} <= to_erp
    assert "status" not in to_erp  # canonical `active`: Salesforce has no such field, the ERP keeps its own
    assert "email_addr" not in to_erp  # an Account email exists in the ERP only
    to_sf = coverage.written_natives(erp, sf)
    assert to_sf is not None and {"Name", "ERP_Customer_No__c", "Phone"} <= to_sf
    assert not {"Type", "AnnualRevenue", "NumberOfEmployees", "ShippingCity"} & to_sf  # the ERP has none of them
    record = {"Name": "Acme", "Type": "Customer - Direct", "AnnualRevenue": None, "Phone": "+34911234567"}
    assert coverage.trim(record, to_sf) == {"Name": "Acme", "Phone": "+34911234567"}


def test_shared_fields_leave_out_constants_one_sided_fields_and_metadata() -> None:
    shared = coverage.shared_fields(SF.for_entity("Account"), ERP.for_entity("Account"))
    assert shared is not None
    assert {"name", "phone", "billing_address.city", "account_number", "vat_number"} <= shared
    assert "type" not in shared  # the ERP's type is a constant, not data it holds
    assert not {"updated_at", "created_at", "is_deleted", "annual_revenue", "active"} & shared
    contact = coverage.shared_fields(SF.for_entity("Contact"), ERP.for_entity("Contact"))
    assert contact is not None and "department" not in contact and {"email", "account_id"} <= contact


def test_mappers_that_do_not_describe_themselves_keep_every_field() -> None:
    opaque = SimpleNamespace(spec=SimpleNamespace(object="x"))
    assert coverage.written_natives(opaque, SF.for_entity("Account")) is None
    assert coverage.shared_fields(opaque, opaque) is None
    assert coverage.trim({"a": 1}, None) == {"a": 1}


def test_flatten_project_and_unflatten_round_trip_nested_values() -> None:
    values = {"name": "Acme", "billing_address": {"city": "Madrid", "street": None}, "tags": ["a"]}
    flat = coverage.flatten(values)
    assert flat == {"name": "Acme", "billing_address.city": "Madrid", "billing_address.street": None, "tags": ["a"]}
    assert coverage.project(values, frozenset({"billing_address.city"})) == {"billing_address.city": "Madrid"}
    assert coverage.project(values, frozenset({"billing_address"})) == {"billing_address.city": "Madrid",
                                                             "billing_address.street": None}
    merged = coverage.unflatten({"billing_address.city": "Sevilla", "phone": "+34"}, values)
    assert merged["billing_address"] == {"city": "Sevilla", "street": None} and merged["phone"] == "+34"
    assert values["billing_address"]["city"] == "Madrid"  # the input is not changed
