"""Record writes as the org performs them: defaults, derived fields, audit stamps, references, unique values.

Every write sets LastModifiedDate, SystemModstamp and LastModifiedById; a delete moves the row to the
recycle bin (IsDeleted = true, ``_deleted_at`` set) where queryAll and getDeleted still see it. All
methods run on a connection inside ``Database.write()`` so a composite request or a bulk chunk is one
transaction. Failures raise RecordErrors carrying Salesforce's codes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from connectors.salesforce.objects import SField, id_for, id_number, is_valid_id, to_18

from .db import SQL, Database, compile_sql
from .derived import derive
from .errors import FieldError, RecordErrors
from .schema import ObjectSchema, Schema
from .timefmt import Clock, from_epoch
from .validation import check_required, prepare

AUDIT_USERS = ("CreatedById", "LastModifiedById")


class MultipleMatches(Exception):
    """An upsert's external id matched several records (REST answers 300 with their URLs)."""

    def __init__(self, field: str, ids: list[str]) -> None:
        super().__init__(f"{field} matched {len(ids)} records")
        self.field = field
        self.ids = ids


def _error(code: str, message: str, fields: tuple[str, ...] = ()) -> RecordErrors:
    return RecordErrors([FieldError(code, message, fields)])


def not_found_error() -> RecordErrors:
    return _error("NOT_FOUND", "The requested resource does not exist")


def deleted_error() -> RecordErrors:
    return _error("ENTITY_IS_DELETED", "entity is deleted")


