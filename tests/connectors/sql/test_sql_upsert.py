"""Upserts on real PostgreSQL, MariaDB and SQLite: idempotent, per-record errors, the rest lands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import JSON, CheckConstraint, Column, DateTime, Integer, MetaData, String, Table, func, select
from structlog.testing import capture_logs

from connectors.base import NativeRecord
from connectors.retry import NO_RETRY
from connectors.sql import SqlConfig, SqlConnector

STAMP = datetime(2021, 3, 4, 5, 6, 7)


def contacts_table(db: Any) -> Table:
    metadata = MetaData(schema=db.schema)
    table = Table("contacts", metadata,
                  Column("id", Integer, primary_key=True, autoincrement=False),
                  Column("email", String(120), unique=True),
                  Column("name", String(60), nullable=False),
                  Column("score", Integer),
                  Column("updated_at", DateTime, nullable=False),
                  CheckConstraint("score >= 0", name="ck_contacts_score"))
    metadata.create_all(db.engine)
    return table


def connector(db: Any, **settings: Any) -> SqlConnector:
    config = SqlConfig(url=db.url, schema=db.schema, streams={"contacts": {"updated_at": "updated_at"}},
                       batch_size=settings.pop("batch_size", 100), **settings)
    return SqlConnector(config, NO_RETRY)


def people(n: int) -> list[NativeRecord]:
    return [{"id": i, "email": f"person{i}@example.com", "name": f"Person {i}", "score": i % 50,
             "updated_at": STAMP} for i in range(n)]


def count(db: Any, table: Table) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize("copy_threshold", [0, 50])
def test_bad_rows_become_record_errors_and_the_rest_lands(db: Any, copy_threshold: int) -> None:
    if copy_threshold and db.dialect != "postgres":
        pytest.skip("COPY staging is PostgreSQL's")
    table = contacts_table(db)
    records = people(300)
    records[17]["name"] = None                                  # NOT NULL
    records[150]["score"] = -1                                  # CHECK
    records[222]["email"] = "person3@example.com"               # UNIQUE (another row's email)
    sql = connector(db, copy_threshold=copy_threshold)
    with capture_logs() as logs:
        result = sql.write("contacts", records)
    if copy_threshold:  # every chunk had a bad row: COPY was tried, rolled back, and bisection took over
        assert [e["event"] for e in logs].count("sql.write.copy_fallback") == 3

    assert [r.index for r in result.results] == list(range(300))
    failed = {r.index: r.error for r in result.failed}
    assert sorted(failed) == [17, 150, 222]
    assert failed[17] is not None and failed[17].code == "not_null_violation" and failed[17].fields == ("name",)
    assert failed[150] is not None and failed[150].code == "check_violation"
    assert failed[222] is not None and failed[222].code == "unique_violation"
    assert "person3@example.com" not in str(failed[222])  # never the value
    assert failed[222].payload is records[222] and failed[222].key == "222"
    assert all(r.created for r in result.results if r.ok)
    assert count(db, table) == 297
    sql.close()


def test_upsert_is_idempotent_and_reports_created(db: Any) -> None:
    table = contacts_table(db)
    sql = connector(db, copy_threshold=50)
    with capture_logs() as logs:
        first = sql.write("contacts", people(250))
    copied = sum(e["rows"] for e in logs if e["event"] == "sql.write.copied")
    assert copied == (250 if db.dialect == "postgres" else 0)
    assert not first.failed and all(r.created is True for r in first.results)
    again = sql.write("contacts", people(250))
    assert not again.failed and all(r.created is False for r in again.results)
    assert count(db, table) == 250
    sql.close()


def test_partial_records_update_only_their_columns_and_last_duplicate_wins(db: Any) -> None:
    table = contacts_table(db)
    sql = connector(db)
    sql.write("contacts", people(5))
    result = sql.write("contacts", [
        {"id": 1, "score": 40},
        {"id": 2, "name": "First", "updated_at": "2022-01-01T10:00:00"},  # text for a datetime column
        {"id": 2, "name": "Second"},
        {"id": 3, "nickname": "x"},
        {"id": 4, "name": {"first": "Ann"}},  # a value no driver can send to a text column
    ])
    assert [r.ok for r in result.results] == [True, True, True, False, False]
    unknown = result.results[3].error
    assert unknown is not None and unknown.code == "unknown_field" and unknown.fields == ("nickname",)
    unsendable = result.results[4].error
    assert unsendable is not None and unsendable.code == "invalid_value"
    with db.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(table))}
    assert (rows[1].name, rows[1].score) == ("Person 1", 40)
    assert (rows[2].name, rows[2].updated_at) == ("Second", datetime(2022, 1, 1, 10, 0))
    sql.close()


def test_upsert_on_a_unique_column_and_deletes_by_key(db: Any) -> None:
    table = contacts_table(db)
    sql = connector(db)
    sql.write("contacts", people(10))
    by_email = sql.write("contacts", [{"id": 4, "email": "person4@example.com", "name": "Renamed",
                                       "updated_at": STAMP}], upsert_key="email")
    assert by_email.results[0].ok and by_email.results[0].created is False
    deleted = sql.write("contacts", [], deletes=["1", "2", "999", "not-a-number"])
    assert [d.ok for d in deleted.deleted] == [True, True, True, False]  # an absent key is already deleted
    assert deleted.deleted[3].error is not None and deleted.deleted[3].error.code == "invalid_key"
    assert count(db, table) == 8
    with db.engine.connect() as conn:
        assert conn.execute(select(table.c.name).where(table.c.id == 4)).scalar_one() == "Renamed"
    sql.close()


def test_copy_loads_loose_values_and_json_and_keeps_the_last_duplicate(postgres_url: str, open_sql_db: Any) -> None:
    db = open_sql_db("postgres")
    metadata = MetaData(schema=db.schema)
    table = Table("orders", metadata,
                  Column("order_no", Integer, primary_key=True, autoincrement=False),
                  Column("qty", Integer), Column("meta", JSON), Column("placed", DateTime))
    metadata.create_all(db.engine)
    sql = SqlConnector(SqlConfig(url=db.url, schema=db.schema, batch_size=100, copy_threshold=10,
                                 streams={"orders": {}}), NO_RETRY)
    typed = [{"order_no": i, "qty": i, "meta": {"lines": [i]}, "placed": STAMP} for i in range(40)]
    loose = [{"order_no": i, "qty": str(i * 2), "meta": {"lines": []}, "placed": "2021-03-04T05:06:07"}
             for i in range(30, 60)] + [{"order_no": 59, "qty": "7", "meta": None, "placed": None}]
    with capture_logs() as logs:
        first, second = sql.write("orders", typed), sql.write("orders", loose)
    assert [e["rows"] for e in logs if e["event"] == "sql.write.copied"] == [40, 31]
    assert all(r.created for r in first.results) and not first.failed and not second.failed
    assert [r.created for r in second.results[:10]] == [False] * 10 and second.results[10].created is True
    assert second.results[29].created is None  # superseded by the later record with the same key
    with db.engine.connect() as conn:
        rows = {r.order_no: r for r in conn.execute(select(table))}
    assert len(rows) == 60 and rows[31].qty == 62 and rows[5].meta == {"lines": [5]}
    assert (rows[59].qty, rows[59].meta, rows[59].placed) == (7, None, None)
    sql.close()


def test_copy_sized_chunks_with_different_fields_fall_back_without_loss(postgres_url: str, open_sql_db: Any) -> None:
    db = open_sql_db("postgres")
    table = contacts_table(db)
    sql = connector(db, copy_threshold=10)
    records = [{k: v for k, v in r.items() if k != "score"} for r in people(30)]
    records[20] = {"id": 20, "name": "Twenty", "score": 3, "updated_at": STAMP}  # same width, other fields
    with capture_logs() as logs:
        result = sql.write("contacts", records)
    assert not result.failed and count(db, table) == 30
    assert [e["event"] for e in logs].count("sql.write.copy_fallback") == 1
    sql.close()
