"""Incremental keyset reads on PostgreSQL, MariaDB and SQLite: ties on updated_at, resumption, deletes."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CHAR, Column, DateTime, Integer, MetaData, String, Table, delete, update

from connectors.base import Batch, Cursor, KeyRange, NativeRecord, TimeWindow
from connectors.retry import NO_RETRY
from connectors.sql import SqlConfig, SqlConnector

T0 = datetime(2020, 1, 1, 8, 0)
T1 = datetime(2020, 1, 2, 8, 0)  # 500 rows share this one: five batches, more than one query
N = 1000


def setup(db: Any, **stream: Any) -> tuple[Table, SqlConnector]:
    metadata = MetaData(schema=db.schema)
    table = Table("events", metadata,
                  Column("id", Integer, primary_key=True, autoincrement=False),
                  Column("body", String(40)),
                  Column("changed", DateTime, nullable=False),
                  Column("deleted_flag", CHAR(1), nullable=False, server_default="N"))
    metadata.create_all(db.engine)
    config = SqlConfig(url=db.url, schema=db.schema, batch_size=100, rows_per_query=300,
                       streams={"events": {"table": "events", "updated_at": "changed", **stream}})
    sql = SqlConnector(config, NO_RETRY)
    rows = [{"id": i, "body": f"event {i}", "changed": _stamp(i)} for i in range(N)]
    assert not sql.write("events", rows).failed
    return table, sql


def _stamp(i: int) -> datetime:
    if i < 50:
        return T0
    if i < 550:
        return T1
    return T1 + timedelta(minutes=1 + i % 7)


def ids(records: list[NativeRecord]) -> list[int]:
    return [int(r["id"]) for r in records]


def drain(sql: SqlConnector, **kwargs: Any) -> list[Batch]:
    return list(sql.read("events", **kwargs))


def through_json(cursor: Cursor | None) -> Cursor | None:
    """As the orchestrator stores it."""
    assert cursor is not None
    return Cursor.from_json(json.loads(json.dumps(cursor.to_json())))


def test_rows_sharing_one_updated_at_are_each_read_once_whatever_the_resume_point(db: Any) -> None:
    _, sql = setup(db)
    batches = drain(sql)
    everything = [r for b in batches for r in b.records]
    assert len(batches) == 10 and all(len(b.records) == 100 for b in batches)
    assert sorted(ids(everything)) == list(range(N))
    assert [r["changed"] for r in everything] == sorted(r["changed"] for r in everything)
    for stop in (0, 1, 3, 5, 6, 9):  # 1..5 stop inside the 500 rows sharing T1
        head = [r for b in batches[: stop + 1] for r in b.records]
        rest = [r for b in drain(sql, cursor=through_json(batches[stop].cursor)) for r in b.records]
        seen = Counter(ids(head) + ids(rest))
        assert set(seen) == set(range(N)) and max(seen.values()) == 1, stop
    sql.close()


def test_changes_after_the_cursor_are_read_and_a_closed_bound_skips_seen_keys(db: Any) -> None:
    table, sql = setup(db)
    last = drain(sql)[-1].cursor
    assert drain(sql, cursor=through_json(last)) == []
    later = T1 + timedelta(hours=1)
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id.in_([10, 600, 601])).values(changed=later))
    changed = [r for b in drain(sql, cursor=through_json(last)) for r in b.records]
    assert sorted(ids(changed)) == [10, 600, 601]
    closed = Cursor(value=later, seen_keys=("600",))  # a plain closed lower bound, as other sources write
    assert sorted(ids([r for b in drain(sql, cursor=closed) for r in b.records])) == [10, 601]
    sql.close()


def test_soft_deletes_travel_as_tombstones(db: Any) -> None:
    _, sql = setup(db, soft_delete_column="deleted_flag", deleted_value="Y")
    last = drain(sql)[-1].cursor
    result = sql.write("events", [], deletes=["5", "700"])
    assert all(d.ok for d in result.deleted)
    after = drain(sql, cursor=through_json(last))
    assert sorted(t for b in after for t in b.tombstones) == ["5", "700"]
    assert not [r for b in after for r in b.records]
    live = {int(r["id"]) for b in drain(sql) for r in b.records}
    assert len(live) == N - 2 and not {5, 700} & live
    sql.close()


def test_key_sweep_finds_hard_deletes_and_key_ranges_partition(db: Any) -> None:
    table, sql = setup(db, key_sweep=True)
    with db.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.id.in_([3, 333, 999])))
    known = (str(i) for i in range(N))  # what the caller saw before, streamed
    swept = list(sql.sweep_deletes("events", known))
    assert len(swept) == 10 and sorted(int(t) for b in swept for t in b.tombstones) == [3, 333, 999]
    spec = {s.name: s for s in sql.discover()}["events"]
    assert spec.supports_deletes and spec.cursor_field == "changed" and spec.primary_key == ("id",)
    described = {f.name: (f.type, f.nullable, f.length) for f in spec.fields}
    assert described == {"id": ("integer", False, None), "body": ("string", True, 40),
                         "changed": ("datetime", False, None), "deleted_flag": ("string", False, 1)}
    middle = [r for b in drain(sql, range=KeyRange(start=100, end=200)) for r in b.records]
    assert sorted(ids(middle)) == list(range(100, 200))
    sql.close()


def test_time_windows_and_tables_without_a_cursor_column_resume_by_key(db: Any) -> None:
    _, sql = setup(db)
    window = [r for b in drain(sql, range=TimeWindow(start=T1, end=T1 + timedelta(minutes=1))) for r in b.records]
    assert sorted(ids(window)) == list(range(50, 550))
    metadata = MetaData(schema=db.schema)
    Table("codes", metadata, Column("code", String(8), primary_key=True), Column("label", String(20)))
    metadata.create_all(db.engine)
    plain = SqlConnector(SqlConfig(url=db.url, schema=db.schema, batch_size=4, streams={"codes": {}}), NO_RETRY)
    assert not plain.write("codes", [{"code": f"K{i:02d}", "label": str(i)} for i in range(10)]).failed
    batches = list(plain.read("codes"))
    assert [len(b.records) for b in batches] == [4, 4, 2] and batches[0].cursor is not None
    resumed = [r["code"] for b in plain.read("codes", cursor=through_json(batches[0].cursor)) for r in b.records]
    assert resumed == [f"K{i:02d}" for i in range(4, 10)]
    plain.close()
    sql.close()
