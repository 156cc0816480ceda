"""The generator: determinism, exact counts, describe-shaped rows, referential integrity, picklists, phones."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import phonenumbers
import pytest

from connectors.salesforce.objects import OBJECTS, is_valid_id, object_for_id
from connectors.testdata import CODES, Dataset, GeneratorConfig
from connectors.testdata import world_data as wd
from connectors.testdata.erp_schema import ORDER_STATUS, SECTORS
from connectors.testdata.formats import _de_check, _es_check, _it_check

SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$")  # UTC, as REST returns it
SF_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REFERENCES = ("AccountId", "WhoId", "WhatId", "OwnerId", "CreatedById", "LastModifiedById", "MasterRecordId",
              "ConvertedAccountId", "ConvertedContactId", "ManagerId", "ReportsToId", "ParentId")


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return Dataset(GeneratorConfig(seed=11, accounts=400, defects=True, shared_modstamp_block=150, page_size=200))


@pytest.fixture(scope="module")
def sf(ds: Dataset) -> dict[str, list[dict[str, Any]]]:
    return {obj: list(ds.iter_salesforce(obj)) for obj in ds.salesforce_objects()}


@pytest.fixture(scope="module")
def erp(ds: Dataset) -> dict[str, list[dict[str, Any]]]:
    return {table: list(ds.iter_erp(table)) for table in ds.erp_tables()}


@pytest.fixture(scope="module")
def truth(ds: Dataset) -> dict[str, Any]:
    return ds.ground_truth()


def _snapshot(dataset: Dataset) -> tuple[list[Any], list[Any]]:
    sf_rows = [list(dataset.iter_salesforce(o)) for o in dataset.salesforce_objects()]
    erp_rows = [list(dataset.iter_erp(t)) for t in dataset.erp_tables()]
    return sf_rows, erp_rows


def test_same_seed_same_rows_different_seed_different_rows() -> None:
    config = GeneratorConfig(seed=5, accounts=60, defects=True, leads=30)
    first, again = _snapshot(Dataset(config)), _snapshot(Dataset(config))
    assert first == again
    assert Dataset(config).ground_truth() == Dataset(config).ground_truth()
    other = _snapshot(Dataset(GeneratorConfig(seed=6, accounts=60, defects=True, leads=30)))
    assert other != first
    names = {r["Name"] for r in first[0][2]}
    assert len(names & {r["Name"] for r in other[0][2]}) < len(names) // 2


def test_counts_are_exact(ds: Dataset, sf: dict[str, list[dict[str, Any]]],
                          erp: dict[str, list[dict[str, Any]]]) -> None:
    for obj, rows in sf.items():
        assert len(rows) == ds.count_salesforce(obj), obj
    for table, rows in erp.items():
        assert len(rows) == ds.count_erp(table), table
    cfg = ds.config
    assert ds.count_salesforce("Contact") == cfg.accounts * cfg.contacts_per_account + ds.plan.sf_delta("Contact")
    assert len(erp["customers"]) == cfg.erp_customers + ds.plan.erp_delta("customers")


def test_rows_match_describe(ds: Dataset, sf: dict[str, list[dict[str, Any]]]) -> None:
    for obj, rows in sf.items():
        sobject = ds.objects[obj]
        stored = [f.name for f in sobject.stored_fields]
        for row in rows:
            assert list(row) == stored, obj
            assert is_valid_id(row["Id"]) and len(row["Id"]) == 18 and row["Id"][:3] == sobject.key_prefix
            for name in sobject.required_fields:
                assert row[name] not in (None, ""), (obj, name)
        for f in sobject.stored_fields:
            values = [r[f.name] for r in rows if r[f.name] is not None]
            if f.type == "datetime":
                assert all(SF_DATETIME.match(v) for v in values), (obj, f.name)
            elif f.type == "date":
                assert all(SF_DATE.match(v) for v in values), (obj, f.name)
            elif f.type in ("currency", "double", "percent", "int"):
                assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values), (obj, f.name)
            elif f.type == "boolean":
                assert all(isinstance(r[f.name], bool) for r in rows), (obj, f.name)
            elif f.type in ("string", "textarea", "email", "phone", "url", "picklist") and f.length:
                assert all(isinstance(v, str) and len(v) <= f.length for v in values), (obj, f.name)
    # Fixed-width UTC text orders like the instants: created <= modified <= SystemModstamp.
    for rows in sf.values():
        for row in rows:
            assert row["CreatedDate"] <= row["LastModifiedDate"] <= row["SystemModstamp"]


def test_ids_and_external_ids_unique(sf: dict[str, list[dict[str, Any]]], erp: dict[str, list[dict[str, Any]]]) -> None:
    all_ids = [r["Id"] for rows in sf.values() for r in rows]
    assert len(all_ids) == len(set(all_ids)) == len({i.lower() for i in all_ids})
    for obj, field in (("Account", "ERP_Customer_No__c"), ("Contact", "ERP_Contact_No__c"),
                       ("Opportunity", "ERP_Order_No__c"), ("User", "Username")):
        values = [r[field] for r in sf[obj] if r[field] is not None]
        assert values and len(values) == len(set(values)), field
    for table, key in (("customers", "cust_no"), ("contacts", "contact_no"), ("orders", "order_no"),
                       ("invoices", "invoice_no"), ("employees", "emp_code")):
        keys = [r[key] for r in erp[table]]
        assert len(keys) == len(set(keys)), table


def _orphan_values(truth: dict[str, Any]) -> set[Any]:
    out = set()
    for d in truth["defects"]:
        if d["code"] == "orphan_reference":
            out |= {v for values in d["values"].values() for v in values.values()}
    return out


def test_salesforce_references_resolve_except_injected_orphans(sf: dict[str, list[dict[str, Any]]],
                                                               truth: dict[str, Any]) -> None:
    ids = {r["Id"] for rows in sf.values() for r in rows}
    orphans = _orphan_values(truth)
    queue_owned = {d["keys"]["salesforce"] for d in truth["defects"] if d["code"] == "queue_owner"}
    dangling = Counter()
    for obj, rows in sf.items():
        for row in rows:
            for field in REFERENCES:
                value = row.get(field)
                if value is None or field not in row:
                    continue
                target = object_for_id(value)
                if target is None:
                    continue
                allowed = OBJECTS[obj].field(field).reference_to
                assert target in allowed or row["Id"] in queue_owned, (obj, field, target)
                if value not in ids:
                    assert value in orphans, (obj, row["Id"], field)
                    dangling[(obj, field)] += 1
    assert sum(dangling.values()) == len([v for v in orphans if isinstance(v, str) and is_valid_id(v)])
    assert {("Contact", "AccountId"), ("Opportunity", "AccountId"), ("Task", "WhoId")} <= set(dangling)


def test_task_and_event_links_are_consistent(sf: dict[str, list[dict[str, Any]]], truth: dict[str, Any]) -> None:
    orphans = _orphan_values(truth)
    contacts = {r["Id"]: r for r in sf["Contact"] if r["AccountId"] not in orphans}
    opportunities = {r["Id"]: r for r in sf["Opportunity"]}
    for row in sf["Task"] + sf["Event"]:
        if row["WhatId"] and row["WhatId"].startswith("006"):
            assert opportunities[row["WhatId"]]["AccountId"] == row["AccountId"]
        elif row["WhatId"]:
            assert row["WhatId"] == row["AccountId"]
        who = contacts.get(row["WhoId"] or "")
        if who is not None and not who["IsDeleted"]:
            assert who["AccountId"] == row["AccountId"]


def test_erp_references_resolve_except_injected_orphans(erp: dict[str, list[dict[str, Any]]],
                                                        truth: dict[str, Any]) -> None:
    customers = {r["cust_no"] for r in erp["customers"]}
    orders = {r["order_no"] for r in erp["orders"]}
    employees = {r["emp_code"] for r in erp["employees"]}
    assert all(r["cust_no"] in customers for r in erp["contacts"] + erp["orders"] + erp["invoices"])
    assert all(r["order_no"] in orders for r in erp["invoices"])
    bad_reps = {r["sales_rep"] for r in erp["customers"] + erp["orders"] if r["sales_rep"] not in employees}
    assert bad_reps and bad_reps <= _orphan_values(truth)


def test_erp_values_follow_erp_conventions(erp: dict[str, list[dict[str, Any]]], truth: dict[str, Any]) -> None:
    drift = {v for d in truth["defects"] if d["code"] == "picklist_drift" for vals in d["values"].values()
             for v in vals.values()}
    for row in erp["customers"]:
        assert row["sector"] in SECTORS or row["sector"] in drift
        assert row["deleted_flag"] in ("Y", "N") and row["status"] in ("A", "I", "B")
        assert isinstance(row["credit_limit"], Decimal) and row["credit_limit"].as_tuple().exponent == -2
        assert isinstance(row["changed_ts"], datetime) and row["changed_ts"].tzinfo is None
    for row in erp["orders"]:
        assert row["status"] in ORDER_STATUS or row["status"] in drift
        assert isinstance(row["order_date"], date) and isinstance(row["net_amount"], Decimal)
    for row in erp["invoices"]:
        assert row["gross_amount"] >= Decimal(0) and row["due_date"] > row["invoice_date"]
    assert {len(r["sf_account_id"]) for r in erp["customers"] if r["sf_account_id"]} == {15, 18}
    assert Counter(r["country"] for r in erp["customers"]).most_common(1)[0][0] == "ES"


def test_restricted_picklists_hold_active_values_except_drift(ds: Dataset, sf: dict[str, list[dict[str, Any]]],
                                                              truth: dict[str, Any]) -> None:
    drift_ids = {d["keys"]["salesforce"] for d in truth["defects"]
                 if d["code"] == "picklist_drift" and "salesforce" in d["keys"]}
    seen_drift = set()
    for obj, rows in sf.items():
        for f in ds.objects[obj].fields:
            if f.type != "picklist":
                continue
            allowed = set(f.active_values)
            for row in rows:
                value = row.get(f.name)
                if value is not None and value not in allowed:
                    assert row["Id"] in drift_ids, (obj, f.name, value)
                    seen_drift.add(row["Id"])
    assert seen_drift == drift_ids


def test_phone_numbers_are_valid_for_libphonenumber(sf: dict[str, list[dict[str, Any]]],
                                                    truth: dict[str, Any]) -> None:
    invalid = {d["keys"].get("salesforce") for d in truth["defects"] if d["code"] == "invalid_value"}
    checked = Counter()
    regions = {c.name: c.code for c in wd.COUNTRIES}
    for obj, fields, country in (("Account", ("Phone",), "BillingCountry"), ("Lead", ("Phone",), "Country"),
                                 ("Contact", ("Phone", "MobilePhone"), "MailingCountry")):
        for row in sf[obj]:
            for field in fields:
                if row[field] is None or row["Id"] in invalid:
                    continue
                number = phonenumbers.parse(row[field], regions[row[country]])
                assert phonenumbers.is_valid_number(number), row[field]
                checked[phonenumbers.region_code_for_number(number)] += 1
                assert phonenumbers.region_code_for_number(number) == regions[row[country]]
    assert set(checked) == {"ES", "DE", "FR", "GB", "US", "IT", "NL"}
    assert any(not r["Phone"].startswith("+") for r in sf["Lead"] if r["Phone"] and r["Id"] not in invalid)


def test_vat_check_digits_match_published_examples() -> None:
    assert _de_check("13669597") == "6"  # DE136695976
    assert _it_check("0074311015") == "7"  # IT00743110157
    assert _es_check("1234567") == "4"  # B12345674
    ds = Dataset(GeneratorConfig(accounts=200))
    vats = [r["VAT_Number__c"] for r in ds.iter_salesforce("Account") if r["VAT_Number__c"]]
    fr = [v for v in vats if v.startswith("FR")]
    assert fr and all(int(v[2:4]) == (12 + 3 * (int(v[4:]) % 97)) % 97 for v in fr)
    de = [v for v in vats if v.startswith("DE")]
    assert de and all(_de_check(v[2:10]) == v[10] for v in de)


def test_names_and_emails_are_unique_and_derived(sf: dict[str, list[dict[str, Any]]]) -> None:
    accounts = [r for r in sf["Account"] if r["ERP_Customer_No__c"] or r["Type"] == "Prospect"]
    names = Counter(r["Name"] for r in accounts)
    assert names.most_common(1)[0][1] == 1
    live = [r for r in sf["Contact"] if r["ERP_Contact_No__c"] or r["AccountId"]]
    emails = Counter(r["Email"].lower() for r in live)
    duplicates = {e for e, n in emails.items() if n > 1}
    assert len(duplicates) <= 2  # only the injected duplicate contacts share an address
    sample = live[0]
    assert sample["Email"].split("@")[0].startswith(sample["FirstName"].lower()[:1])


def test_shared_modstamp_block_straddles_a_page(ds: Dataset, sf: dict[str, list[dict[str, Any]]],
                                                truth: dict[str, Any]) -> None:
    for obj in ("Account", "Contact", "Task"):
        block = truth["shared_modstamp"][obj]
        assert block["straddles"] and block["start"] < block["boundary"] < block["start"] + block["count"]
        ordered = sorted(sf[obj], key=lambda r: (r["SystemModstamp"], r["Id"]))
        window = ordered[block["start"]: block["start"] + block["count"]]
        assert {r["SystemModstamp"] for r in window} == {block["stamp"]}
        assert ordered[block["start"] - 1]["SystemModstamp"] < block["stamp"]
        if block["start"] + block["count"] < len(ordered):
            assert ordered[block["start"] + block["count"]]["SystemModstamp"] > block["stamp"]
    assert "Group" not in truth["shared_modstamp"]  # fewer rows than the block


def test_config_validation_and_small_configs() -> None:
    with pytest.raises(ValueError):
        GeneratorConfig(orders_per_customer=3, opportunities_per_account=2)
    with pytest.raises(ValueError):
        GeneratorConfig(erp_overlap=0)
    with pytest.raises(ValueError):
        Dataset(GeneratorConfig(accounts=10, defects=True))
    tiny = Dataset(GeneratorConfig(accounts=1, contacts_per_account=0, leads=0, queues=0))
    assert [len(list(tiny.iter_salesforce(o))) for o in ("Account", "Contact", "Lead", "Group")] == [1, 0, 0, 0]
    assert set(CODES) == {d["code"] for d in Dataset(GeneratorConfig(accounts=150, defects=True)).ground_truth()[
        "defects"]}


_MEMORY_PROBE = """
import resource, sys
from connectors.testdata import Dataset, GeneratorConfig
ds = Dataset(GeneratorConfig(seed=3, accounts=30_000, contacts_per_account=10, defects=True))
rows = ds.iter_salesforce("Contact")
warm = sum(1 for _, _ in zip(range(2_000), rows))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = warm + sum(1 for _ in rows)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, ds.count_salesforce("Contact"), (after - before) * 1024)
"""


@pytest.mark.slow
def test_streaming_memory_stays_flat() -> None:
    """300,000 Contacts in flat memory. Measured as the growth of the peak RSS in a fresh interpreter
    (tracemalloc would slow generation tenfold); holding the rows would need well over 1 GB."""
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE], capture_output=True, text=True, check=True,
                         timeout=300)
    count, expected, growth = (int(x) for x in out.stdout.split())
    assert count == expected and count >= 300_000
    assert growth < 50 * 1024 * 1024, growth


def test_slices_of_a_stream_agree_with_a_fresh_dataset() -> None:
    ds = Dataset(GeneratorConfig(seed=3, accounts=2_000, contacts_per_account=10, defects=True))
    head = list(itertools.islice(ds.iter_salesforce("Contact"), 5))
    assert head == list(itertools.islice(Dataset(ds.config).iter_salesforce("Contact"), 5))
