"""A parsed SOQL query + the org schema -> a :class:`QueryPlan`: the SQL to snapshot, page, count or export it.

The plan holds four statements, compiled once:
- ``cursor_insert``: the matching rowids, in result order, appended to the cursor table (the snapshot);
- ``page``: one page of a cursor (a rowid range of the cursor table joined back to the data);
- ``count``: ``COUNT()`` / ``COUNT(field)`` answers;
- ``csv``: every matching row as one ready-made Bulk 2.0 CSV line, built inside SQLite.
each record written as JSON or CSV by SQLite itself (see render.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, bindparam, case, cast, func, insert, literal, select
from sqlalchemy.sql import Select

from connectors.salesforce.objects import ADDRESS_PARTS

from ..db import SQL, compile_sql
from ..errors import SalesforceApiError, invalid_type
from ..schema import ObjectSchema, Schema
from . import nodes as n
from . import render
from .filters import FilterCompiler
from .parser import error_message, malformed, parse
from .render import Leaf, Parent
from .resolve import Hop, Resolved, Resolver, invalid_field

MAX_OFFSET = 2000


@dataclass
class QueryPlan:
    query: n.Query
    root: ObjectSchema
    include_deleted: bool
    tree: list[Leaf | Parent]
    resolver: Resolver
    where: ColumnElement[bool] | None
    order: list[ColumnElement[Any]]
    needed_hops: set[tuple[str, ...]]
    selected: list[tuple[str, Resolved]]  # (header, field) in SELECT order, for CSV
    counts: list[tuple[str, ColumnElement[Any] | None]] = field(default_factory=list)

    @property
    def is_count(self) -> bool:
        return self.query.is_count

    @property
    def is_aggregate(self) -> bool:
        return self.query.is_aggregate

    def _filtered(self, stmt: Select[Any]) -> Select[Any]:
        if self.where is not None:
            stmt = stmt.where(self.where)
        return stmt

    def _limited(self, stmt: Select[Any]) -> Select[Any]:
        if self.query.limit is not None:
            stmt = stmt.limit(self.query.limit)
        if self.query.offset:
            stmt = stmt.offset(self.query.offset)
        return stmt

    @cached_property
    def record_json(self) -> ColumnElement[Any]:
        """The whole JSON record, built by SQLite; ``sobjects_url`` (/services/data/vNN.N/sobjects/) is bound."""
        base = self.resolver.base
        url: ColumnElement[Any] = bindparam("sobjects_url", required=False)
        return render.record_json(self.tree, render.text(self.root.name), base.c.Id, url)

    @cached_property
    def cursor_insert(self) -> SQL:
        base = self.resolver.base
        stmt = select(base.c._rid).select_from(self.resolver.from_clause(self.needed_hops))
        stmt = self._limited(self._filtered(stmt).order_by(*self.order))
        return compile_sql(insert(self.resolver.schema.cursor_rows).from_select(["rid"], stmt))

    @cached_property
    def page(self) -> SQL:
        """One page of a cursor: each record's JSON (bytes), in cursor order (params lo, hi, sobjects_url)."""
        cursor = self.resolver.schema.cursor_rows
        base = self.resolver.base
        joined = self.resolver.from_clause(base=cursor.join(base, base.c._rid == cursor.c.rid))
        # As a BLOB: the page is joined from UTF-8 bytes without decoding and re-encoding every record.
        stmt = select(cast(self.record_json, LargeBinary)).select_from(joined).where(
            cursor.c.seq.between(bindparam("lo", required=False), bindparam("hi", required=False)))
        return compile_sql(stmt.order_by(cursor.c.seq))

    @cached_property
    def by_id(self) -> SQL:
        """One record's JSON and IsDeleted, by Id (record reads: GET /sobjects/X/{id})."""
        base = self.resolver.base
        deleted = base.c.IsDeleted if "IsDeleted" in base.c else literal(0)
        stmt = select(self.record_json, deleted).select_from(self.resolver.from_clause()).where(
            base.c.Id == bindparam("id", required=False))
        return compile_sql(stmt)

    @cached_property
    def count(self) -> SQL:
        exprs = [expr if expr is not None else literal(1) for _, expr in self.counts] or [literal(1)]
        inner = self._limited(self._filtered(
            select(*(e.label(f"c{i}") for i, e in enumerate(exprs))).select_from(
                self.resolver.from_clause(self.needed_hops))))
        sub = inner.subquery()
        outs = [func.count(sub.c[f"c{i}"]) for i in range(len(exprs))]
        return compile_sql(select(*outs))

    def _csv_line(self, delimiter: str, line_ending: str) -> ColumnElement[Any]:
        """One CSV line as bytes, line ending included (SQLite does the joining, quoting and encoding)."""
        cells = [render.csv_value(res.field, res.expr) for _, res in self.selected]
        return cast(render.csv_line(cells, delimiter, line_ending), LargeBinary)

    def csv(self, delimiter: str, line_ending: str = "\n") -> SQL:
        """Every matching row as one CSV line (values always quoted, nulls as ""), header excluded."""
        stmt = select(self._csv_line(delimiter, line_ending)).select_from(self.resolver.from_clause())
        return compile_sql(self._limited(self._filtered(stmt).order_by(*self.order)))

    @property
    def splittable(self) -> bool:
        """Whether rows come in plain rowid order (no ORDER BY, LIMIT or OFFSET): then rowid ranges can be
        exported by parallel workers and concatenated."""
        q = self.query
        return not q.order_by and q.limit is None and not q.offset

    def csv_range(self, delimiter: str, line_ending: str = "\n") -> SQL:
        """``csv`` restricted to rowids ``[rid_lo, rid_hi]`` (bound parameters)."""
        base = self.resolver.base
        line = self._csv_line(delimiter, line_ending)
        stmt = self._filtered(select(line).select_from(self.resolver.from_clause())).where(
            base.c._rid.between(bindparam("rid_lo", required=False), bindparam("rid_hi", required=False)))
        return compile_sql(stmt.order_by(*self.order))

    @cached_property
    def rid_bounds(self) -> SQL:
        base = self.resolver.base
        return compile_sql(select(func.min(base.c._rid), func.max(base.c._rid)))

    @property
    def csv_header(self) -> list[str]:
        return [header for header, _ in self.selected]

    def check_bulk(self) -> None:
        """Bulk 2.0 refuses compound and base64 fields and aggregate queries (reference §6.5, §12.1)."""
        for _, res in self.selected:
            if res.field.is_compound or res.field.type == "base64":
                raise SalesforceApiError(400, "INVALID_FIELD", "Selecting compound data not supported in Bulk Query")
        if self.is_aggregate:
            raise SalesforceApiError(400, "INVALIDJOB", "Aggregate queries are not supported by the Bulk API")


