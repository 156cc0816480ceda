"""Acceptance 1: unmodified simple-salesforce against the sandbox over HTTPS with the sandbox CA.

Logins go to the fixed ``https://login.salesforce.com`` (or a My Domain host) through the sandbox's
CONNECT proxy; direct sessions talk to the HTTPS listener. Every result is compared with the
sandbox's own rows.
"""

from __future__ import annotations

import csv
import io

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceMalformedRequest

from connectors.salesforce.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    Sandbox,
)


def direct(sb: Sandbox) -> Salesforce:
    """A direct session against the HTTPS listener, trusting the sandbox CA (no proxy)."""
    assert sb.urls is not None and sb.urls.https is not None
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sb.urls.ca_path)
    return Salesforce(instance_url=sb.urls.https, session_id=sb.session(), session=session)


def test_soap_login_through_the_proxy(via_proxy: Sandbox) -> None:
    sf = Salesforce(username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD, security_token=DEFAULT_SECURITY_TOKEN)
    sf.Account.create({"Name": "Soap Co"})
    assert sf.query("SELECT Name FROM Account")["records"][0]["Name"] == "Soap Co"
    assert via_proxy.proxy is not None and via_proxy.proxy.tunnels.get("login.salesforce.com") == 1


def test_oauth_password_and_client_credentials_through_the_proxy(via_proxy: Sandbox) -> None:
    by_password = Salesforce(username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD,
                             consumer_key=DEFAULT_CLIENT_ID, consumer_secret=DEFAULT_CLIENT_SECRET)
    by_client = Salesforce(consumer_key=DEFAULT_CLIENT_ID, consumer_secret=DEFAULT_CLIENT_SECRET,
                           domain="crmsync.my")
    by_password.Account.create({"Name": "Pw Co"})
    assert by_client.query("SELECT COUNT() FROM Account")["totalSize"] == 1
    tunnels = via_proxy.proxy.tunnels if via_proxy.proxy else {}
    assert tunnels.get("login.salesforce.com") == 1 and tunnels.get("crmsync.my.salesforce.com") == 1
    with pytest.raises(SalesforceAuthenticationFailed):
        Salesforce(consumer_key=DEFAULT_CLIENT_ID, consumer_secret="wrong", domain="crmsync.my")


def test_direct_session_query_all_pages_like_the_sandbox_rows(seeded: Sandbox) -> None:
    sf = direct(seeded)
    result = sf.query_all("SELECT Id, Name, Account.Name, IsDeleted FROM Contact")
    live = [r for r in seeded.rows("Contact") if not r["IsDeleted"]]
    assert result["totalSize"] == len(live) > 200  # more than one page of 200
    assert sorted(r["Id"] for r in result["records"]) == sorted(r["Id"] for r in live)
    names = {r["Id"]: r["Name"] for r in live}
    assert all(rec["Name"] == names[rec["Id"]] for rec in result["records"])
    everything = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)
    assert everything["totalSize"] == len(seeded.rows("Contact")) > len(live)
    assert sum(r["IsDeleted"] for r in everything["records"]) == len(seeded.rows("Contact")) - len(live)


def test_upsert_by_external_id(sandbox: Sandbox) -> None:
    sf = direct(sandbox)
    assert sf.Account.upsert("ERP_Customer_No__c/C-1", {"Name": "Acme"}) == 201
    assert sf.Account.upsert("ERP_Customer_No__c/C-1", {"Name": "Acme Corp"}) in (200, 204)
    record = sf.Account.get_by_custom_id("ERP_Customer_No__c", "C-1")
    assert record["Name"] == "Acme Corp"
    [row] = sandbox.rows("Account")
    assert row["Name"] == "Acme Corp" and row["ERP_Customer_No__c"] == "C-1" and row["Id"] == record["Id"]
    assert row["SystemModstamp"] >= row["CreatedDate"]


def test_composite_collections_create_update_upsert_delete(sandbox: Sandbox) -> None:
    sf = direct(sandbox)
    created = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "Name": f"A{i}", "ERP_Customer_No__c": f"E{i}"} for i in range(3)]})
    assert [r["success"] for r in created] == [True, True, True]
    ids = [r["id"] for r in created]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Account"}, "id": ids[0], "Name": "Renamed"}]})
    assert updated == [{"id": ids[0], "success": True, "errors": []}]
    upserted = sf.restful("composite/sobjects/Account/ERP_Customer_No__c", method="PATCH", json={"records": [
        {"attributes": {"type": "Account"}, "ERP_Customer_No__c": "E1", "Name": "Upd"},
        {"attributes": {"type": "Account"}, "ERP_Customer_No__c": "E9", "Name": "New"}]})
    assert [(r["success"], r["created"]) for r in upserted] == [(True, False), (True, True)]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids[2]})
    assert deleted == [{"id": ids[2], "success": True, "errors": []}]
    rows = {r["ERP_Customer_No__c"]: r for r in sandbox.rows("Account")}
    assert rows["E0"]["Name"] == "Renamed" and rows["E1"]["Name"] == "Upd" and rows["E9"]["Name"] == "New"
    assert rows["E2"]["IsDeleted"] == 1


