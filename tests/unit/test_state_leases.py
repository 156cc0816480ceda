"""Fenced leases and checkpoints, the ID cross-reference under concurrency, migrations: SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mappings.errors import Reason
from orchestrator.state import QuarantineItem, StaleLeaseError, StateStore, StateStoreError, SyncStateRow, XrefRow
from orchestrator.state import quarantine as quarantine_module
from orchestrator.state.db import Database
from orchestrator.state.migrations import MIGRATIONS, Migration, migrate
from orchestrator.state.testing import FakeClock, postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(url, schema): a SQLite file, or a throwaway schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state.db", None
        return
    url = request.getfixturevalue("postgres_url")
    with postgres_schema(url) as schema:
        yield url, schema


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(target: tuple[str, str | None], clock: FakeClock) -> Iterator[StateStore]:
    url, schema = target
    with StateStore.open(url, schema=schema, clock=clock) as opened:
        yield opened


def _bad(key: str, sync: str = "s", stream: str = "Account") -> QuarantineItem:
    return QuarantineItem(sync, stream, "erp", "clients", key, "map", [Reason("invalid_email", "email")],
                          {"email": f"{key}@bad"})


def _snapshot(store: StateStore) -> tuple[object, ...]:
    return (store.get_cursor("s", "Account"), store.canonical_ids("erp", "clients", ["1", "2", "3", "4"]),
            [(q.native_key, q.status) for q in store.list_quarantine("s", None)])


def test_migrations_are_idempotent(target: tuple[str, str | None]) -> None:
    url, schema = target
    for _ in range(3):
        with StateStore.open(url, schema=schema) as store:
            assert store.schema_version() == MIGRATIONS[-1].version
    db = Database.connect(url, schema=schema)
    with db.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM crmsync_schema")).scalar() == 1
    applied: list[int] = []
    version = MIGRATIONS[-1].version + 1
    step = Migration(version, "test step", lambda conn: applied.append(version))
    assert migrate(db, (*MIGRATIONS, step)) == version
    assert migrate(db, (*MIGRATIONS, step)) == version
    assert applied == [version]  # the new step ran exactly once
    with pytest.raises(StateStoreError, match="newer"):
        migrate(db, MIGRATIONS)  # the database is now ahead of this code
    db.engine.dispose()


def test_second_holder_waits_then_fences_the_first(store: StateStore, clock: FakeClock) -> None:
    first = store.acquire_lease("s", "Account", "0", "worker-1", ttl_s=60)
    assert first is not None
    run = store.start_run("s", "sync", {})
    store.commit_batch(first, cursor={"c": 1}, xref=[XrefRow("erp", "clients", "1", "c-1", "Account")],
                       quarantine=[_bad("2")], counts={"read": 2}, run_id=run)
    assert store.acquire_lease("s", "Account", "0", "worker-2", ttl_s=60) is None  # live: refused
    clock.advance(61)
    second = store.acquire_lease("s", "Account", "0", "worker-2", ttl_s=60)
    assert second is not None and second.epoch > first.epoch
    before = _snapshot(store)
    with pytest.raises(StaleLeaseError):
        store.commit_batch(first, cursor={"c": 99}, xref=[XrefRow("erp", "clients", "3", "c-3", "Account")],
                           quarantine=[_bad("4")], counts={"read": 5}, run_id=run)
    assert _snapshot(store) == before  # the stale worker wrote nothing
    run_record = store.get_run(run)
    assert run_record is not None and run_record.streams[0].counts == {"read": 2}
    with pytest.raises(StaleLeaseError):
        store.renew_lease(first)
    assert store.release_lease(first) is False
    store.commit_batch(second, cursor={"c": 2}, counts={"read": 1}, run_id=run)
    assert store.get_cursor("s", "Account") == {"c": 2}


def test_commit_batch_is_one_transaction(store: StateStore, clock: FakeClock,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    lease = store.acquire_lease("s", "Account", "0", "w", ttl_s=30)
    assert lease is not None
    run = store.start_run("s", "sync", {})
    store.commit_batch(lease, cursor={"c": 1}, xref=[XrefRow("erp", "clients", "1", "c-1", "Account")],
                       counts={"read": 1}, run_id=run)
    before = _snapshot(store)

    def fail(*args: object, **kwargs: object) -> list[int]:
        raise RuntimeError("disk full")  # after the cursor and xref writes of the same transaction

    monkeypatch.setattr(quarantine_module, "add", fail)
    clock.advance(20)
    with pytest.raises(RuntimeError):
        store.commit_batch(lease, cursor={"c": 2}, xref=[XrefRow("erp", "clients", "3", "c-3", "Account")],
                           quarantine=[_bad("4")], counts={"read": 7}, run_id=run)
    monkeypatch.undo()
    assert _snapshot(store) == before
    run_record = store.get_run(run)
    assert run_record is not None and run_record.streams[0].counts == {"read": 1}
    clock.advance(15)  # past the first commit's expiry: the failed commit's renewal was rolled back too
    assert store.acquire_lease("s", "Account", "0", "other", ttl_s=30) is not None


def test_commit_batch_persists_everything_and_resolves_fixed_records(store: StateStore) -> None:
    lease = store.acquire_lease("s", "Contact", "p1", "w", ttl_s=30)
    assert lease is not None
    run = store.start_run("s", "sync", {})
    store.commit_batch(lease, cursor={"updated_at": "2030-01-01T00:00:00Z", "pk": "7"},
                       xref=[XrefRow("crm", "Contact", "003A", "c-7", "Contact")],
                       quarantine=[_bad("8", stream="Contact"), _bad("9", stream="Contact")],
                       counts={"read": 3, "written": 1, "quarantined": 2}, run_id=run,
                       sync_state=[SyncStateRow("s", "Contact", "c-7", "h1", {"email": "a@x.org"})])
    store.commit_batch(lease, cursor=None, quarantine=[_bad("9", stream="Contact")], resolved_keys=["8"],
                       counts={"read": 2, "written": 1, "quarantined": 1}, run_id=run)
    assert store.get_cursor("s", "Contact", "p1") == {"updated_at": "2030-01-01T00:00:00Z", "pk": "7"}
    assert store.get_cursor("s", "Contact") is None  # other partition
    assert store.canonical_ids("crm", "Contact", ["003A"]) == {"003A": "c-7"}
    statuses = {q.native_key: q.status for q in store.list_quarantine("s", None)}
    assert statuses == {"8": "resolved", "9": "open"}  # 9 was quarantined twice: one row
    record = store.get_run(run)
    assert record is not None and record.streams[0].counts == {"read": 5, "written": 2, "quarantined": 3}
    assert store.get_sync_state("s", "Contact", ["c-7", "c-8"])["c-7"].values == {"email": "a@x.org"}
    assert store.reset_cursor("s", "Contact") == 1
    assert store.get_cursor("s", "Contact", "p1") is None


def test_force_release_fences_the_old_holder(store: StateStore) -> None:
    old = store.acquire_lease("s", "Account", "0", "dead-worker", ttl_s=3600)
    assert old is not None
    assert store.force_release("s", "Account", "0") is True
    with pytest.raises(StaleLeaseError):
        store.commit_batch(old, cursor={"c": 1})
    new = store.acquire_lease("s", "Account", "0", "w2", ttl_s=60)
    assert new is not None and new.epoch == old.epoch + 2
    assert store.force_release("s", "nope", "0") is False


def test_partitions_plan_finish_and_orphans(store: StateStore, clock: FakeClock) -> None:
    run = store.start_run("s", "sync", {})
    store.plan_partitions(run, "s", "Account", {"0": {"lo": 0, "hi": 100}, "1": {"lo": 100, "hi": None}})
    assert {p.partition for p in store.orphaned_partitions()} == {"0", "1"}
    lease0 = store.acquire_lease("s", "Account", "0", "w0", ttl_s=10)
    lease1 = store.acquire_lease("s", "Account", "1", "w1", ttl_s=10)
    assert lease0 is not None and lease1 is not None
    store.finish_partition(lease0, "done")
    assert store.orphaned_partitions() == []  # 1 is running under a live lease
    clock.advance(11)
    assert [p.partition for p in store.orphaned_partitions()] == ["1"]  # its worker died
    parts = {p.partition: p for p in store.list_partitions(run_id=run)}
    assert parts["0"].status == "done" and parts["1"].status == "running"
    assert parts["1"].bounds == {"lo": 100, "hi": None}
    with pytest.raises(StaleLeaseError):
        store.finish_partition(lease0, "done")  # released already


def test_concurrent_acquirers_get_one_lease(store: StateStore) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def contend(owner: str) -> None:
        barrier.wait()
        if store.acquire_lease("s", "Lead", "0", owner, ttl_s=60) is not None:
            winners.append(owner)

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_ensure_canonical_ids_is_idempotent_under_concurrency(store: StateStore) -> None:
    ids = [f"N{i:04d}" for i in range(300)]
    results: list[dict[str, str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker(offset: int) -> None:
        barrier.wait()
        try:  # overlapping, differently ordered slices of the same ids
            mine = ids[offset * 20:] + ids[: offset * 20]
            results.append(store.ensure_canonical_ids("erp", "clients", "Account", mine))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == results[0] for r in results) and len(results[0]) == 300
    assert len(set(results[0].values())) == 300
    assert store.ensure_canonical_ids("erp", "clients", "Account", ids[:5]) == {i: results[0][i] for i in ids[:5]}
    assert store.canonical_ids("erp", "clients", ids) == results[0]


def test_xref_links_and_customer_view(store: StateStore) -> None:
    ids = store.ensure_canonical_ids("erp", "clientes", "Account", ["100245", "100246"])
    cid = ids["100245"]
    store.link("crm", "Account", "001A", cid, "Account")
    store.link("crm", "Account", "001B", ids["100246"], "Account")
    assert store.native_ids("crm", "Account", [cid, "unknown"]) == {cid: "001A"}
    view = store.customer_view("100245")
    assert {(r.system, r.native_id) for r in view} == {("erp", "100245"), ("crm", "001A")}
    assert store.customer_view(cid) == view
    assert store.customer_view("001B")[0].canonical_id == ids["100246"]
    store.link("crm", "Account", "001A", "c-other", "Account")  # relink replaces
    assert store.canonical_ids("crm", "Account", ["001A"]) == {"001A": "c-other"}
    assert store.customer_view("nobody") == []
