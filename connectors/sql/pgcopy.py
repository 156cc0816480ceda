"""PostgreSQL fast path for large batches: COPY into a temporary staging table, then one upsert.

``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` from the staging table moves the whole batch in
one statement; ``RETURNING (xmax = 0)`` says which rows were created. Any row-level failure
(a value COPY cannot parse, a constraint) aborts the savepoint around this path and the writer
falls back to per-statement bisection, which pins the failure on its records.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from psycopg import sql as psql
from sqlalchemy import BigInteger, Column, MetaData, Table, literal_column, select
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import Label

ORDINAL = "crmsync_ordinal"
CREATED: Label[Any] = literal_column("(xmax = 0)").label("crmsync_created")
"""A row inserted by this statement has no deleting transaction yet; an updated one has ours."""


def _json_text(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, default=str).decode()
    return value


def copy_upsert(conn: Connection, table: Table, names: Sequence[str], conflict: Sequence[Column[Any]],
                rows: Sequence[dict[str, Any]], keys: Sequence[str],
                key_of: Callable[[Sequence[Any]], str]) -> list[bool | None]:
    """Upsert ``rows`` (all with the columns ``names``, keys ``keys``); ``created`` per row, in order."""
    stage = Table(
        f"crmsync_stage_{uuid.uuid4().hex[:16]}", MetaData(),
        *(Column(name, table.c[name].type) for name in names), Column(ORDINAL, BigInteger),
        prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
    )
    conn.execute(CreateTable(stage))
    _copy_rows(conn, stage, names, rows)
    unique = len(set(keys)) == len(keys)
    conflict_names = [c.name for c in conflict]
    source = select(*(stage.c[n] for n in names))
    if not unique:  # keep the last occurrence of each key, as row-by-row upserts would
        source = source.distinct(*(stage.c[n] for n in conflict_names)).order_by(
            *(stage.c[n] for n in conflict_names), stage.c[ORDINAL].desc())
    insert = pg_insert(table).from_select(list(names), source)
    updates = {n: insert.excluded[n] for n in names if n not in conflict_names} or {
        n: insert.excluded[n] for n in conflict_names}
    stmt = insert.on_conflict_do_update(index_elements=list(conflict), set_=updates).returning(*conflict, CREATED)
    created = {key_of(row[:-1]): bool(row[-1]) for row in conn.execute(stmt)}
    last = {key: i for i, key in enumerate(keys)}
    return [created.get(key) if last[key] == i else None for i, key in enumerate(keys)]


def _copy_rows(conn: Connection, stage: Table, names: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    json_columns = {n for n in names if isinstance(stage.c[n].type, sqltypes.JSON)}
    statement = psql.SQL("COPY {} ({}) FROM STDIN").format(
        psql.Identifier(stage.name), psql.SQL(", ").join(psql.Identifier(n) for n in (*names, ORDINAL)))
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for ordinal, row in enumerate(rows):
            values = [row.get(n) for n in names]
            if json_columns:
                values = [_json_text(v) if n in json_columns else v for n, v in zip(names, values, strict=True)]
            values.append(ordinal)
            copy.write_row(values)

