"""Salesforce object metadata: real id checksums, describe JSON shape, required fields, config extension."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.errors import ConfigurationError
from connectors.salesforce.objects import (
    FIELD_TYPES,
    OBJECTS,
    describe_field_json,
    describe_global_json,
    describe_sobject_json,
    extend_objects,
    health_score,
    id_for,
    id_number,
    is_valid_id,
    object_for_id,
    same_id,
    to_15,
    to_18,
)

# Pairs published with independent 15->18 converters (Salesforce community answers, sf15to18, sfdc-ids).
KNOWN_IDS = [
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
    ("003A0000005QB3A", "003A0000005QB3AIAW"),
    ("00558000001N0Ke", "00558000001N0KeAAK"),
    ("006E200000aIb6Z", "006E200000aIb6ZIAS"),
]


@pytest.mark.parametrize(("short", "long"), KNOWN_IDS)
def test_known_checksums(short: str, long: str) -> None:
    assert to_18(short) == long
    assert to_15(long) == short
    assert to_18(long) == long
    assert is_valid_id(short) and is_valid_id(long)


def test_lowercased_18_char_id_recovers_case() -> None:
    assert to_15("001a0000006vm9riac") == "001A0000006Vm9r"
    assert same_id("001a0000006vm9riac", "001A0000006Vm9r")
    assert not same_id("001A0000006Vm9r", "001A0000006VM9r")  # 15-char ids are case-sensitive
    assert not is_valid_id("001A0000006Vm9rAAA")  # suffix disagrees with the case
    with pytest.raises(ValueError):
        to_18("001A0000006Vm9")


@given(st.sampled_from(sorted({o.key_prefix for o in OBJECTS.values()})), st.integers(0, 62**9 - 1))
def test_generated_ids_round_trip(prefix: str, n: int) -> None:
    sfid = id_for(prefix, n)
    assert len(sfid) == 18 and is_valid_id(sfid) and sfid.startswith(prefix)
    assert to_18(to_15(sfid)) == sfid
    assert to_18(sfid.lower()) == sfid
    assert id_number(sfid) == n


def test_generated_ids_sort_like_their_numbers() -> None:
    ids = [id_for("003", n) for n in (0, 9, 10, 61, 62, 3843, 3844, 10**9)]
    assert ids == sorted(ids)
    assert object_for_id(ids[0]) == "Contact" and object_for_id(id_for("00G", 1)) == "Group"


def test_key_prefixes_and_required_fields() -> None:
    prefixes = {name: o.key_prefix for name, o in OBJECTS.items()}
    assert prefixes == {"Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006",
                        "Task": "00T", "Event": "00U", "User": "005", "Group": "00G"}
    assert OBJECTS["Account"].required_fields == ("Name",)
    assert OBJECTS["Contact"].required_fields == ("LastName",)
    assert set(OBJECTS["Lead"].required_fields) == {"LastName", "Company"}
    assert set(OBJECTS["Opportunity"].required_fields) == {"Name", "StageName", "CloseDate"}


def test_system_and_custom_fields() -> None:
    for obj in OBJECTS.values():
        for name in ("Id", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp"):
            assert obj.has(name), (obj.name, name)
        assert all(f.type in FIELD_TYPES for f in obj.fields)
    for name in ("Account", "Contact", "Lead"):
        master = OBJECTS[name].field("MasterRecordId")
        assert master.reference_to == (name,) and not master.createable
    acc = OBJECTS["Account"]
    erp = acc.field("ERP_Customer_No__c")
    assert (erp.type, erp.length, erp.external_id, erp.unique, erp.custom) == ("string", 10, True, True, True)
    assert acc.field("Health_Score__c").calculated and acc.field("Health_Score__c").formula
    assert OBJECTS["Contact"].field("ERP_Contact_No__c").external_id
    assert OBJECTS["Opportunity"].field("ERP_Order_No__c").unique
    assert [f.name for f in acc.components("BillingAddress")] == [
        "BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry",
        "BillingLatitude", "BillingLongitude", "BillingGeocodeAccuracy"]
    assert OBJECTS["Lead"].field("OwnerId").reference_to == ("Group", "User")
    assert OBJECTS["Account"].field("OwnerId").reference_to == ("User",)
    assert "BillingAddress" not in {f.name for f in acc.stored_fields}


def test_restricted_picklists() -> None:
    stage = OBJECTS["Opportunity"].field("StageName")
    assert stage.restricted_picklist and "Closed Won" in stage.active_values
    status = OBJECTS["Lead"].field("Status")
    assert status.restricted_picklist and status.default_value == "Open - Not Contacted"
    assert not OBJECTS["Account"].field("Type").restricted_picklist
    assert not OBJECTS["Account"].field("Industry").restricted_picklist


def test_describe_field_json_shape() -> None:
    stage = describe_field_json(OBJECTS["Opportunity"].field("StageName"))
    for key in ("name", "type", "soapType", "label", "nillable", "custom", "calculated", "compoundFieldName",
                "createable", "updateable", "filterable", "sortable", "externalId", "idLookup", "length",
                "precision", "scale", "referenceTo", "relationshipName", "picklistValues", "unique",
                "restrictedPicklist", "defaultedOnCreate", "calculatedFormula", "byteLength", "digits"):
        assert key in stage, key
    assert stage["soapType"] == "xsd:string" and stage["restrictedPicklist"] is True
    assert stage["picklistValues"][0] == {"active": True, "defaultValue": False, "label": "Prospecting",
                                          "validFor": None, "value": "Prospecting"}
    owner = describe_field_json(OBJECTS["Lead"].field("OwnerId"))
    assert owner["type"] == "reference" and owner["referenceTo"] == ["Group", "User"]
    assert owner["relationshipName"] == "Owner" and owner["polymorphicForeignKey"] is True
    assert describe_field_json(OBJECTS["Account"].field("Id"))["soapType"] == "tns:ID"
    amount = describe_field_json(OBJECTS["Opportunity"].field("Amount"))
    assert (amount["type"], amount["precision"], amount["scale"], amount["soapType"]) == (
        "currency", 18, 2, "xsd:double")
    street = describe_field_json(OBJECTS["Account"].field("BillingStreet"))
    assert street["compoundFieldName"] == "BillingAddress"
    assert describe_field_json(OBJECTS["Account"].field("ERP_Customer_No__c"))["custom"] is True


def test_describe_sobject_and_global() -> None:
    body = describe_sobject_json(OBJECTS["Account"])
    assert body["name"] == "Account" and body["keyPrefix"] == "001" and body["customSetting"] is False
    assert {c["childSObject"] for c in body["childRelationships"]} >= {"Contact", "Opportunity", "Task"}
    assert {"Contacts", "Opportunities"} <= {c["relationshipName"] for c in body["childRelationships"]}
    glob = describe_global_json()
    assert [o["name"] for o in glob["sobjects"]] == list(OBJECTS)
    assert glob["sobjects"][0]["urls"]["describe"] == "/services/data/v62.0/sobjects/Account/describe"


def test_health_score_formula() -> None:
    assert health_score({"Rating": "Hot", "AnnualRevenue": 25_000_000}) == 100.0
    assert health_score({"Rating": "Cold", "AnnualRevenue": 500_000}) == 30.0
    assert health_score({"Rating": None, "AnnualRevenue": None}) == 0.0


def test_extend_objects_from_config() -> None:
    spec = {
        "Account": {"fields": [
            {"name": "Tier__c", "type": "picklist", "values": ["Gold", "Silver"], "restricted": True},
            {"name": "VAT_Number__c", "type": "string", "length": 32},
        ], "remove_fields": ["Sic"]},
        "Invoice__c": {"key_prefix": "a01", "label": "Invoice", "fields": [
            {"name": "Account__c", "type": "reference", "reference_to": ["Account"], "relationship_name": "Account__r"},
            {"name": "Amount__c", "type": "currency", "precision": 16, "scale": 2},
        ]},
    }
    objects = extend_objects(spec)
    assert "Tier__c" not in OBJECTS["Account"].by_name  # the base table is untouched
    acc = objects["Account"]
    assert acc.field("Tier__c").active_values == ("Gold", "Silver") and acc.field("Tier__c").restricted_picklist
    assert acc.field("VAT_Number__c").length == 32 and not acc.has("Sic")
    inv = objects["Invoice__c"]
    assert inv.custom and inv.key_prefix == "a01" and inv.has("Id") and inv.has("SystemModstamp")
    assert describe_field_json(inv.field("Amount__c"))["custom"] is True
    assert object_for_id(id_for("a01", 5), objects) == "Invoice__c"
    with pytest.raises(ConfigurationError):
        extend_objects({"Account": {"fields": [{"name": "X__c", "type": "blob"}]}})
    with pytest.raises(ConfigurationError):
        extend_objects({"Invoice": {"key_prefix": "a02"}})