def test_composite_all_or_none_rolls_back_everything(sandbox: Sandbox) -> None:
    sf = direct(sandbox)
    result = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "Name": "Fine"}, {"attributes": {"type": "Account"}}]})
    assert result[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert result[1]["errors"] == [{"statusCode": "REQUIRED_FIELD_MISSING",
                                    "message": "Required fields are missing: [Name]", "fields": ["Name"]}]
    assert sandbox.rows("Account") == []


def test_bulk2_query_pages_equal_the_sandbox_rows(seeded: Sandbox) -> None:
    sf = direct(seeded)
    pages = list(sf.bulk2.Contact.query_all("SELECT Id, LastName, AccountId, IsDeleted, SystemModstamp FROM Contact",
                                             max_records=150, wait=0.05))
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    truth = seeded.rows("Contact")
    assert len(pages) == -(-len(truth) // 150) > 1
    assert sorted(r["Id"] for r in rows) == sorted(r["Id"] for r in truth)
    by_id = {r["Id"]: r for r in truth}
    for row in rows:
        expected = by_id[row["Id"]]
        assert row["LastName"] == (expected["LastName"] or "")
        assert row["IsDeleted"] == ("true" if expected["IsDeleted"] else "false")
        assert row["SystemModstamp"] == expected["SystemModstamp"][:23] + "Z"


def test_bulk2_ingest_insert_and_upsert_with_results(sandbox: Sandbox, tmp_path: object) -> None:
    sf = direct(sandbox)
    [insert] = sf.bulk2.Account.insert(records=[{"Name": "B1", "ERP_Customer_No__c": "K1"},
                                                {"Name": "", "ERP_Customer_No__c": "K2"},
                                                {"Name": "B3", "ERP_Customer_No__c": "K3"}], wait=0.05)
    assert (insert["numberRecordsProcessed"], insert["numberRecordsFailed"]) == (3, 1)
    failed = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_failed_records(insert["job_id"]))))
    assert [f["ERP_Customer_No__c"] for f in failed] == ["K2"]
    assert failed[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]")
    ok = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_successful_records(insert["job_id"]))))
    assert {r["sf__Created"] for r in ok} == {"true"} and len(ok) == 2
    [upsert] = sf.bulk2.Account.upsert(records=[{"Name": "B1 updated", "ERP_Customer_No__c": "K1"},
                                                {"Name": "B4", "ERP_Customer_No__c": "K4"}],
                                       external_id_field="ERP_Customer_No__c", wait=0.05)
    assert upsert["numberRecordsFailed"] == 0
    names = sorted(r["Name"] for r in sandbox.rows("Account"))
    assert names == ["B1 updated", "B3", "B4"]


def test_bad_soql_raises_the_salesforce_error(sandbox: Sandbox) -> None:
    sf = direct(sandbox)
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FRM Account")
    assert err.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_bulk2_update_delete_and_unprocessed_records(sandbox: Sandbox) -> None:
    sf = direct(sandbox)
    created = sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Account"}, "Name": f"U{i}"} for i in range(3)]})
    ids = [r["id"] for r in created]
    [update] = sf.bulk2.Account.update(records=[{"Id": ids[0], "Name": "Updated"}], wait=0.05)
    [delete] = sf.bulk2.Account.delete(records=[{"Id": ids[1]}], wait=0.05)
    assert update["numberRecordsFailed"] == delete["numberRecordsFailed"] == 0
    rows = {r["Id"]: r for r in sandbox.rows("Account")}
    assert rows[ids[0]]["Name"] == "Updated" and rows[ids[1]]["IsDeleted"] == 1
    # An aborted job processes nothing: every uploaded row comes back as unprocessed.
    job = sf.bulk2.Account._client.create_job("insert")
    sf.bulk2.Account._client.upload_job_data(job["id"], "Name\nLeft\nBehind\n")
    sf.bulk2.Account._client.abort_job(job["id"], is_query=False)
    unprocessed = sf.bulk2.Account.get_unprocessed_records(job["id"])
    assert list(csv.DictReader(io.StringIO(unprocessed))) == [{"Name": "Left"}, {"Name": "Behind"}]
    assert len(sandbox.rows("Account")) == 3
