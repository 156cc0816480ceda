"""Runs, quarantine, findings over time, purge and forget: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mappings.errors import Reason
from orchestrator.state import Finding, QuarantineItem, StateStore, StateStoreError, SyncStateRow
from orchestrator.state.testing import FakeClock, postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def clock_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[FakeClock, StateStore]]:
    clock = FakeClock()
    if request.param == "sqlite":
        with StateStore.open(f"sqlite:///{tmp_path}/state.db", clock=clock) as store:
            yield clock, store
        return
    url = request.getfixturevalue("postgres_url")
    with postgres_schema(url) as schema, StateStore.open(url, schema=schema, clock=clock) as store:
        yield clock, store


@pytest.fixture
def store(clock_store: tuple[FakeClock, StateStore]) -> StateStore:
    return clock_store[1]


def item(key: str, *reasons: tuple[str, str], payload: dict[str, object] | None = None, sync: str = "erp-to-crm",
         stage: str = "map") -> QuarantineItem:
    return QuarantineItem(sync, "Contact", "erp", "contacts", key, stage,  # type: ignore[arg-type]
                          [Reason(code, field) for code, field in reasons], payload or {"id": key})


def test_run_lifecycle(store: StateStore, clock_store: tuple[FakeClock, StateStore]) -> None:
    clock = clock_store[0]
    first = store.start_run("erp-to-crm", "sync", {"dry_run": False})
    clock.advance(5)
    second = store.start_run("weekly", "reconcile", {})
    store.record_stream(first, "Account", status="succeeded", counts={"read": 10, "written": 10})
    store.record_stream(first, "Account", status="succeeded", counts={"retries": 2})
    store.record_stream(first, "Contact", status="failed", error="target refused the batch")
    assert store.request_cancel(second) is True
    assert store.is_cancel_requested(second) and not store.is_cancel_requested(first)
    clock.advance(90)
    store.finish_run(first, "partial", {"reason": "budget_exhausted"}, error="API budget at 90%")
    assert store.request_cancel(first) is False  # finished runs cannot be cancelled
    run = store.get_run(first[:8])
    assert run is not None and run.status == "partial" and run.duration_s == 95
    assert {s.stream: (s.status, s.counts) for s in run.streams} == {
        "Account": ("succeeded", {"read": 10, "written": 10, "retries": 2}), "Contact": ("failed", {})}
    assert run.streams[1].error == "target refused the batch" and run.summary == {"reason": "budget_exhausted"}
    assert [r.run_id for r in store.list_runs()] == [second, first]
    assert [r.run_id for r in store.list_runs(sync="erp-to-crm")] == [first]
    assert [r.run_id for r in store.list_runs(limit=1)] == [second]
    assert store.get_run("nope-nope") is None
    with pytest.raises(StateStoreError):
        store.finish_run("missing", "failed", {})
    with pytest.raises(ValueError):
        store.finish_run(second, "running", {})


def test_quarantine_groups_iterates_and_marks(store: StateStore) -> None:
    ids = store.add_quarantine([
        item("1", ("invalid_email", "email")),
        item("2", ("invalid_email", "email"), ("unparseable_phone", "phone")),
        item("3", ("unparseable_phone", "phone"), sync="other"),
    ])
    again = store.add_quarantine([item("1", ("required_missing", "last_name"))])  # same record, still open
    assert again == ids[:1]
    groups = store.list_quarantine(group_by_reason=True)
    assert [(g.code, g.field, g.count) for g in groups] == [
        ("unparseable_phone", "phone", 2), ("invalid_email", "email", 1), ("required_missing", "last_name", 1)]
    only = store.list_quarantine("erp-to-crm", group_by_reason=True)
    assert {(g.code, g.count) for g in only} == {("invalid_email", 1), ("unparseable_phone", 1),
                                                 ("required_missing", 1)}
    listed = store.list_quarantine("erp-to-crm")
    assert [r.native_key for r in listed] == ["2", "1"] and all(r.payload is None for r in listed)
    full = store.get_quarantine(ids[1])
    assert full is not None and full.payload == {"id": "2"} and [r.code for r in full.reasons] == [
        "invalid_email", "unparseable_phone"]
    batches = list(store.iter_quarantine(sync="erp-to-crm", batch_size=1))
    assert [[r.native_key for r in b] for b in batches] == [["1"], ["2"]]
    assert [r.native_key for b in store.iter_quarantine(ids=[ids[2], 999]) for r in b] == ["3"]
    assert store.bump_attempts(ids[:2]) == 2
    assert store.mark_quarantine([ids[0], 12345], "discarded") == 1
    assert [r.native_key for r in store.list_quarantine("erp-to-crm")] == ["2"]
    assert store.list_quarantine("erp-to-crm", "discarded")[0].attempts == 1
    store.add_quarantine([item("1", ("invalid_email", "email"))])  # closed rows are history: a new row
    assert len(store.list_quarantine("erp-to-crm", None)) == 3
    with pytest.raises(ValueError):
        store.mark_quarantine(ids, "gone")


def _f(key: str, code: str = "field_mismatch", value: str = "x") -> Finding:
    return Finding(code, "Contact", {"erp": key}, ["email"], {"erp": value, "crm": "y"})


def test_findings_new_persisting_resolved_over_three_runs(store: StateStore) -> None:
    one = store.upsert_findings("weekly", "r1", [_f("A"), _f("B"), _f("C", "missing")])
    assert one.counts == {"new": 3, "persisting": 0, "resolved": 0}
    two = store.upsert_findings("weekly", "r2", [_f("B", value="changed"), _f("D"), _f("D")])
    assert [f.keys for f in two.new] == [{"erp": "D"}]
    assert [f.keys for f in two.persisting] == [{"erp": "B"}]
    assert sorted(f.keys["erp"] for f in two.resolved) == ["A", "C"]
    three = store.upsert_findings("weekly", "r3", [_f("A"), _f("B")])
    assert [f.keys for f in three.new] == [{"erp": "A"}]  # reopened after being resolved
    assert [f.keys for f in three.persisting] == [{"erp": "B"}]
    assert [f.keys for f in three.resolved] == [{"erp": "D"}]
    b = store.list_findings("weekly", "open", code="field_mismatch")
    assert {f.keys["erp"]: f.values for f in b}["B"] == {"erp": "x", "crm": "y"}
    assert {f.keys["erp"] for f in store.list_findings("weekly")} == {"A", "B"}
    assert {f.keys["erp"] for f in store.list_findings("weekly", "resolved")} == {"C", "D"}
    a = next(f for f in store.list_findings("weekly") if f.keys["erp"] == "A")
    assert a.first_run_id == "r1" and a.run_id == "r3"
    trend = store.findings_trend("weekly")
    assert [(p.run_id, p.new, p.persisting, p.resolved, p.open) for p in trend] == [
        ("r1", 3, 0, 0, 3), ("r2", 1, 1, 2, 2), ("r3", 1, 1, 1, 2)]
    assert trend[0].by_code == {"field_mismatch": 2, "missing": 1}
    assert store.list_findings("other-job") == []


def test_findings_reported_in_partitions(store: StateStore) -> None:
    store.upsert_findings("j", "r1", [_f("A"), _f("B")])
    part1 = store.upsert_findings("j", "r2", [_f("A")], resolve_unseen=False)
    part2 = store.upsert_findings("j", "r2", [_f("C")], resolve_unseen=False)
    assert part1.counts == {"new": 0, "persisting": 1, "resolved": 0} and part2.counts["new"] == 1
    assert [f.keys for f in store.resolve_unseen("j", "r2")] == [{"erp": "B"}]
    assert [(p.new, p.persisting, p.resolved, p.open) for p in store.findings_trend("j")][-1] == (1, 1, 1, 2)


def test_purge_removes_only_closed_records_past_retention(store: StateStore,
                                                          clock_store: tuple[FakeClock, StateStore]) -> None:
    clock = clock_store[0]
    old = store.add_quarantine([item("1", ("invalid_email", "email")), item("2", ("invalid_email", "email")),
                                item("3", ("invalid_email", "email"))])
    store.mark_quarantine([old[0]], "resolved")
    store.mark_quarantine([old[1]], "discarded")
    store.upsert_findings("j", "r1", [_f("A"), _f("B")])
    store.upsert_findings("j", "r2", [_f("B")])  # A resolved now
    clock.advance(40 * 86400)
    recent = store.add_quarantine([item("4", ("invalid_email", "email"))])
    store.mark_quarantine(recent, "resolved")
    store.upsert_findings("j", "r3", [_f("C")])  # B resolved recently, C open
    assert store.purge(30) == {"quarantine": 2, "findings": 1}
    assert sorted(r.native_key for r in store.list_quarantine(None, None)) == ["3", "4"]
    assert store.list_quarantine(group_by_reason=True)[0].count == 1  # reasons of purged rows are gone too
    assert sorted(f.keys["erp"] for f in store.list_findings("j", "all")) == ["B", "C"]
    assert store.purge(30) == {"quarantine": 0, "findings": 0}


def test_forget_erases_one_person_and_nothing_else(store: StateStore) -> None:
    ana = store.ensure_canonical_ids("erp", "contacts", "Contact", ["501"])["501"]
    bob = store.ensure_canonical_ids("erp", "contacts", "Contact", ["502"])["502"]
    store.link("crm", "Contact", "003ANA", ana, "Contact")
    store.link("crm", "Contact", "003BOB", bob, "Contact")
    store.add_quarantine([
        item("501", ("invalid_phone", "phone"), payload={"id": "501", "email": "Ana@Example.org"}),
        item("777", ("invalid_phone", "phone"), payload={"id": "777", "email": "ana@example.org"}),
        item("502", ("invalid_phone", "phone"), payload={"id": "502", "email": "bob@example.org",
                                                          "note": "knows ana@example.org.uk"}),
    ])
    # Same key string, another system: somebody else.
    store.add_quarantine([QuarantineItem("csv-load", "Contact", "csv", "people", "501", "read",
                                         [Reason("unparseable_row", "*")], {"id": "501", "name": "Carl"})])
    store.upsert_findings("j", "r1", [
        Finding("field_mismatch", "Contact", {"erp": "501", "crm": "003ANA"}, ["email"],
                {"erp": "ana@example.org", "crm": "ana@example.com"}),
        Finding("field_mismatch", "Contact", {"erp": "502", "crm": "003BOB"}, ["phone"],
                {"erp": "+34 600", "crm": "+34 601"}),
    ])
    lease = store.acquire_lease("two-way", "Contact", "0", "w", 60)
    assert lease is not None
    store.commit_batch(lease, cursor=None, sync_state=[SyncStateRow("two-way", "Contact", ana, "h", {"x": 1}),
                                                       SyncStateRow("two-way", "Contact", bob, "h", {"x": 2})])

    result = store.forget("ANA@example.org")
    assert result.canonical_ids == (ana,)
    assert result.as_dict() == {"xref": 2, "quarantine": 2, "findings": 1, "sync_state": 1}
    # "ana@example.org.uk" is not ana; csv's 501 is not erp's 501
    assert sorted((r.system, r.native_key) for r in store.list_quarantine(None, None)) == [("csv", "501"),
                                                                                          ("erp", "502")]
    assert store.customer_view("003ANA") == [] and len(store.customer_view("003BOB")) == 2
    by_erp = {f.fields: f for f in store.list_findings("j", "all")}
    assert by_erp[("email",)].values is None and by_erp[("email",)].keys == {"erp": "<erased>", "crm": "<erased>"}
    assert by_erp[("phone",)].values == {"erp": "+34 600", "crm": "+34 601"}
    assert set(store.get_sync_state("two-way", "Contact", [ana, bob])) == {bob}

    by_native = store.forget("003BOB")
    assert by_native.canonical_ids == (bob,) and by_native.xref == 2 and by_native.quarantine == 1
    unlinked = store.forget("501")  # a key never linked any more: its quarantine rows go, in any system
    assert unlinked.canonical_ids == () and unlinked.quarantine == 1 and store.list_quarantine(None, None) == []
    assert store.forget(bob).as_dict() == {"xref": 0, "quarantine": 0, "findings": 0, "sync_state": 0}
    with pytest.raises(ValueError):
        store.forget("  ")