class _Builder:
    """Builds one plan; split from QueryPlan so the plan itself stays a plain value."""

    def __init__(self, schema: Schema, query: n.Query, include_deleted: bool, today: date) -> None:
        root = schema.get(query.sobject)
        if root is None or not root.obj.queryable:
            err = invalid_type(query.sobject)
            raise SalesforceApiError(400, err.code, error_message(query.text, query.sobject_pos.line,
                                                                 query.sobject_pos.column, err.message))
        self.schema, self.query, self.root = schema, query, root
        self.include_deleted, self.today = include_deleted, today
        self.resolver = Resolver(schema, root, query.text, query.alias)
        self.tree: list[Leaf | Parent] = []
        self.selected: list[tuple[str, Resolved]] = []
        self.count_hops: set[tuple[str, ...]] = set()

    def build(self) -> QueryPlan:
        counts = self._select()
        where, needed = self._where()
        order, order_hops = self._order()
        self._check_limits()
        return QueryPlan(self.query, self.root, self.include_deleted, self.tree, self.resolver, where, order,
                         needed | order_hops | self.count_hops, self.selected, counts)

    # ----------------------------------------------------------------------------- SELECT
    def _select(self) -> list[tuple[str, ColumnElement[Any] | None]]:
        counts: list[tuple[str, ColumnElement[Any] | None]] = []
        fields = [item for item in self.query.select if isinstance(item, n.FieldItem)]
        if self.query.is_aggregate and fields:
            bad = fields[0].field
            raise malformed(self.query.text, bad.pos, f"Field must be grouped or aggregated: {bad.text}")
        for i, item in enumerate(self.query.select):
            if isinstance(item, n.CountItem):
                if item.field is None and len(self.query.select) > 1:
                    raise malformed(self.query.text, item.pos, "unexpected token: 'COUNT'")
                res = None if item.field is None else self.resolver.resolve(item.field)
                self.count_hops.update(h.key for h in (res.hops if res else ()))
                counts.append((item.alias or f"expr{i}", None if res is None else res.expr))
            else:
                self._select_field(item.field)
        return counts

    def _select_field(self, ref: n.FieldRef) -> None:
        res = self.resolver.resolve(ref)
        siblings = self.tree
        for hop in res.hops:
            node = next((c for c in siblings if isinstance(c, Parent) and c.key == hop.name), None)
            if node is None:
                node = Parent(hop.name, hop.id_expr, self._type_expr(hop))
                siblings.append(node)
            siblings = node.children
        key = res.field.name
        if any(isinstance(c, Leaf) and c.key == key for c in siblings):
            raise malformed(self.query.text, ref.pos, f"duplicate field selected: {ref.text}")
        leaf = self._leaf(res)
        siblings.append(leaf)
        self.selected.append((leaf.header, res))

    def _leaf(self, res: Resolved) -> Leaf:
        f = res.field
        header = ".".join([*(h.name for h in res.hops), f.name])
        if not f.is_compound:
            return Leaf(f.name, render.json_value(f, res.expr), render.csv_value(f, res.expr), header)
        keys = tuple(_component_key(f.name, p.name) for p in res.component_fields)
        values = [render.json_value(p, c) for p, c in zip(res.component_fields, res.components, strict=True)]
        return Leaf(f.name, render.json_compound(keys, values), None, header)

    def _type_expr(self, hop: Hop) -> ColumnElement[Any]:
        """The parent's object name: fixed, or read from the id prefix for a polymorphic relationship."""
        if not hop.polymorphic:
            return render.text(hop.targets[0][0].name)
        prefix = func.substr(hop.id_expr, 1, 3)
        return case(*((prefix == obj.obj.key_prefix, render.text(obj.name)) for obj, _ in hop.targets),
                    else_=render.text("Name"))

    # ----------------------------------------------------------------------------- WHERE, ORDER BY
    def _where(self) -> tuple[ColumnElement[bool] | None, set[tuple[str, ...]]]:
        parts = []
        filters = FilterCompiler(self.resolver, self.today)
        if self.query.where is not None:
            parts.append(filters.compile(self.query.where))
        if not self.include_deleted and "IsDeleted" in self.root.table.c:
            parts.append(self.resolver.base.c.IsDeleted == 0)
        where = None if not parts else parts[0] if len(parts) == 1 else parts[0] & parts[1]
        return where, filters.used_hops

    def _order(self) -> tuple[list[ColumnElement[Any]], set[tuple[str, ...]]]:
        order: list[ColumnElement[Any]] = []
        hops: set[tuple[str, ...]] = set()
        for item in self.query.order_by:
            res = self.resolver.resolve(item.field)
            if res.field.is_compound or not res.field.sortable:
                raise invalid_field(self.query.text, item.field.pos,
                                    f"field '{res.field.name}' can not be sorted in a query call")
            hops.update(h.key for h in res.hops)
            expr = res.expr.desc() if item.descending else res.expr.asc()
            if item.nulls_first is not None:
                expr = expr.nulls_first() if item.nulls_first else expr.nulls_last()
            order.append(expr)
        base = self.resolver.base
        order.append(base.c.Id if order else base.c._rid)  # a unique tie-breaker keeps the order stable
        return order, hops

    def _check_limits(self) -> None:
        q = self.query
        if q.offset is not None and q.offset > MAX_OFFSET:
            raise SalesforceApiError(400, "NUMBER_OUTSIDE_VALID_RANGE",
                                     f"Maximum SOQL offset allowed is {MAX_OFFSET}")


def _component_key(compound: str, component: str) -> str:
    """REST key of a compound's component: BillingPostalCode -> postalCode, Geo__Latitude__s -> latitude."""
    for part in ADDRESS_PARTS:
        if component.endswith(part) or component.endswith(part + "__s"):
            return part[0].lower() + part[1:]
    return component


def compile_query(schema: Schema, text: str, include_deleted: bool, today: date) -> QueryPlan:
    """Parse and plan ``text``; raises SalesforceApiError with Salesforce's code and message on any problem."""
    return _Builder(schema, parse(text), include_deleted, today).build()


def plan_query(schema: Schema, query: n.Query, include_deleted: bool, today: date | None = None) -> QueryPlan:
    """Plan a query built as nodes (record reads name their fields without going through SOQL text)."""
    return _Builder(schema, query, include_deleted, today or date.today()).build()
