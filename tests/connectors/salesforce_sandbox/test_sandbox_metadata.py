"""Describe from the org metadata, custom objects and fields declared in config, and their use in writes and SOQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.salesforce.objects import FIELD_TYPES
from connectors.salesforce.sandbox import Sandbox

CUSTOM = {
    "Invoice__c": {"key_prefix": "a01", "label": "Invoice", "fields": [
        {"name": "Amount__c", "type": "currency", "precision": 18, "scale": 2},
        {"name": "Invoice_No__c", "type": "string", "length": 20, "external_id": True, "unique": True},
        {"name": "Account__c", "type": "reference", "reference_to": ["Account"], "relationship_name": "Account__r",
         "length": 18},
    ]},
    "Account": {"fields": [{"name": "Tier__c", "type": "picklist", "values": ["Gold", "Silver"], "restricted": True}]},
}


@pytest.fixture(scope="module")
def org() -> Iterator[Sandbox]:
    with Sandbox(custom=CUSTOM) as sb:
        yield sb


def test_describe_global_and_object(org: Sandbox, make_api: Any) -> None:
    api = make_api(org)
    listed = {o["name"]: o for o in api.get("/sobjects").json()["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "Task", "Event", "User", "Group", "Invoice__c"} <= set(listed)
    assert listed["Invoice__c"]["custom"] is True and listed["Invoice__c"]["keyPrefix"] == "a01"
    assert listed["Contact"]["urls"]["describe"] == "/services/data/v62.0/sobjects/Contact/describe"
    invoice = {f["name"]: f for f in api.get("/sobjects/Invoice__c/describe").json()["fields"]}
    assert invoice["Invoice_No__c"]["externalId"] is True and invoice["Invoice_No__c"]["unique"] is True
    assert invoice["Account__c"]["referenceTo"] == ["Account"] and invoice["Amount__c"]["type"] == "currency"
    contact = api.get("/sobjects/Contact/describe/").json()
    assert {f["type"] for f in contact["fields"]} <= FIELD_TYPES  # types every client accepts
    assert {"Id", "IsDeleted", "SystemModstamp", "MailingAddress"} <= {f["name"] for f in contact["fields"]}
    tier = next(f for f in api.get("/sobjects/Account/describe").json()["fields"] if f["name"] == "Tier__c")
    assert tier["restrictedPicklist"] is True and [p["value"] for p in tier["picklistValues"]] == ["Gold", "Silver"]
    assert api.get("/sobjects/Invoice__c").json()["objectDescribe"]["name"] == "Invoice__c"


def test_custom_object_writes_upserts_and_relationship_queries(org: Sandbox, make_api: Any) -> None:
    api = make_api(org)
    account = api.post("/sobjects/Account", json={"Name": "Custom Co", "Tier__c": "Gold"}).json()["id"]
    bad_tier = api.post("/sobjects/Account", json={"Name": "X", "Tier__c": "Bronze"}).json()
    assert bad_tier[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    created = api.patch("/sobjects/Invoice__c/Invoice_No__c/INV-1", json={
        "Name": "First", "Amount__c": 120.5, "Account__c": account})
    assert created.status_code == 201 and created.json()["id"].startswith("a01")
    again = api.patch("/sobjects/Invoice__c/Invoice_No__c/INV-1", json={"Amount__c": 99})
    assert again.status_code == 200 and again.json()["created"] is False
    body = api.query("SELECT Name, Amount__c, Account__r.Name, Account__r.Tier__c FROM Invoice__c").json()
    [record] = body["records"]
    assert record["Amount__c"] == 99 and record["Account__r"]["Name"] == "Custom Co"
    assert record["Account__r"]["Tier__c"] == "Gold"


def test_long_urls_are_accepted(org: Sandbox, make_api: Any) -> None:
    """airbyte sizes its field lists against a 16 KB URL; an IN list of 600 ids is about that long."""
    ids = ",".join(f"'001{n:012d}AAA'" for n in range(600))
    response = make_api(org).query("SELECT Id FROM Account WHERE Id IN (" + ids + ")")  # noqa: S608
    assert len(response.request.url or "") > 15_000
    assert response.status_code == 200 and response.json()["totalSize"] == 0
