"""The per-batch state writes the runner depends on (sync state, relinks), set-based, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.state import StateStore, SyncStateRow
from orchestrator.state.testing import postgres_schema
from orchestrator.state.types import XrefRow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        with StateStore.open(f"sqlite:///{tmp_path}/state.db") as opened:
            yield opened
        return
    url = request.getfixturevalue("postgres_url")
    with postgres_schema(url) as schema, StateStore.open(url, schema=schema) as opened:
        yield opened


def test_sync_state_batches_insert_new_rows_update_old_ones_and_keep_the_last_of_a_batch(store: StateStore) -> None:
    lease = store.acquire_lease("both", "Contact", "0", "me", 60)
    assert lease is not None
    first = [SyncStateRow("both", "Contact", f"c{i}", f"h{i}", {"n": i}) for i in range(600)]
    store.commit_batch(lease, cursor=None, sync_state=first)
    again = [SyncStateRow("both", "Contact", "c1", "old", {"n": -1}), SyncStateRow("both", "Contact", "c1", "new",
                                                                                    {"n": 100}),
             SyncStateRow("both", "Contact", "c700", "h700", None), SyncStateRow("both@erp", "Contact", "c1", "e", {})]
    store.commit_batch(lease, cursor=None, sync_state=again)
    got = store.get_sync_state("both", "Contact", ["c0", "c1", "c599", "c700"])
    assert {k: (v.hash, v.values) for k, v in got.items()} == {
        "c0": ("h0", {"n": 0}), "c1": ("new", {"n": 100}), "c599": ("h599", {"n": 599}), "c700": ("h700", None)}
    assert store.get_sync_state("both@erp", "Contact", ["c1"])["c1"].hash == "e"


def test_relinks_point_native_records_at_the_written_canonical_id(store: StateStore) -> None:
    lease = store.acquire_lease("both", "Account", "0", "me", 60)
    assert lease is not None
    scanned = store.ensure_canonical_ids("crm", "Account", "Account", [f"001{i}" for i in range(5)])
    relink = [XrefRow("crm", "Account", f"001{i}", f"erp-{i}", "Account") for i in range(3)]
    relink.append(XrefRow("crm", "Account", "001new", "erp-9", "Account"))
    store.commit_batch(lease, cursor=None, relink=relink)
    now = store.canonical_ids("crm", "Account", [f"001{i}" for i in range(5)] + ["001new"])
    assert now == {"0010": "erp-0", "0011": "erp-1", "0012": "erp-2", "0013": scanned["0013"],
                   "0014": scanned["0014"], "001new": "erp-9"}


def test_new_canonical_ids_are_distinct_time_ordered_version_7_uuids_and_stable(store: StateStore) -> None:
    keys = [f"C{i}" for i in range(1200)]
    first = store.ensure_canonical_ids("erp", "customers", "Account", keys)
    assert len(set(first.values())) == 1200
    assert {uuid.UUID(v).version for v in first.values()} == {7}
    assert {uuid.UUID(v).variant for v in first.values()} == {uuid.RFC_4122}
    assert [first[k] for k in sorted(keys)] == sorted(first.values())  # one call: ascending in key order
    again = store.ensure_canonical_ids("erp", "customers", "Account", [*keys[:10], "C-new"])
    assert {k: again[k] for k in keys[:10]} == {k: first[k] for k in keys[:10]} and again["C-new"] not in first.values()


@pytest.mark.postgres
def test_postgres_lookups_probe_the_unique_index_without_statistics(postgres_url: str) -> None:
    """Never ANALYZEd, the planner used to match only (system, object) in the index and filter every row."""
    import sqlalchemy as sa

    from orchestrator.state import xref

    with postgres_schema(postgres_url) as schema, StateStore.open(postgres_url, schema=schema) as store:
        store.ensure_canonical_ids("crm", "Contact", "Contact", [f"003{i:09d}" for i in range(20_000)])
        engine = sa.create_engine(postgres_url)
        with engine.connect() as conn:
            conn.exec_driver_sql(f'SET search_path TO "{schema}"')
            params = {"system": "crm", "object": "Contact", "keys": ["003000000001", "003000000002"]}
            plan = "\n".join(r[0] for r in conn.execute(sa.text("EXPLAIN " + str(xref._PG_LOOKUP)), params))
            params = {"system": "crm", "object": "Contact", "entity": "Contact", "keys": ["x"]}
            reverse = "\n".join(r[0] for r in conn.execute(sa.text("EXPLAIN " + str(xref._PG_NATIVE_OF)), params))
        engine.dispose()
        assert store.canonical_ids("crm", "Contact", ["003000000001", "nope"]).keys() == {"003000000001"}
        assert store.native_ids("crm", "Contact", ["nope"], object="Contact") == {}
    assert "(native_id)::text = k.native_id" in plan.split("Index Cond:", 1)[1].splitlines()[0], plan
    assert "(canonical_id)::text = k.canonical_id" in reverse.split("Index Cond:", 1)[1].splitlines()[0], reverse