class Store:
    def __init__(self, db: Database, schema: Schema, clock: Clock) -> None:
        self.db = db
        self.schema = schema
        self.clock = clock
        self._next: dict[str, int] = {}
        self._sql: dict[tuple[Any, ...], SQL] = {}
        self._lock = threading.Lock()

    # ----------------------------------------------------------------------------- statements
    def _stmt(self, key: tuple[Any, ...], build: Any) -> SQL:
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = compile_sql(build())
        return sql

    def _columns(self, obj: ObjectSchema) -> list[str]:
        return [f.name for f in obj.stored] + ["_deleted_at"]

    def fetch(self, conn: sqlite3.Connection, obj: ObjectSchema, sfid: str) -> dict[str, Any] | None:
        """The stored record (every stored field and ``_deleted_at``), or None."""
        t, names = obj.table, self._columns(obj)
        sql = self._stmt(("fetch", obj.name), lambda: select(*(t.c[n] for n in names)).where(
            t.c.Id == bindparam("id", required=False)))
        row = conn.execute(sql.text, sql.params(id=sfid)).fetchone()
        return None if row is None else dict(zip(names, row, strict=True))

    def now(self) -> str:
        return from_epoch(self.clock())

    def new_id(self, conn: sqlite3.Connection, obj: ObjectSchema) -> str:
        with self._lock:
            if obj.name not in self._next:
                t = obj.table
                sql = compile_sql(select(func.max(t.c.Id)))
                top = conn.execute(sql.text, sql.params()).fetchone()[0]
                self._next[obj.name] = id_number(top) + 1 if top else 1
            n = self._next[obj.name]
            self._next[obj.name] = n + 1
        return id_for(obj.obj.key_prefix, n)

    # ----------------------------------------------------------------------------- checks against the data
    def _check_references(self, conn: sqlite3.Connection, obj: ObjectSchema, values: dict[str, Any]) -> None:
        errors = []
        for name, value in list(values.items()):
            f = obj.field(name)
            if f is None or f.type != "reference" or value is None or name in AUDIT_USERS:
                continue
            err = self._reference_error(conn, f, value)
            if err is None:
                values[name] = to_18(value)
            else:
                errors.append(err)
        if errors:
            raise RecordErrors(errors)

    def _reference_error(self, conn: sqlite3.Connection, f: SField, value: str) -> FieldError | None:
        if not is_valid_id(value):
            return FieldError("MALFORMED_ID", f"{f.label}: id value of incorrect type: {value}", (f.name,))
        target = self.schema.object_for_id(value)
        if target is None:
            unknown = [t for t in f.reference_to if self.schema.get(t) is None]
            return None if unknown else FieldError(
                "FIELD_INTEGRITY_EXCEPTION", f"{f.label}: id value of incorrect type: {value}", (f.name,))
        if target.name not in f.reference_to:
            return FieldError("FIELD_INTEGRITY_EXCEPTION", f"{f.label}: id value of incorrect type: {value}",
                              (f.name,))
        row = self.fetch(conn, target, to_18(value))
        if row is None:
            return FieldError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", (f.name,))
        if row.get("IsDeleted"):
            return FieldError("ENTITY_IS_DELETED", "entity is deleted", (f.name,))
        return None

    def live_matches(self, conn: sqlite3.Connection, obj: ObjectSchema, name: str, value: Any,
                     limit: int = 10) -> list[str]:
        """Ids of records outside the recycle bin whose ``name`` equals ``value`` (text: ignoring case)."""
        t = obj.table
        live = t.c.IsDeleted == 0 if "IsDeleted" in t.c else t.c.Id.is_not(None)
        sql = self._stmt(("match", obj.name, name), lambda: select(t.c.Id).where(
            t.c[name] == bindparam("v", required=False), live).order_by(t.c.Id).limit(bindparam("n", required=False)))
        return [r[0] for r in conn.execute(sql.text, sql.params(v=value, n=limit))]

    def _check_unique(self, conn: sqlite3.Connection, obj: ObjectSchema, values: Mapping[str, Any],
                      own_id: str | None) -> None:
        for f in obj.stored:
            value = values.get(f.name)
            if not f.unique or value is None:
                continue
            others = [i for i in self.live_matches(conn, obj, f.name, value, 2) if i != own_id]
            if others:
                raise _error("DUPLICATE_VALUE",
                             f"duplicate value found: {f.name} duplicates value on record with id: {others[0]}",
                             (f.name,))

    # ----------------------------------------------------------------------------- writes
    def insert(self, conn: sqlite3.Connection, obj: ObjectSchema, values: Mapping[str, Any], user_id: str,
               source: str = "json", allow: frozenset[str] = frozenset()) -> str:
        if not obj.obj.createable:
            raise _error("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", f"entity type {obj.name} does not support insert")
        given = prepare(obj, values, "insert", source, allow)
        record = self._defaults(conn, obj, user_id)
        record.update({k: v for k, v in given.items() if v is not None or k not in record})
        derive(obj.name, record, set(obj.table.c.keys()))
        check_required(obj, record)
        self._check_references(conn, obj, record)
        self._check_unique(conn, obj, record, None)
        names = self._columns(obj)
        t = obj.table
        sql = self._stmt(("insert", obj.name), lambda: insert(t).values(
            {n: bindparam(f"v_{n}", required=False) for n in names}))
        conn.execute(sql.text, sql.params(**{f"v_{n}": record.get(n) for n in names}))
        return str(record["Id"])

    def _defaults(self, conn: sqlite3.Connection, obj: ObjectSchema, user_id: str) -> dict[str, Any]:
        now = self.now()
        rec: dict[str, Any] = {"Id": self.new_id(conn, obj)}
        for f in obj.stored:
            if f.type == "boolean":
                rec[f.name] = int(bool(f.default_value))
            elif f.default_value is not None:
                rec[f.name] = f.default_value
        for name, value in (("IsDeleted", 0), ("OwnerId", user_id), ("CreatedById", user_id),
                            ("LastModifiedById", user_id), ("CreatedDate", now), ("LastModifiedDate", now),
                            ("SystemModstamp", now)):
            if obj.field(name) is not None:
                rec[name] = value
        if obj.field("CommunityNickname") is not None:
            rec["CommunityNickname"] = f"user{id_number(rec['Id'])}"
        return rec

    def update(self, conn: sqlite3.Connection, obj: ObjectSchema, sfid: str, values: Mapping[str, Any],
               user_id: str, source: str = "json", allow: frozenset[str] = frozenset()) -> None:
        if not obj.obj.updateable:
            raise _error("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", f"entity type {obj.name} does not support update")
        current = self._live(conn, obj, sfid)
        given = prepare(obj, values, "update", source, allow | {"Id"})
        if given.get("Id") not in (None, current["Id"]) and to_18(str(given["Id"])) != current["Id"]:
            raise _error("INVALID_FIELD", "Id in the body does not match the record being updated", ("Id",))
        given.pop("Id", None)
        merged = {**current, **given}
        derive(obj.name, merged, set(obj.table.c.keys()))
        changed = {k: v for k, v in merged.items() if k in given or v != current.get(k)}
        self._check_references(conn, obj, changed)
        self._check_unique(conn, obj, changed, current["Id"])
        now = self.now()
        for name, value in (("LastModifiedDate", now), ("SystemModstamp", now), ("LastModifiedById", user_id)):
            if obj.field(name) is not None:
                changed[name] = value
        self.write_columns(conn, obj, current["Id"], changed)

    def write_columns(self, conn: sqlite3.Connection, obj: ObjectSchema, sfid: str, values: Mapping[str, Any]) -> None:
        """Set stored columns of one record as given (no validation, no audit stamps)."""
        names = tuple(sorted(values))
        t = obj.table
        sql = self._stmt(("update", obj.name, names), lambda: update(t).where(
            t.c.Id == bindparam("w_id", required=False)).values(
                {n: bindparam(f"v_{n}", required=False) for n in names}))
        conn.execute(sql.text, sql.params(w_id=sfid, **{f"v_{n}": values[n] for n in names}))

    def _live(self, conn: sqlite3.Connection, obj: ObjectSchema, sfid: str) -> dict[str, Any]:
        """The record ``sfid`` if it exists and is not in the recycle bin."""
        if not is_valid_id(sfid):
            raise _error("MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {sfid}", ("Id",))
        current = self.fetch(conn, obj, to_18(sfid))
        if current is None or self.schema.object_for_id(sfid) is not obj:
            raise not_found_error()
        if current.get("IsDeleted"):
            raise deleted_error()
        return current

    def upsert(self, conn: sqlite3.Connection, obj: ObjectSchema, field_name: str, value: Any,
               values: Mapping[str, Any], user_id: str, source: str = "json") -> tuple[str, bool]:
        """Update the one live record whose ``field_name`` equals ``value``, or insert one; ``(id, created)``."""
        f = self.external_id_field(obj, field_name)
        body = {k: v for k, v in values.items() if k.lower() != f.name.lower()}
        if f.name == "Id":
            if value in (None, ""):
                return self.insert(conn, obj, body, user_id, source), True
            self.update(conn, obj, str(value), body, user_id, source)
            return to_18(str(value)), False
        matches = self.live_matches(conn, obj, f.name, value)
        if len(matches) > 1:
            raise MultipleMatches(f.name, matches)
        if matches:
            self.update(conn, obj, matches[0], body, user_id, source)
            return matches[0], False
        return self.insert(conn, obj, {**body, f.name: value}, user_id, source, allow=frozenset({f.name})), True

    def external_id_field(self, obj: ObjectSchema, name: str) -> SField:
        f = obj.field(name)
        if f is None or not (f.external_id or f.name == "Id"):
            raise _error("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}")
        return f

    def delete(self, conn: sqlite3.Connection, obj: ObjectSchema, sfid: str, user_id: str) -> str:
        """Move a record to the recycle bin (queryAll and getDeleted still see it)."""
        if not obj.obj.deletable:
            raise _error("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id")
        current = self._live(conn, obj, sfid)
        if obj.field("IsDeleted") is None:  # objects without a recycle bin (Group) are deleted for good
            return self.hard_delete(conn, obj, str(current["Id"]))
        now = self.now()
        values: dict[str, Any] = {"IsDeleted": 1, "_deleted_at": now, "SystemModstamp": now}
        for name, value in (("LastModifiedDate", now), ("LastModifiedById", user_id)):
            if obj.field(name) is not None:
                values[name] = value
        self.write_columns(conn, obj, current["Id"], values)
        return str(current["Id"])

    def changed_ids(self, conn: sqlite3.Connection, obj: ObjectSchema, lo: str, hi: str) -> list[str]:
        """getUpdated: live records whose SystemModstamp is in ``[lo, hi)``, oldest first."""
        t = obj.table
        sql = self._stmt(("updated", obj.name), lambda: select(t.c.Id).where(
            t.c.SystemModstamp >= bindparam("lo", required=False), t.c.SystemModstamp < bindparam("hi", required=False),
            t.c.IsDeleted == 0).order_by(t.c.SystemModstamp, t.c.Id).limit(600_000))
        return [r[0] for r in conn.execute(sql.text, sql.params(lo=lo, hi=hi))]

    def deleted_rows(self, conn: sqlite3.Connection, obj: ObjectSchema, lo: str, hi: str) -> list[tuple[str, str]]:
        """getDeleted: (Id, deletedDate) of records deleted in ``[lo, hi)``."""
        t = obj.table
        sql = self._stmt(("deleted", obj.name), lambda: select(t.c.Id, t.c._deleted_at).where(
            t.c._deleted_at >= bindparam("lo", required=False), t.c._deleted_at < bindparam("hi", required=False),
            t.c.IsDeleted == 1).order_by(t.c._deleted_at, t.c.Id).limit(600_000))
        return [(r[0], r[1]) for r in conn.execute(sql.text, sql.params(lo=lo, hi=hi))]

    def hard_delete(self, conn: sqlite3.Connection, obj: ObjectSchema, sfid: str) -> str:
        """Remove a record for good (Bulk hardDelete): not even queryAll sees it afterwards."""
        if not is_valid_id(sfid) or self.fetch(conn, obj, to_18(sfid)) is None:
            raise not_found_error()
        t = obj.table
        sql = self._stmt(("hard", obj.name), lambda: t.delete().where(t.c.Id == bindparam("id", required=False)))
        conn.execute(sql.text, sql.params(id=to_18(sfid)))
        return to_18(sfid)
