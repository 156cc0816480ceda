"""Reads against the local sandbox (in-process), faults on: every record exactly once, deletes as tombstones."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import Batch, Cursor, TimeWindow
from connectors.errors import BudgetExhaustedError
from connectors.salesforce import objects
from connectors.salesforce.connector import SalesforceConnector

BASE = datetime(2024, 3, 1, tzinfo=UTC)


def _stamp(n: int) -> str:
    # Seven records per millisecond: with pages of 200, stamp groups straddle every page boundary.
    moment = BASE + timedelta(milliseconds=n // 7)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _drain(connector: SalesforceConnector, cursor: Cursor | None = None,
           **kw: Any) -> tuple[list[str], list[str], Cursor | None]:
    ids: list[str] = []
    tombstones: list[str] = []
    last: Cursor | None = cursor
    for batch in connector.read("Contact", cursor, **kw):
        assert isinstance(batch, Batch)
        ids.extend(r["Id"] for r in batch.records)
        tombstones.extend(batch.tombstones)
        last = batch.cursor or last
    return ids, tombstones, last


def _expected(live: Any, after: Cursor | None) -> tuple[set[str], set[str]]:
    """Live and deleted Ids the sandbox holds at or after a cursor (minus the Ids it had already seen)."""
    live_ids, deleted = set(), set()
    for row in live.sb.rows("Contact"):
        stamp = datetime.fromisoformat(row["SystemModstamp"])
        if after is not None and after.value is not None and (
                stamp < after.value or (stamp == after.value and row["Id"] in after.seen_keys)):
            continue
        (deleted if row["IsDeleted"] else live_ids).add(row["Id"])
    return live_ids, deleted


@pytest.mark.slow
def test_full_then_incremental_read_with_faults_returns_every_record_once(live: Any) -> None:
    total = 100_000
    live.sb.insert_rows("Contact", live.contacts(range(total), _stamp, deleted=lambda n: n % 997 == 0))
    live.sb.faults.configure({"seed": 20, "server_unavailable_rate": 0.05, "concurrent_limit_rate": 0.01,
                              "drop_rate": 0.02, "invalid_session_every": 100}, reset_counters=True)
    fields = ("LastName", "FirstName", "Email", "ERP_Contact_No__c")
    connector = live.connector(page_size=200, batch_size=200, bulk_read_threshold=None, fields={"Contact": fields})

    ids, tombstones, cursor = _drain(connector)
    want_live, want_deleted = _expected(live, None)
    assert len(ids) == len(set(ids)) and set(ids) == want_live
    assert set(tombstones) == want_deleted and len(tombstones) == len(want_deleted)
    assert cursor is not None and cursor.value == datetime.fromisoformat(_stamp(total - 1))

    # Between the runs: updates, new records and deletes, through the API (faults still on).
    changed = [{"ERP_Contact_No__c": f"C{n:08d}", "Title": "Director"} for n in range(5, 40_000, 97)]
    created = [{"ERP_Contact_No__c": f"N{n:08d}", "LastName": f"New{n}"} for n in range(300)]
    assert not connector.write("Contact", changed + created).failed
    victims = [ids[n] for n in range(1, 60_000, 211)]
    assert not connector.write("Contact", [], deletes=victims).failed

    again, gone, _ = _drain(live.connector(page_size=200, batch_size=200, bulk_read_threshold=None,
                                           fields={"Contact": fields}), cursor)
    want_live, want_deleted = _expected(live, cursor)
    assert len(again) == len(set(again)) and set(again) == want_live
    changed_ids = {objects.id_for("003", n) for n in range(5, 40_000, 97)}
    assert changed_ids - set(victims) <= want_live
    assert len(want_live) == len(changed_ids - set(victims)) + len(created)
    assert set(gone) == want_deleted == set(victims) and len(gone) == len(victims)

    injected = live.sb.faults.snapshot()["injected"]
    for kind in ("server_unavailable", "concurrent_limit", "invalid_session", "drop"):
        assert injected[kind] >= 5, injected


def test_bulk_and_rest_reads_agree_and_resume_by_locator(live: Any) -> None:
    live.sb.insert_rows("Contact", live.contacts(range(3000), _stamp, deleted=lambda n: n % 50 == 0))
    fields = {"Contact": ("LastName", "Email", "ERP_Contact_No__c")}
    rest = [r for b in live.connector(fields=fields, bulk_read_threshold=None).read("Contact") for r in b.records]
    bulk_batches = list(live.connector(fields=fields, bulk_read_threshold=0, bulk_max_records=700,
                                       batch_size=500).read("Contact"))
    bulk = [r for b in bulk_batches for r in b.records]
    assert sorted(rest, key=lambda r: r["Id"]) == sorted(bulk, key=lambda r: r["Id"])
    final = bulk_batches[-1].cursor
    assert final is not None and final.extra == {} and final.value == datetime.fromisoformat(_stamp(2999))

    # Windows read through Bulk, each next job prepared while the current one is read: same records,
    # and the cursor never moves backwards from one batch to the next.
    windowed = list(live.connector(fields=fields, bulk_read_threshold=0, bulk_max_records=400, batch_size=300,
                                   window="PT0.1S", start_date=BASE.isoformat()).read("Contact"))
    assert sorted(r["Id"] for b in windowed for r in b.records) == sorted(r["Id"] for r in rest)
    values = [b.cursor.value for b in windowed if b.cursor is not None and b.cursor.value is not None]
    assert values == sorted(values) and len({b.cursor.extra["bulk"]["job"] for b in windowed
                                             if b.cursor is not None and b.cursor.extra}) >= 4

    # A run that stops after its third batch (the job is left in place) resumes from the job's locator.
    stopped = live.connector(fields=fields, bulk_read_threshold=0, bulk_max_records=700, batch_size=500)
    reading = stopped.read("Contact")
    delivered = [next(reading) for _ in range(3)]
    reading.close()
    middle = delivered[-1].cursor
    assert middle is not None and middle.extra["bulk"]["locator"]
    resumed = list(live.connector(fields=fields, bulk_read_threshold=0, bulk_max_records=700,
                                  batch_size=500).read("Contact", middle))
    seen_before = {r["Id"] for b in delivered for r in b.records}
    got = {r["Id"] for b in resumed for r in b.records}
    assert got | seen_before == {r["Id"] for r in bulk}
    assert len(got) < len(bulk)  # the pages before the locator were not read again


def test_query_timeout_splits_the_window_against_the_sandbox(live: Any) -> None:
    live.sb.insert_rows("Contact", live.contacts(range(500), _stamp))
    live.sb.faults.configure({"script": ["query_timeout", "query_timeout"], "path_pattern": "/query"})
    connector = live.connector(start_date=BASE.isoformat(), fields={"Contact": ("LastName",)},
                               bulk_read_threshold=None)
    ids, _, _ = _drain(connector)
    assert sorted(ids) == sorted(r["Id"] for r in live.sb.rows("Contact"))
    assert live.sb.faults.snapshot()["injected"]["query_timeout"] == 2


def test_time_window_range_reads_only_its_slice(live: Any) -> None:
    live.sb.insert_rows("Contact", live.contacts(range(700), _stamp))
    window = TimeWindow(start=datetime.fromisoformat(_stamp(140)), end=datetime.fromisoformat(_stamp(350)))
    ids, _, _ = _drain(live.connector(fields={"Contact": ("LastName",)}), range=window)
    assert Counter(ids) == Counter(r["Id"] for r in live.sb.rows("Contact")[140:350])


def test_reading_stops_for_the_api_budget(live: Any) -> None:
    live.sb.insert_rows("Contact", live.contacts(range(2000), _stamp))
    live.sb.budget.set(limit=100, used=85)
    batches = live.connector(page_size=200, batch_size=200, budget_share=0.9, fields={"Contact": ("LastName",)},
                             bulk_read_threshold=None).read("Contact")
    read: list[Batch] = []
    with pytest.raises(BudgetExhaustedError) as caught:
        for batch in batches:
            read.append(batch)
    assert read and caught.value.used is not None and caught.value.used > 90
    assert live.sb.budget.snapshot()["refused"] == 0  # stopped on our side, before the org refused
    live.sb.budget.set(limit=100, used=100)
    with pytest.raises(BudgetExhaustedError):
        list(live.connector(budget_share=1.0).read("Contact"))
