"""SOQL WHERE -> a SQLAlchemy boolean expression with bound parameters, type-checked the way Salesforce checks.

Literal/field mismatches fail as the API fails them (400 INVALID_QUERY_FILTER_OPERATOR, "value of filter
criterion for field 'X' must be of type dateTime and should not be enclosed in quotes"). ``!=`` and
``NOT IN`` match nulls too, as in SOQL (null is a value there, not SQL's unknown).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from connectors.salesforce.objects import SField, is_valid_id, to_18

from ..errors import SalesforceApiError
from ..schema import INTEGER_TYPES, NUMERIC_TYPES
from . import nodes as n
from .dateliterals import date_range
from .parser import error_message, malformed
from .resolve import Resolved, Resolver, invalid_field

_TYPE_NAMES = {"datetime": "dateTime", "int": "integer", "long": "long", "currency": "double", "percent": "double"}
_TEXT_TYPES = frozenset({"string", "textarea", "picklist", "multipicklist", "combobox", "email", "phone", "url",
                         "encryptedstring", "id", "reference", "anyType", "base64"})


def filter_error(text: str, pos: n.Pos, detail: str) -> SalesforceApiError:
    return SalesforceApiError(400, "INVALID_QUERY_FILTER_OPERATOR", error_message(text, pos.line, pos.column, detail))


class FilterCompiler:
    """Compiles one WHERE tree; ``used_hops`` collects the relationship joins the filter needs."""

    def __init__(self, resolver: Resolver, today: date) -> None:
        self.resolver = resolver
        self.text = resolver.text
        self.today = today
        self.used_hops: set[tuple[str, ...]] = set()

    def compile(self, cond: n.Condition) -> ColumnElement[bool]:
        if isinstance(cond, n.BoolOp):
            parts = [self.compile(c) for c in cond.items]
            return and_(*parts) if cond.op == "and" else or_(*parts)
        if isinstance(cond, n.Not):
            return not_(self.compile(cond.item))
        if isinstance(cond, n.Comparison):
            return self._comparison(cond)
        if isinstance(cond, n.InList):
            return self._in(cond)
        return self._like(cond)

    # ----------------------------------------------------------------------------- field access
    def _field(self, ref: n.FieldRef) -> Resolved:
        resolved = self.resolver.resolve(ref)
        f = resolved.field
        if f.is_compound or not f.filterable:
            raise invalid_field(self.text, ref.pos, f"field '{f.name}' can not be filtered in a query call")
        self.used_hops.update(h.key for h in resolved.hops)
        return resolved

    # ----------------------------------------------------------------------------- predicates
    def _comparison(self, cond: n.Comparison) -> ColumnElement[bool]:
        res = self._field(cond.field)
        col, lit = res.expr, cond.value
        if lit.kind == "null":
            if cond.op not in ("=", "!="):
                raise malformed(self.text, lit.pos, f"unexpected token: '{lit.text}'")
            return col.is_(None) if cond.op == "=" else col.is_not(None)
        if lit.kind == "date_literal":
            return self._date_literal(res, cond.op, lit)
        value = self._value(res.field, lit)
        if cond.op == "=":
            return col == value
        if cond.op == "!=":
            return or_(col != value, col.is_(None))
        if res.field.type == "boolean":
            raise filter_error(self.text, lit.pos, f"invalid operator on boolean field: {cond.op}")
        return {"<": col < value, "<=": col <= value, ">": col > value, ">=": col >= value}[cond.op]

    def _in(self, cond: n.InList) -> ColumnElement[bool]:
        res = self._field(cond.field)
        col = res.expr
        values, ranges, has_null = [], [], False
        for lit in cond.values:
            if lit.kind == "null":
                has_null = True
            elif lit.kind == "date_literal":
                ranges.append(self._date_literal(res, "=", lit))
            else:
                values.append(self._value(res.field, lit))
        parts: list[ColumnElement[bool]] = [*ranges]
        if values:
            parts.append(col.in_(values))
        if has_null:
            parts.append(col.is_(None))
        matched = or_(*parts) if parts else false()
        if not cond.negated:
            return matched
        return or_(not_(matched), col.is_(None)) if not has_null else not_(matched)

    def _like(self, cond: n.Like) -> ColumnElement[bool]:
        res = self._field(cond.field)
        lit = cond.pattern
        if res.field.type not in _TEXT_TYPES - {"id", "reference"} or lit.kind != "string":
            raise filter_error(self.text, lit.pos, f"invalid operator on field '{res.field.name}': LIKE")
        return res.expr.like(lit.value, escape="\\")

    # ----------------------------------------------------------------------------- literals
    def _mismatch(self, f: SField, lit: n.Literal) -> SalesforceApiError:
        wanted = _TYPE_NAMES.get(f.type, "string" if f.type in _TEXT_TYPES else f.type)
        quoted = "be enclosed in quotes" if wanted == "string" else "not be enclosed in quotes"
        return filter_error(self.text, lit.pos,
                            f"value of filter criterion for field '{f.name}' must be of type {wanted} and should "
                            f"{quoted}")

    def _value(self, f: SField, lit: n.Literal) -> Any:
        """The stored form of a literal compared with ``f``; raises the API's error on a type mismatch."""
        t = f.type
        if t in ("id", "reference"):
            if lit.kind != "string":
                raise self._mismatch(f, lit)
            if not is_valid_id(lit.value):
                raise filter_error(self.text, lit.pos, f"invalid ID field: {lit.value}")
            return to_18(lit.value)
        if t in _TEXT_TYPES or t == "time":
            if lit.kind != "string":
                raise self._mismatch(f, lit)
            return lit.value
        if t == "boolean":
            if lit.kind != "boolean":
                raise self._mismatch(f, lit)
            return 1 if lit.value else 0
        if t in NUMERIC_TYPES:
            if lit.kind != "number":
                raise self._mismatch(f, lit)
            return int(lit.value) if t in INTEGER_TYPES and float(lit.value).is_integer() else lit.value
        if t == "date":
            if lit.kind != "date":
                raise self._mismatch(f, lit)
            return lit.value
        if t == "datetime":
            if lit.kind != "datetime":
                raise self._mismatch(f, lit)
            return lit.value
        raise self._mismatch(f, lit)

    def _date_literal(self, res: Resolved, op: str, lit: n.Literal) -> ColumnElement[bool]:
        f = res.field
        if f.type not in ("date", "datetime"):
            raise self._mismatch(f, lit)
        name, count = lit.value
        try:
            start, end = date_range(name, count, self.today)
        except KeyError:
            raise malformed(self.text, lit.pos, f"unexpected token: '{lit.text}'") from None
        lo, hi = (start.isoformat(), end.isoformat()) if f.type == "date" else (
            f"{start.isoformat()}T00:00:00.000+0000", f"{end.isoformat()}T00:00:00.000+0000")
        col = res.expr
        if op == "=":
            return and_(col >= lo, col < hi)
        if op == "!=":
            return or_(col < lo, col >= hi, col.is_(None))
        return {"<": col < lo, "<=": col < hi, ">": col >= hi, ">=": col >= lo}.get(op, true())
