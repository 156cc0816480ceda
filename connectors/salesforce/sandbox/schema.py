"""SQLite tables for the org's objects, built with SQLAlchemy Core from the describe metadata (objects.py).

One table per sObject, one column per stored field (address/location compounds are built from their
components at read time), plus ``_rid`` (an ``INTEGER PRIMARY KEY``, i.e. the rowid, which query
cursors snapshot) and ``_deleted_at`` (when the row went to the recycle bin). Text fields use
``NOCASE`` like Salesforce's case-insensitive filters and unique/external ids; ids, dates and datetimes
stay binary, stored as fixed-width canonical text (see timefmt) so range filters use their indexes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from connectors.salesforce.objects import SField, SObject

DIALECT = sqlite.dialect(paramstyle="qmark")

INTEGER_TYPES = frozenset({"int", "long", "boolean"})
REAL_TYPES = frozenset({"double", "currency", "percent"})
BINARY_TEXT_TYPES = frozenset({"id", "reference", "date", "datetime", "time", "base64"})
NUMERIC_TYPES = frozenset({"int", "long", "double", "currency", "percent"})
AUDIT_REFERENCES = frozenset({"CreatedById", "LastModifiedById", "MasterRecordId"})


def _column(f: SField) -> Column[Any]:
    if f.type in INTEGER_TYPES:
        return Column(f.name, Integer)
    if f.type in REAL_TYPES:
        return Column(f.name, Float)
    if f.type in BINARY_TEXT_TYPES:
        return Column(f.name, String)
    return Column(f.name, String(collation="NOCASE"))


@dataclass
class ObjectSchema:
    """One object: its metadata, its table and case-insensitive lookups (SOQL and JSON names ignore case)."""

    obj: SObject
    table: Table
    fields_by_lower: dict[str, SField] = field(default_factory=dict)
    relationships: dict[str, SField] = field(default_factory=dict)  # relationshipName.lower() -> reference field
    stored: tuple[SField, ...] = ()
    _indexes: list[Index] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.obj.name

    def field(self, name: str) -> SField | None:
        return self.fields_by_lower.get(name.lower())

    def relationship(self, name: str) -> SField | None:
        return self.relationships.get(name.lower())

    def col(self, name: str) -> Column[Any]:
        return self.table.c[name]

    def indexes(self) -> list[Index]:
        """The indexes a real org has on such fields (Id, audit dates, unique/external ids, lookups); built once."""
        if not self._indexes:
            self._indexes = list(self._make_indexes())
        return self._indexes

    def _make_indexes(self) -> Iterator[Index]:
        t, obj = self.table, self.obj
        yield Index(f"ux_{obj.name}_Id", t.c.Id, unique=True)
        if "SystemModstamp" in t.c:  # the replication cursor of every incremental client
            yield Index(f"ix_{obj.name}_SystemModstamp", t.c.SystemModstamp, t.c.Id)
        for f in self.stored:
            # Unique and external ids are enforced by the store among live rows (the recycle bin does not
            # hold values), and seeded defect data may break them on purpose, so the index is not UNIQUE.
            # Lookups to business objects are indexed for joins; owner/audit user references are not (every
            # index slows seeding a million rows, and nothing filters on them in bulk).
            if f.unique or f.external_id or (f.type == "reference" and f.name not in AUDIT_REFERENCES
                                               and "User" not in f.reference_to):
                yield Index(f"ix_{obj.name}_{f.name}", t.c[f.name])


class Schema:
    """Every object's table, plus the sandbox's own bookkeeping table for query cursors."""

    def __init__(self, objects: Mapping[str, SObject]) -> None:
        self.objects = dict(objects)
        self.metadata = MetaData()
        self._by_lower: dict[str, ObjectSchema] = {}
        self.by_prefix: dict[str, str] = {}
        for obj in self.objects.values():
            self._by_lower[obj.name.lower()] = self._object(obj)
            self.by_prefix[obj.key_prefix] = obj.name
        # Query cursors: the ids a query matched, in result order, fixed when the query ran. ``seq`` is the
        # rowid, so a page is a rowid range scan and a cursor is a contiguous block of it.
        self.cursor_rows = Table("_sandbox_cursor_rows", self.metadata,
                                 Column("seq", Integer, primary_key=True), Column("rid", Integer, nullable=False))

    def _object(self, obj: SObject) -> ObjectSchema:
        stored = obj.stored_fields
        table = Table(obj.name, self.metadata, Column("_rid", Integer), *(_column(f) for f in stored),
                      Column("_deleted_at", String), PrimaryKeyConstraint("_rid"))
        schema = ObjectSchema(obj, table, stored=stored)
        for f in obj.fields:
            schema.fields_by_lower[f.name.lower()] = f
            if f.type == "reference" and f.relationship_name:
                schema.relationships[f.relationship_name.lower()] = f
        return schema

    def get(self, name: str) -> ObjectSchema | None:
        return self._by_lower.get(name.lower())

    def __iter__(self) -> Iterator[ObjectSchema]:
        return iter(self._by_lower.values())

    def object_for_id(self, sfid: str) -> ObjectSchema | None:
        name = self.by_prefix.get(sfid[:3])
        return self._by_lower[name.lower()] if name else None

    def create_tables_sql(self) -> list[str]:
        return [str(CreateTable(t, if_not_exists=True).compile(dialect=DIALECT)) for t in self.metadata.sorted_tables]

    def create_indexes_sql(self) -> list[str]:
        out = []
        for obj in self:
            for index in obj.indexes():
                out.append(str(CreateIndex(index, if_not_exists=True).compile(dialect=DIALECT)))
        return out
