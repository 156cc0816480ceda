"""The connector against a mocked org (requests-mock): paging, cursors, faults, budget, Bulk, writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
import pytest
import requests

from connectors.base import Batch, Cursor
from connectors.errors import AuthenticationError, BudgetExhaustedError
from connectors.salesforce import objects
from connectors.salesforce.connector import SalesforceConnector

Make = Callable[..., SalesforceConnector]
NEXT = "/services/data/v62.0/query/01gQL-2"


def _q(request: Any) -> str:
    return parse_qs(urlparse(request.url).query)["q"][0]


def _read(connector: SalesforceConnector, cursor: Cursor | None = None, **kw: Any) -> list[Batch]:
    return list(connector.read("Contact", cursor, **kw))


def _ids(batches: list[Batch]) -> list[str]:
    return [r["Id"] for b in batches for r in b.records]


def test_pages_share_a_stamp_across_the_boundary_and_resume_without_loss_or_repeat(
        org: Any, make_connector: Make) -> None:
    first = [org.contact(1, 1), org.contact(2, 2), org.contact(3, 2)]
    second = [org.contact(4, 2), {**org.contact(5, 3, deleted=True), "MasterRecordId": org.contact(4, 0)["Id"]},
              org.contact(6, 4)]
    org.mock.get(f"{org.DATA}queryAll/", json=org.page(first, NEXT))
    org.mock.get(org.INSTANCE + NEXT, json=org.page(second))
    connector = make_connector(batch_size=3, page_size=200)
    batches = _read(connector)
    assert _ids(batches) == [org.contact(n, 0)["Id"] for n in (1, 2, 3, 4, 6)]
    assert batches[1].tombstones == [org.contact(5, 0)["Id"]]
    # The deleted row keeps its fields for reconciliation: a merge loser names its master.
    assert [r["MasterRecordId"] for r in batches[1].deleted_records] == [org.contact(4, 0)["Id"]]
    assert all("attributes" not in r for b in batches for r in b.records)
    boundary = batches[0].cursor
    assert boundary is not None and boundary.value is not None
    assert boundary.value.isoformat() == "2024-01-01T00:00:02+00:00"
    assert set(boundary.seen_keys) == {org.contact(2, 0)["Id"], org.contact(3, 0)["Id"]}
    statement = _q(org.requests("queryAll/")[0])
    assert "SystemModstamp < 2024-06-01T12:00:00.000Z" in statement  # never past the run's start
    assert statement.endswith("ORDER BY SystemModstamp ASC, Id ASC")
    assert org.requests("queryAll/")[0].headers["Sforce-Query-Options"] == "batchSize=200"

    # Resuming from the first batch's cursor: closed lower bound, the two Ids already seen are skipped.
    org.mock.get(f"{org.DATA}queryAll/", json=org.page([org.contact(2, 2), org.contact(3, 2), *second]))
    rest = _read(make_connector(), boundary)
    assert _ids(rest) == [org.contact(n, 0)["Id"] for n in (4, 6)]
    assert "SystemModstamp >= 2024-01-01T00:00:02.000Z" in _q(org.requests("queryAll/")[-1])
    assert rest[-1].cursor is not None and rest[-1].cursor.seen_keys == (org.contact(6, 0)["Id"],)


def test_a_failed_page_is_fetched_again_and_never_restarts_the_query(org: Any, make_connector: Make) -> None:
    org.mock.get(f"{org.DATA}queryAll/", json=org.page([org.contact(1, 1)], NEXT))
    org.mock.get(org.INSTANCE + NEXT, [
        {"status_code": 503, "json": [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}]},
        {"status_code": 403, "json": [{"errorCode": "REQUEST_LIMIT_EXCEEDED",
                                       "message": "ConcurrentPerOrgLongTxn Limit exceeded"}]},
        {"exc": requests.exceptions.ConnectionError("connection reset by peer")},
        {"status_code": 401, "json": [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired"}]},
        {"json": org.page([org.contact(2, 2)])},
    ])
    connector = make_connector()
    assert _ids(_read(connector)) == [org.contact(1, 0)["Id"], org.contact(2, 0)["Id"]]
    assert len(org.requests("queryAll/")) == 1
    assert connector.client.logins == 2  # INVALID_SESSION_ID re-ran the OAuth flow


def test_a_session_that_expires_twice_in_a_row_is_an_authentication_error(org: Any, make_connector: Make) -> None:
    org.mock.get(f"{org.DATA}queryAll/", status_code=401,
                 json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}])
    with pytest.raises(AuthenticationError):
        _read(make_connector())


def test_reading_stops_cleanly_once_the_budget_share_is_passed(org: Any, make_connector: Make) -> None:
    org.mock.get(f"{org.DATA}queryAll/", json=org.page([org.contact(1, 1)], NEXT),
                 headers={"Sforce-Limit-Info": "api-usage=91/100"})
    org.mock.get(org.INSTANCE + NEXT, json=org.page([org.contact(2, 2)]))
    batches = make_connector().read("Contact")
    first = next(batches)
    assert [r["Id"] for r in first.records] == [org.contact(1, 0)["Id"]] and first.cursor is not None
    with pytest.raises(BudgetExhaustedError) as caught:
        next(batches)
    assert caught.value.used == 91 and caught.value.limit == 100
    assert not any(r.url.startswith(org.INSTANCE + NEXT) for r in org.mock.request_history)


def test_daily_limit_from_the_server_is_budget_exhausted(org: Any, make_connector: Make) -> None:
    org.mock.get(f"{org.DATA}queryAll/", status_code=403,
                 json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}])
    with pytest.raises(BudgetExhaustedError):
        _read(make_connector())


def test_query_timeout_splits_the_window_into_halves(org: Any, make_connector: Make) -> None:
    def answer(request: Any, context: Any) -> Any:
        if "2024-05-01T12:00:00.000Z AND SystemModstamp < 2024-06-01T12:00:00.000Z" in _q(request):
            context.status_code = 400
            return [{"errorCode": "QUERY_TIMEOUT", "message": "Your query request was running for too long."}]
        return org.page([])
    org.mock.get(f"{org.DATA}queryAll/", json=answer)
    cursor = Cursor(value=org.NOW - timedelta(days=31))
    assert _read(make_connector(), cursor) == []
    statements = [_q(r) for r in org.requests("queryAll/")]
    assert len(statements) == 3
    assert "SystemModstamp >= 2024-05-01T12:00:00.000Z AND SystemModstamp < 2024-05-17T00:00:00.000Z" in statements[1]
    assert "SystemModstamp >= 2024-05-17T00:00:00.000Z AND SystemModstamp < 2024-06-01T12:00:00.000Z" in statements[2]


def test_windows_and_lookback(org: Any, make_connector: Make) -> None:
    org.mock.get(f"{org.DATA}queryAll/", json=org.page([]))
    cursor = Cursor(value=org.NOW - timedelta(days=2, minutes=-10))
    _read(make_connector(window="P1D", lookback="PT10M"), cursor)
    statements = [_q(r) for r in org.requests("queryAll/")]
    assert len(statements) == 2
    assert "SystemModstamp >= 2024-05-30T12:00:00.000Z AND SystemModstamp < 2024-05-31T12:00:00.000Z" in statements[0]
    # The first window held nothing: one LIMIT 1 query finds there is nothing further, no window per day.
    assert statements[1].startswith("SELECT SystemModstamp FROM Contact WHERE SystemModstamp >= 2024-05-31T12")
    assert statements[1].endswith("LIMIT 1")


def _bulk_org(org: Any, pages: list[tuple[str, str | None]]) -> None:
    org.mock.get(f"{org.DATA}queryAll/", json={"totalSize": 70_000, "done": True, "records": []})
    org.mock.post(f"{org.DATA}jobs/query", json={"id": "750J", "state": "UploadComplete"})
    org.mock.get(f"{org.DATA}jobs/query/750J", [{"json": {"id": "750J", "state": "InProgress"}},
                                                {"json": {"id": "750J", "state": "JobComplete"}}])
    org.mock.get(f"{org.DATA}jobs/query/750J/results", [
        {"text": text, "headers": {"Sforce-Locator": locator or "null", "Sforce-NumberOfRecords": "2"}}
        for text, locator in pages])
    org.mock.delete(f"{org.DATA}jobs/query/750J", status_code=204)


def test_bulk_window_reads_pages_by_locator_and_ends_at_its_highest_stamp(org: Any, make_connector: Make) -> None:
    header = '"Id","IsDeleted","LastName","SystemModstamp"\n'
    row = '"{}","{}","L","2024-01-01T00:00:{:02d}.000Z"\n'
    ids = [objects.id_for("003", n) for n in range(5)]
    _bulk_org(org, [(header + row.format(ids[0], "false", 9) + row.format(ids[1], "false", 3), "LOC2"),
                    (header + row.format(ids[2], "true", 9) + row.format(ids[3], "false", 1), None)])
    connector = make_connector(bulk_read_threshold=50_000, batch_size=2)
    # Only the selected columns exist in this CSV: narrow the object's selection accordingly.
    shaped = connector.shape("Contact")
    object.__setattr__(shaped, "select", ("Id", "IsDeleted", "LastName", "SystemModstamp"))
    batches = _read(connector)
    assert _ids(batches) == [ids[0], ids[1], ids[3]] and batches[1].tombstones == [ids[2]]
    assert [(r["Id"], r["LastName"]) for r in batches[1].deleted_records] == [(ids[2], "L")]  # fields kept
    assert batches[0].records[0]["IsDeleted"] is False
    assert batches[0].cursor is not None and batches[0].cursor.extra["bulk"]["job"] == "750J"
    final = batches[-1].cursor
    assert final is not None and final.extra == {} and set(final.seen_keys) == {ids[0], ids[2]}
    assert final.value is not None and final.value.second == 9
    created = orjson.loads(org.mock.request_history[[r.method for r in org.mock.request_history].index("POST", 1)].body)
    assert created["operation"] == "queryAll" and "ORDER BY" not in created["query"]
    locators = [parse_qs(urlparse(r.url).query).get("locator") for r in org.requests("jobs/query/750J/results")]
    assert locators == [None, ["LOC2"]]
    assert any(r.method == "DELETE" for r in org.requests("jobs/query/750J"))


def test_collections_upsert_maps_results_retries_row_locks_and_bisects(org: Any, make_connector: Make) -> None:
    records = [{"ERP_Contact_No__c": f"E{i}", "LastName": f"L{i}"} for i in range(250)]
    calls: list[list[str]] = []

    def answer(request: Any, context: Any) -> Any:
        sent = [r["ERP_Contact_No__c"] for r in orjson.loads(request.body)["records"]]
        calls.append(sent)
        if "E7" in sent:
            context.status_code = 400
            return [{"errorCode": "JSON_PARSER_ERROR", "message": "bad value"}]
        locked = len(calls) == 1
        return [_item(key, locked) for key in sent]

    org.mock.patch(f"{org.DATA}composite/sobjects/Contact/ERP_Contact_No__c", json=answer)
    result = make_connector(bulk_write_threshold=10_000).write("Contact", records)
    assert [r.index for r in result.results] == list(range(250))
    by_key = {records[r.index]["ERP_Contact_No__c"]: r for r in result.results}
    assert by_key["E7"].error is not None and by_key["E7"].error.code == "JSON_PARSER_ERROR"
    assert by_key["E3"].error is not None and by_key["E3"].error.code == "REQUIRED_FIELD_MISSING"
    assert by_key["E3"].error.fields == ("LastName",) and by_key["E3"].error.key == "E3"
    assert by_key["E5"].ok and by_key["E5"].created is True and by_key["E5"].key == "003E5"
    assert by_key["E4"].ok and by_key["E4"].created is False
    assert by_key["E1"].ok  # lost a row lock on the first call, sent again
    assert max(len(c) for c in calls) == 200


def _item(key: str, locked: bool) -> dict[str, Any]:
    number = int(key[1:])
    if number == 3:
        return {"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                                              "message": "Required fields are missing: [LastName]",
                                              "fields": ["LastName"]}]}
    if number == 1 and locked:
        return {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}]}
    return {"id": f"003{key}", "success": True, "errors": [], "created": number % 2 == 1}


def test_bulk_ingest_maps_result_rows_back_by_external_id(org: Any, make_connector: Make) -> None:
    records = [{"ERP_Contact_No__c": "A", "LastName": "a"}, {"ERP_Contact_No__c": "B", "LastName": None},
               {"ERP_Contact_No__c": "A", "LastName": "dup"}, {"ERP_Contact_No__c": "C", "LastName": "c"}]
    org.mock.post(f"{org.DATA}jobs/ingest", json={"id": "750I", "state": "Open"})
    org.mock.put(f"{org.DATA}jobs/ingest/750I/batches", status_code=201)
    org.mock.patch(f"{org.DATA}jobs/ingest/750I", json={"id": "750I", "state": "UploadComplete"})
    org.mock.get(f"{org.DATA}jobs/ingest/750I", json={"id": "750I", "state": "JobComplete"})
    org.mock.get(f"{org.DATA}jobs/ingest/750I/successfulResults",
                 text='"sf__Id","sf__Created","ERP_Contact_No__c","LastName"\n"003C","true","C","c"\n')
    org.mock.get(f"{org.DATA}jobs/ingest/750I/failedResults", text=(
        '"sf__Id","sf__Error","ERP_Contact_No__c","LastName"\n'
        '"","DUPLICATE_EXTERNAL_ID:A duplicates another row:ERP_Contact_No__c --","A","a"\n'
        '"","DUPLICATE_EXTERNAL_ID:A duplicates another row:ERP_Contact_No__c --","A","dup"\n'
        '"","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --","B","#N/A"\n'))
    org.mock.get(f"{org.DATA}jobs/ingest/750I/unprocessedrecords", text='"ERP_Contact_No__c","LastName"\n')
    result = make_connector(bulk_write_threshold=2).write("Contact", records)
    codes = [r.error.code if r.error else None for r in result.results]
    assert codes == ["DUPLICATE_EXTERNAL_ID", "REQUIRED_FIELD_MISSING", "DUPLICATE_EXTERNAL_ID", None]
    assert result.results[3].created is True and result.results[3].key == "003C"
    assert result.results[1].error is not None and result.results[1].error.fields == ("LastName",)
    uploaded = next(r for r in org.mock.request_history if r.method == "PUT").body
    assert b"B,#N/A" in uploaded


def test_deletes_in_chunks_of_200_and_already_deleted_is_success(org: Any, make_connector: Make) -> None:
    ids = [objects.id_for("003", i) for i in range(201)]

    def answer(request: Any, context: Any) -> Any:
        chunk = parse_qs(urlparse(request.url).query)["ids"][0].split(",")
        assert parse_qs(urlparse(request.url).query)["allOrNone"] == ["false"]
        return [{"id": i, "success": i != ids[0], "errors": [] if i != ids[0] else
                 [{"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted"}]} for i in chunk]

    org.mock.delete(f"{org.DATA}composite/sobjects", json=answer)
    result = make_connector().write("Contact", [], deletes=ids)
    assert len(result.deleted) == 201 and all(r.ok for r in result.deleted)
    assert len(org.requests("composite/sobjects")) == 2


def test_discover_and_check(org: Any, make_connector: Make) -> None:
    org.mock.get(f"{org.DATA}limits/", json={"DailyApiRequests": {"Max": 15000, "Remaining": 14000}})
    connector = make_connector(objects=["Contact", "Account"])
    names = [s.name for s in connector.discover()]
    assert names == ["Contact", "Account"]
    report = connector.check()
    assert report.ok and [i.name for i in report.items] == ["login", "object Contact", "object Account", "api budget"]
    everything = make_connector()
    assert [i.reason for i in everything.check().items if i.name == "objects"] == ["8 queryable objects"]
    assert {s.name for s in everything.discover()} == {"Account", "Contact", "Lead", "Opportunity", "Task", "Event",
                                                        "User", "Group"}


def test_deletes_by_external_id_are_looked_up_first(org: Any, make_connector: Make) -> None:
    known = objects.id_for("003", 9)
    org.mock.get(f"{org.DATA}query/", json=org.page([{"attributes": {}, "Id": known, "ERP_Contact_No__c": "E9"}]))
    org.mock.delete(f"{org.DATA}composite/sobjects", json=[{"id": known, "success": True, "errors": []}])
    result = make_connector().write("Contact", [], deletes=["E9", "E-gone"])
    assert [(r.key, r.ok) for r in result.deleted] == [(known, True), ("E-gone", True)]
    statement = _q(org.requests("query/")[0])
    assert statement == "SELECT Id, ERP_Contact_No__c FROM Contact WHERE ERP_Contact_No__c IN ('E-gone','E9')"
    assert parse_qs(urlparse(org.requests("composite/sobjects")[0].url).query)["ids"] == [known]


def test_query_timeout_after_some_pages_splits_only_what_is_left(org: Any, make_connector: Make) -> None:
    def answer(request: Any, context: Any) -> Any:
        statement = _q(request)
        if "SystemModstamp >= 2023-12-31T00:00:00.000Z" in statement:
            return org.page([org.contact(1, 1), org.contact(2, 2)], NEXT)
        if "SystemModstamp >= 2024-01-01T00:00:02.000Z" in statement:
            return org.page([org.contact(2, 2), org.contact(3, 3)])
        return org.page([])

    org.mock.get(f"{org.DATA}queryAll/", json=answer)
    org.mock.get(org.INSTANCE + NEXT, status_code=400,
                 json=[{"errorCode": "QUERY_TIMEOUT", "message": "Your query request was running for too long."}])
    start = org.NOW.replace(year=2023, month=12, day=31, hour=0)
    ids = _ids(_read(make_connector(), Cursor(value=start)))
    assert ids == [org.contact(n, 0)["Id"] for n in (1, 2, 3)]
    lowers = [_q(r).split("SystemModstamp >= ")[1][:24] for r in org.requests("queryAll/")]
    assert lowers[0] == "2023-12-31T00:00:00.000Z" and lowers[1] == "2024-01-01T00:00:02.000Z"
