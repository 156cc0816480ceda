"""Acceptance 3: a query cursor pages over the result as it stood when the query ran.

Thousands of Contacts share one SystemModstamp (the generator's shared block), the query orders by
that stamp, and between pages the test updates records not yet read (their stamp moves past the end),
inserts new matching records and deletes some: every record of the original result is seen exactly
once, and nothing written later leaks in. A live OFFSET or keyset pager would skip or repeat records here.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from simple_salesforce import format_soql

from connectors.salesforce.sandbox import Sandbox, SeedConfig

BLOCK = 2000


@pytest.fixture
def org() -> Iterator[Sandbox]:
    """A fresh org per test (the tests write)."""
    options = {"accounts": 1300, "contacts_per_account": 2, "opportunities_per_account": 0, "orders_per_customer": 0,
               "tasks_per_account": 0, "events_per_account": 0, "leads": 0, "users": 3,
               "shared_modstamp_block": BLOCK, "page_size": 2000}
    with Sandbox(seed=SeedConfig(seed=21, options=options)) as sb:
        yield sb


def shared_stamp(sb: Sandbox) -> str:
    stamp, count = Counter(r["SystemModstamp"] for r in sb.rows("Contact")).most_common(1)[0]
    assert count >= BLOCK  # thousands of records really share one stamp
    return stamp


def as_datetime(stored: str) -> datetime:
    return datetime.fromisoformat(stored)


def test_rest_pages_see_each_record_exactly_once_despite_writes(org: Sandbox, make_api: Any) -> None:
    api = make_api(org)
    stamp = shared_stamp(org)
    expected = [r["Id"] for r in org.rows("Contact", include_deleted=False) if r["SystemModstamp"] >= stamp]
    soql = format_soql("SELECT Id, LastName, SystemModstamp FROM Contact WHERE SystemModstamp >= {} "
                       "ORDER BY SystemModstamp ASC", as_datetime(stamp))
    first = api.query(soql, headers={"Sforce-Query-Options": "batchSize=200"}).json()
    assert first["totalSize"] == len(expected) >= BLOCK
    seen = [r["Id"] for r in first["records"]]
    pending = [i for i in expected if i not in set(seen)]
    created, renamed, pages = [], {}, 1
    body = first
    while not body["done"]:
        # Writes between pages: update records not read yet (their stamp moves past everything), delete one,
        # and insert a record that matches the filter.
        for sfid in pending[-3:]:
            assert api.patch(f"/sobjects/Contact/{sfid}", json={"LastName": f"Renamed {pages}"}).status_code == 204
            renamed[sfid] = f"Renamed {pages}"
        assert api.delete(f"/sobjects/Contact/{pending[-4]}").status_code == 204
        created.append(api.post("/sobjects/Contact", json={"LastName": f"New {pages}"}).json()["id"])
        pending = pending[:-4]
        body = api.http.get(api.root + body["nextRecordsUrl"]).json()
        seen += [r["Id"] for r in body["records"]]
        for record in body["records"]:
            if record["Id"] in renamed:
                assert record["LastName"] == renamed[record["Id"]]  # current values, fixed membership
        pending = [i for i in pending if i not in {r["Id"] for r in body["records"]}]
        pages += 1
    assert pages >= BLOCK // 200
    assert sorted(seen) == sorted(expected)  # exactly once each: no skips, no repeats
    assert not set(created) & set(seen)


def test_bulk_results_are_fixed_when_the_job_runs(org: Sandbox, make_api: Any) -> None:
    api = make_api(org)
    stamp = shared_stamp(org)
    soql = format_soql("SELECT Id, LastName FROM Contact WHERE SystemModstamp >= {}", as_datetime(stamp))
    job = api.post("/jobs/query", json={"operation": "query", "query": soql}).json()
    expected = {r["Id"]: r["LastName"] for r in org.rows("Contact", include_deleted=False)
                if r["SystemModstamp"] >= stamp}
    seen: list[dict[str, str]] = []
    locator = None
    while locator != "null":
        page = api.get(f"/jobs/query/{job['id']}/results", params={"maxRecords": 700, **(
            {"locator": locator} if locator else {})})
        rows = list(csv.DictReader(io.StringIO(page.text)))
        assert int(page.headers["Sforce-NumberOfRecords"]) == len(rows)
        seen += rows
        locator = page.headers["Sforce-Locator"]
        if seen and locator != "null":
            victim = next(i for i in expected if i not in {r["Id"] for r in seen})
            api.patch(f"/sobjects/Contact/{victim}", json={"LastName": "Changed later"})
    assert sorted(r["Id"] for r in seen) == sorted(expected)
    assert all(r["LastName"] == expected[r["Id"]] for r in seen)  # the file is the result as it stood


def test_query_all_sees_the_recycle_bin_and_get_deleted_lists_it(sandbox: Sandbox, make_api: Any) -> None:
    api = make_api(sandbox)
    ids = [api.post("/sobjects/Account", json={"Name": f"A{i}"}).json()["id"] for i in range(3)]
    assert api.delete(f"/sobjects/Account/{ids[1]}").status_code == 204
    live = api.query("SELECT Id FROM Account").json()
    everything = api.query("SELECT Id, IsDeleted FROM Account", all_rows=True).json()
    assert [r["Id"] for r in live["records"]] == [ids[0], ids[2]]
    assert [(r["Id"], r["IsDeleted"]) for r in everything["records"]] == [
        (ids[0], False), (ids[1], True), (ids[2], False)]
    [row] = [r for r in sandbox.rows("Account") if r["Id"] == ids[1]]
    assert row["IsDeleted"] == 1 and row["SystemModstamp"] >= row["CreatedDate"]
    window = {"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}
    deleted = api.get("/sobjects/Account/deleted/", params=window).json()
    assert [d["id"] for d in deleted["deletedRecords"]] == [ids[1]]
    updated = api.get("/sobjects/Account/updated/", params=window).json()
    assert sorted(updated["ids"]) == sorted([ids[0], ids[2]])


def test_expired_or_unknown_locator_is_invalid_query_locator(seeded_api: Any) -> None:
    response = seeded_api.get("/query/01g8d0000000999AAA-200")
    assert response.status_code == 400
    assert response.json() == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]


def test_batch_size_header_and_page_sizes(seeded_api: Any, seeded: Sandbox) -> None:
    total = len([r for r in seeded.rows("Contact") if not r["IsDeleted"]])
    body = seeded_api.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=50"}).json()
    assert len(body["records"]) == 200  # below the minimum: Salesforce uses 200
    assert body["nextRecordsUrl"].endswith("-200") and body["totalSize"] == total
    ids = [r["Id"] for r in body["records"]]
    while not body["done"]:
        body = seeded_api.http.get(seeded_api.root + body["nextRecordsUrl"]).json()
        ids += [r["Id"] for r in body["records"]]
    assert "nextRecordsUrl" not in body and len(ids) == len(set(ids)) == total


def test_parallel_bulk_export_equals_a_single_pass(tmp_path: Any, make_api: Any) -> None:
    """A file-backed org exports unordered queries with several workers over rowid ranges of one snapshot; the
    pages (cutting across the parts) hold exactly the rows a single ordered pass returns."""
    options = {"accounts": 150, "contacts_per_account": 2, "opportunities_per_account": 0, "orders_per_customer": 0,
               "tasks_per_account": 0, "events_per_account": 0, "leads": 0, "users": 2}
    with Sandbox(db=str(tmp_path / "org.db"), seed=SeedConfig(seed=4, options=options)) as sb:
        jobs = sb.context.bulk_query
        jobs.workers, jobs.parallel_min_rows = 3, 10
        api = make_api(sb)
        ids: dict[str, list[str]] = {}
        for query in ("SELECT Id, Email FROM Contact", "SELECT Id, Email FROM Contact ORDER BY Id"):
            job = api.post("/jobs/query", json={"operation": "queryAll", "query": query}).json()
            assert len(jobs.get(job["id"]).result.parts) == (3 if "ORDER" not in query else 1)
            locator, seen = None, []
            while locator != "null":
                page = api.get(f"/jobs/query/{job['id']}/results", params={"maxRecords": 70, **(
                    {"locator": locator} if locator else {})})
                seen += [r["Id"] for r in csv.DictReader(io.StringIO(page.text))]
                locator = page.headers["Sforce-Locator"]
            ids[query] = seen
        assert ids["SELECT Id, Email FROM Contact"] == ids["SELECT Id, Email FROM Contact ORDER BY Id"]
        assert len(ids["SELECT Id, Email FROM Contact"]) == len(sb.rows("Contact")) == 300
