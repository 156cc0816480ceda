"""Writes against the local sandbox: upserts with rejected rows, idempotent replays, deletes; the contract suite."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from connectors.contract import ContractCase, connector_contract
from connectors.retry import RetryPolicy
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.connector import SalesforceConnector

VOLATILE = {"SystemModstamp", "LastModifiedDate", "LastModifiedById"}
EXPECTED = {  # what the org answers for each kind of bad row
    "missing": "REQUIRED_FIELD_MISSING", "too_long": "STRING_TOO_LONG",
    "picklist": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "duplicate": "DUPLICATE_EXTERNAL_ID",
}


def _mapped(count: int) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """``count`` mapped Contacts, 1% of them bad in one of four ways (index -> kind)."""
    records, bad = [], {}
    for n in range(count):
        record = {"ERP_Contact_No__c": f"E{n:07d}", "LastName": f"Last{n}", "FirstName": f"First{n}",
                  "Email": f"e{n}@example.com", "MailingCity": "Madrid", "MailingGeocodeAccuracy": "City",
                  "DoNotCall": n % 3 == 0, "Title": None}
        if n % 100 == 50:
            kind = ("missing", "too_long", "picklist", "duplicate")[(n // 100) % 4]
            bad[n] = kind
            if kind == "missing":
                record["LastName"] = None
            elif kind == "too_long":
                record["LastName"] = "x" * 81
            elif kind == "picklist":
                record["MailingGeocodeAccuracy"] = "Somewhere"
            else:
                record["ERP_Contact_No__c"] = f"D{n:07d}"  # two Contacts already carry this external id
        records.append(record)
    return records, bad


def _seed_duplicates(live: Any, bad: dict[int, str]) -> None:
    pairs = [n for n, kind in bad.items() if kind == "duplicate"]
    rows = live.contacts(range(900_000, 900_000 + 2 * len(pairs)), lambda n: "2024-01-01T00:00:00.000+0000")
    for row, n in zip(rows, [n for n in pairs for _ in range(2)], strict=True):
        row["ERP_Contact_No__c"] = f"D{n:07d}"
    live.sb.insert_rows("Contact", rows)


def _by_ext(live: Any) -> dict[str, dict[str, Any]]:
    return {r["ERP_Contact_No__c"]: r for r in live.sb.rows("Contact") if r["ERP_Contact_No__c"]}


@pytest.mark.parametrize(("count", "bulk_threshold"), [(10_000, 5_000), (1_000, 100_000)], ids=["bulk", "collections"])
def test_upsert_lands_valid_rows_reports_bad_ones_and_replays_without_change(live: Any, count: int,
                                                                            bulk_threshold: int) -> None:
    records, bad = _mapped(count)
    _seed_duplicates(live, bad)
    connector = live.connector(bulk_write_threshold=bulk_threshold)
    result = connector.write("Contact", records)
    assert [r.index for r in result.results] == list(range(count))
    for index, kind in bad.items():
        error = result.results[index].error
        assert error is not None and error.code == EXPECTED[kind], (kind, error)
        assert error.key == records[index]["ERP_Contact_No__c"] and error.payload == records[index]
    good = [r for r in result.results if r.index not in bad]
    assert all(r.ok and r.created is True and r.key for r in good)
    stored = _by_ext(live)
    for r in good:
        sent, row = records[r.index], stored[records[r.index]["ERP_Contact_No__c"]]
        assert row["Id"] == r.key and row["LastName"] == sent["LastName"] and row["Email"] == sent["Email"]
        assert bool(row["DoNotCall"]) == sent["DoNotCall"]
    assert not any(records[n]["ERP_Contact_No__c"] in stored for n, kind in bad.items() if kind != "duplicate")

    before = {k: {f: v for f, v in row.items() if f not in VOLATILE} for k, row in stored.items()}
    again = live.connector(bulk_write_threshold=bulk_threshold).write("Contact", records)
    assert [r.error.code if r.error else None for r in again.results] == [
        EXPECTED[bad[i]] if i in bad else None for i in range(count)]
    assert not any(r.created for r in again.results)
    after = {k: {f: v for f, v in row.items() if f not in VOLATILE} for k, row in _by_ext(live).items()}
    assert after == before


def test_deletes_by_id_and_by_external_id(live: Any) -> None:
    records = [{"ERP_Contact_No__c": f"X{n}", "LastName": f"L{n}"} for n in range(5)]
    connector = live.connector()
    created = connector.write("Contact", records).results
    result = connector.write("Contact", [], deletes=[created[0].key, "X1", "X-unknown", created[0].key])
    assert [r.ok for r in result.deleted] == [True, True, True, True]
    deleted = {r["Id"] for r in live.sb.rows("Contact") if r["IsDeleted"]}
    assert deleted == {created[0].key, created[1].key}


# -- the shared contract suite, against a fresh sandbox per test ----------------------------------------


def make_case(tmp_path: Path) -> ContractCase:
    from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox, SandboxConfig

    sandbox = Sandbox(SandboxConfig(http_port=None, proxy_port=None, work_dir=tmp_path / "sandbox"))
    urls = sandbox.start()
    config = SalesforceConfig.model_validate({
        "auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET},
        "login_url": urls.https, "ca_bundle": str(urls.ca_path), "batch_size": 7, "bulk_read_threshold": None,
        "fields": {"Contact": ["LastName", "ERP_Contact_No__c"]}, "upsert_keys": {"Contact": "ERP_Contact_No__c"}})
    connector = SalesforceConnector(config, RetryPolicy(max_attempts=3, initial_wait=0.001, sleep=lambda _s: None))
    tag = uuid.uuid4().hex[:6]
    records = [{"ERP_Contact_No__c": f"K{tag}{n:03d}", "LastName": f"Person {n}"} for n in range(30)]
    return ContractCase(connector, "Contact", "ERP_Contact_No__c", records, cleanup=sandbox.stop)


TestSalesforceContract = connector_contract(make_case)
