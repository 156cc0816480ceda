"""PostgreSQL fast path for large batches: COPY, straight in or through a staging table.

When none of a batch's keys exist yet (an initial load, new records), the rows are COPYed straight
into the table. Otherwise they are COPYed into a temporary staging table and moved by one
``INSERT ... SELECT ... ON CONFLICT DO UPDATE``, whose ``RETURNING (xmax = 0)`` says which rows were
created. Any row-level failure (a value COPY cannot parse, a constraint) aborts the savepoint the
writer holds around this path, and the writer falls back to bisection, which pins the failure on
its records. A key inserted concurrently between the probe and the COPY fails the same way.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from psycopg import sql as psql
from sqlalchemy import BigInteger, Column, MetaData, Table, any_, literal, literal_column, select, text
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import Label

ORDINAL = "crmsync_ordinal"
INT8 = 20
TEXT_LIKE = {1042: 25, 1043: 25, 19: 25}  # bpchar, varchar, name: sent as text
# Types whose binary dumpers psycopg has and whose Python values are unambiguous.
BINARY_SAFE = {16, 20, 21, 23, 25, 700, 701, 1700, 1082, 1083, 1114, 1184, 2950, 114, 3802, 17}
CREATED: Label[Any] = literal_column("(xmax = 0)").label("crmsync_created")
"""A row inserted by this statement has no deleting transaction yet; an updated one has ours."""


def copy_upsert(conn: Connection, table: Table, names: Sequence[str], conflict: Sequence[Column[Any]],
                rows: Sequence[dict[str, Any]], keys: Sequence[str],
                key_of: Callable[[Sequence[Any]], str]) -> list[bool | None]:
    """Upsert ``rows`` (all with exactly the columns ``names``, keys ``keys``); ``created`` per row."""
    unique = len(set(keys)) == len(keys)
    json_names = {c.name for c in table.columns if isinstance(c.type, sqltypes.JSON)}
    oids = _binary_oids(conn, table, names)
    if unique and len(conflict) == 1 and not _any_exists(conn, conflict[0], [r[conflict[0].name] for r in rows]):
        _copy(conn, table.name, table.schema, names, rows, ordinal=False, json_names=json_names, oids=oids)
        return [True] * len(rows)
    stage = Table(
        f"crmsync_stage_{uuid.uuid4().hex[:16]}", MetaData(),
        *(Column(name, table.c[name].type) for name in names), Column(ORDINAL, BigInteger),
        prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
    )
    conn.execute(CreateTable(stage))
    _copy(conn, stage.name, None, names, rows, ordinal=not unique, json_names=json_names, oids=oids)
    conflict_names = [c.name for c in conflict]
    source = select(*(stage.c[n] for n in names))
    if not unique:  # keep the last occurrence of each key, as row-by-row upserts would
        source = source.distinct(*(stage.c[n] for n in conflict_names)).order_by(
            *(stage.c[n] for n in conflict_names), stage.c[ORDINAL].desc())
    insert = pg_insert(table).from_select(list(names), source)
    updates = {n: insert.excluded[n] for n in names if n not in conflict_names} or {
        n: insert.excluded[n] for n in conflict_names}
    stmt = insert.on_conflict_do_update(index_elements=list(conflict), set_=updates).returning(*conflict, CREATED)
    returned = conn.execute(stmt).all()
    created = {str(r[0]): r[1] for r in returned} if len(conflict) == 1 else {key_of(r[:-1]): r[-1] for r in returned}
    last = {key: i for i, key in enumerate(keys)}
    return [created.get(key) if last[key] == i else None for i, key in enumerate(keys)]


def _any_exists(conn: Connection, column: Column[Any], values: list[Any]) -> bool:
    """Whether any of ``values`` may already be a key: one index probe.

    Integer keys order alike in Python and the database, so an empty [min, max] range proves none
    exists (a false positive only costs the staging path). Other keys are probed as an array.
    """
    if all(type(v) is int for v in values):
        probe = select(literal(1)).where(column.between(min(values), max(values))).limit(1)
    else:
        probe = select(literal(1)).where(column == any_(literal(values, ARRAY(column.type)))).limit(1)
    return conn.execute(probe).first() is not None


def _binary_oids(conn: Connection, table: Table, names: Sequence[str]) -> list[int] | None:
    """The type OIDs for a binary COPY of ``names``, or None when a column has no binary dumper we trust.

    Binary COPY skips the server's text parsing (about 1.6x faster here); CHAR/VARCHAR travel as
    text, which is the same bytes on the wire.
    """
    rel = conn.dialect.identifier_preparer.format_table(table)
    rows = conn.execute(text(
        "SELECT attname, atttypid::int FROM pg_attribute "
        "WHERE attrelid = CAST(:rel AS regclass) AND attnum > 0 AND NOT attisdropped"), {"rel": rel}).all()
    by_name = {name: oid for name, oid in rows}
    oids = [TEXT_LIKE.get(by_name.get(n, 0), by_name.get(n, 0)) for n in names]
    return oids if all(oid in BINARY_SAFE for oid in oids) else None


def _copy(conn: Connection, table: str, schema: str | None, names: Sequence[str], rows: Sequence[dict[str, Any]],
          *, ordinal: bool, json_names: set[str], oids: list[int] | None) -> None:
    """COPY ``rows`` in binary when every value fits its column's binary form, else in text.

    A value of another Python type ('42' for an integer) fails the binary attempt in the client;
    that attempt is rolled back and the rows go again as text, which the server parses leniently.
    """
    if oids is not None:
        try:
            with conn.begin_nested():
                _copy_rows(conn, table, schema, names, rows, ordinal, json_names, oids)
            return
        except Exception as exc:
            if getattr(exc, "sqlstate", None) is not None:  # the server refused a row: not ours to retry
                raise
    _copy_rows(conn, table, schema, names, rows, ordinal, json_names, None)


def _copy_rows(conn: Connection, table: str, schema: str | None, names: Sequence[str],
               rows: Sequence[dict[str, Any]], ordinal: bool, json_names: set[str], oids: list[int] | None) -> None:
    json_at = {i for i, n in enumerate(names) if n in json_names}  # text COPY needs JSON as text, not a dict
    target = psql.Identifier(schema, table) if schema else psql.Identifier(table)
    columns = psql.SQL(", ").join(psql.Identifier(n) for n in (*names, *((ORDINAL,) if ordinal else ())))
    options = psql.SQL(" (FORMAT BINARY)" if oids is not None else "")
    statement = psql.SQL("COPY {} ({}) FROM STDIN{}").format(target, columns, options)
    pick = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        if oids is not None:
            copy.set_types([*oids, INT8] if ordinal else oids)
        for number, row in enumerate(rows):
            values: Any = pick(row)
            if json_at and oids is None:
                values = [orjson.dumps(v, default=str).decode() if i in json_at and isinstance(v, (dict, list))
                          else v for i, v in enumerate(values)]
            copy.write_row((*values, number) if ordinal else values)
