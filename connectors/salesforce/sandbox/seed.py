"""Seeding the sandbox from the project's test-data generator, and the login users it needs.

Rows arrive from ``Dataset(config).iter_salesforce(obj)`` already in the stored forms (canonical
datetime text, dates, numbers, booleans) and are inserted with ``executemany`` in batches inside one
transaction per object, before the secondary indexes exist (building an index once is much cheaper
than maintaining it through a million inserts).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

import structlog
from sqlalchemy import bindparam, func, insert, select

from connectors.testdata.config import GeneratorConfig
from connectors.testdata.generator import Dataset

from .config import SeedConfig, UserCredential
from .db import Database, compile_sql
from .schema import ObjectSchema, Schema
from .store import Store

log = structlog.get_logger(__name__)

BATCH = 20_000


def _tuples(rows: Iterable[Mapping[str, Any]], names: list[str], deleted_at: bool) -> Iterator[tuple[Any, ...]]:
    if not deleted_at:
        for row in rows:
            yield tuple(map(row.get, names))
        return
    for row in rows:
        values = tuple(map(row.get, names))
        stamp = row.get("SystemModstamp") if row.get("IsDeleted") else None
        yield (*values, stamp)


def insert_rows(db: Database, obj: ObjectSchema, rows: Iterable[Mapping[str, Any]]) -> int:
    """Bulk-insert native rows (keyed by field name) into ``obj``'s table; returns the count."""
    names = [f.name for f in obj.stored]
    has_deleted = "IsDeleted" in names
    columns = [*names, "_deleted_at"] if has_deleted else names
    t = obj.table
    sql = compile_sql(insert(t).values({c: bindparam(f"v_{c}", required=False) for c in columns}))
    order = [name.removeprefix("v_") for name in sql.names]
    position = {c: i for i, c in enumerate(columns)}
    reorder = [position[c] for c in order]
    identity = reorder == list(range(len(columns)))
    count = 0
    source = _tuples(rows, names, has_deleted)
    with db.write() as conn:
        while batch := list(islice(source, BATCH)):
            if not identity:
                batch = [tuple(row[i] for i in reorder) for row in batch]
            conn.executemany(sql.text, batch)
            count += len(batch)
    return count


def make_dataset(config: SeedConfig, custom: Mapping[str, Any]) -> Dataset:
    """The generator's dataset for this seed config; its ``objects`` are what describe serves (a defect run may
    alter the schema on purpose, e.g. a picklist value the ERP does not know)."""
    gen = GeneratorConfig(seed=config.seed, defects=config.defects, **config.options)
    return Dataset(gen, custom_objects=custom or None)


def seed_from_dataset(db: Database, schema: Schema, dataset: Dataset) -> dict[str, int]:
    """Fill the tables from the generator (deterministic for a seed); returns rows per object."""
    counts: dict[str, int] = {}
    for name in dataset.salesforce_objects():
        obj = schema.get(name)
        if obj is None:
            continue
        started = time.perf_counter()
        counts[name] = insert_rows(db, obj, dataset.iter_salesforce(name))
        log.info("sandbox.seed.object", sobject=name, rows=counts[name],
                 seconds=round(time.perf_counter() - started, 2))
    return counts


def is_empty(db: Database, schema: Schema) -> bool:
    with db.read() as conn:
        for obj in schema:
            sql = compile_sql(select(func.count()).select_from(obj.table))
            if conn.execute(sql.text, sql.params()).fetchone()[0]:
                return False
    return True


def ensure_users(db: Database, store: Store, schema: Schema, users: list[UserCredential]) -> dict[str, str]:
    """The User Id of every login user, creating the User record of any that the data lacks."""
    user = schema.get("User")
    ids: dict[str, str] = {}
    if user is None:
        raise ValueError("the org needs a User object")
    t = user.table
    sql = compile_sql(select(t.c.Id).where(t.c.Username == bindparam("u", required=False)))
    for cred in users:
        with db.write() as conn:
            row = conn.execute(sql.text, sql.params(u=cred.username)).fetchone()
            if row is None:
                first_user = ids.get(users[0].username.lower(), "")
                sfid = store.insert(conn, user, _user_values(cred), first_user or "005000000000000AAA")
                if not first_user:  # the first login user created itself
                    store.write_columns(conn, user, sfid, {"CreatedById": sfid, "LastModifiedById": sfid})
            else:
                sfid = row[0]
        ids[cred.username.lower()] = sfid
    return ids


def _user_values(cred: UserCredential) -> dict[str, Any]:
    local = cred.username.split("@")[0]
    email = cred.email or (cred.username if "." in cred.username.split("@")[-1] else f"{local}@example.com")
    return {"Username": cred.username, "LastName": cred.last_name, "FirstName": "Sandbox", "Email": email,
            "Alias": local[:8] or "sandbox", "CompanyName": "crmsync sandbox", "Title": "API integration"}
