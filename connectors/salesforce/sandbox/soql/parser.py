"""SOQL text -> :class:`~.nodes.Query`, failing exactly as Salesforce fails (400 MALFORMED_QUERY with a caret).

A real grammar (lark LALR) rather than regular expressions: nested parentheses, NOT, IN lists and
quoted strings with escapes are where regex-based emulators go wrong.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ..errors import SalesforceApiError
from ..timefmt import normalize_datetime
from . import nodes as n
from .grammar import SOQL_GRAMMAR

_PARSER = Lark(SOQL_GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=False, maybe_placeholders=True)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\",
            "%": "\\%", "_": "\\_"}  # \% and \_ stay escaped: they only mean something to LIKE
_ESCAPE_RE = re.compile(r"\\(.)", re.S)


def error_message(text: str, line: int, column: int, detail: str) -> str:
    """Salesforce's layout: the query line, a caret under the column, the position, then the reason."""
    lines = text.splitlines() or [""]
    src = lines[min(max(line, 1), len(lines)) - 1]
    return f"\n{src}\n{' ' * max(column - 1, 0)}^\nERROR at Row:{line}:Column:{column}\n{detail}"


def malformed(text: str, pos: n.Pos, detail: str) -> SalesforceApiError:
    return SalesforceApiError(400, "MALFORMED_QUERY", error_message(text, pos.line, pos.column, detail))


class _QueryError(Exception):
    def __init__(self, pos: n.Pos, detail: str) -> None:
        super().__init__(detail)
        self.pos = pos
        self.detail = detail


def _pos(tok: Token) -> n.Pos:
    return n.Pos(tok.line or 1, tok.column or 1)


def _unescape(tok: Token) -> str:
    def sub(m: re.Match[str]) -> str:
        ch = m.group(1)
        if ch not in _ESCAPES:
            raise _QueryError(_pos(tok), f"Invalid string literal '{tok.value}'. "
                              f"Illegal character sequence '\\{ch}' in string literal.")
        return _ESCAPES[ch]

    return _ESCAPE_RE.sub(sub, tok.value[1:-1])


@v_args(inline=True)
class _Build(Transformer[Token, n.Query]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    # ----------------------------------------------------------------------------- select
    def start(self, select: tuple[n.SelectItem, ...], sobject: Token, alias: Token | None, where: Any,
              order: Any, limit: Any, offset: Any) -> n.Query:
        return n.Query(select, str(sobject), _pos(sobject), str(alias) if alias else None, where,
                       order or (), limit, offset, self.text)

    def select_list(self, *items: n.SelectItem) -> tuple[n.SelectItem, ...]:
        return items

    def field_path(self, *names: Token) -> n.FieldRef:
        return n.FieldRef(tuple(str(x) for x in names), _pos(names[0]))

    def field_item(self, ref: n.FieldRef) -> n.FieldItem:
        return n.FieldItem(ref)

    def count_item(self, count: Token, ref: n.FieldRef | None, alias: Token | None) -> n.CountItem:
        return n.CountItem(ref, str(alias) if alias else None, _pos(count))

    # ----------------------------------------------------------------------------- conditions
    def where(self, cond: n.Condition) -> n.Condition:
        return cond

    def and_chain(self, *items: n.Condition) -> n.BoolOp:
        return n.BoolOp("and", items)

    def or_chain(self, *items: n.Condition) -> n.BoolOp:
        return n.BoolOp("or", items)

    def not_(self, item: n.Condition) -> n.Not:
        return n.Not(item)

    def comparison(self, ref: n.FieldRef, op: Token, value: n.Literal) -> n.Comparison:
        return n.Comparison(ref, "!=" if op.value == "<>" else str(op.value), value)

    def in_list(self, ref: n.FieldRef, values: tuple[n.Literal, ...]) -> n.InList:
        return n.InList(ref, values, False)

    def not_in_list(self, ref: n.FieldRef, values: tuple[n.Literal, ...]) -> n.InList:
        return n.InList(ref, values, True)

    def like(self, ref: n.FieldRef, value: n.Literal) -> n.Like:
        return n.Like(ref, value)

    def value_list(self, *values: n.Literal) -> tuple[n.Literal, ...]:
        return values

    # ----------------------------------------------------------------------------- literals
    def string(self, tok: Token) -> n.Literal:
        return n.Literal("string", _unescape(tok), tok.value, _pos(tok))

    def number(self, tok: Token) -> n.Literal:
        text = tok.value
        value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        return n.Literal("number", value, text, _pos(tok))

    def datetime(self, tok: Token) -> n.Literal:
        try:
            value = normalize_datetime(tok.value)
        except ValueError as exc:
            raise _QueryError(_pos(tok), f"line {tok.line}:{tok.column} no viable alternative at character "
                              f"'{tok.value}'") from exc
        return n.Literal("datetime", value, tok.value, _pos(tok))

    def date(self, tok: Token) -> n.Literal:
        try:
            date.fromisoformat(tok.value)
        except ValueError as exc:
            raise _QueryError(_pos(tok), f"value of date literal '{tok.value}' is not valid") from exc
        return n.Literal("date", tok.value, tok.value, _pos(tok))

    def date_n(self, tok: Token) -> n.Literal:
        name, num = tok.value.split(":")
        return n.Literal("date_literal", (name.upper(), int(num)), tok.value, _pos(tok))

    def date_named(self, tok: Token) -> n.Literal:
        return n.Literal("date_literal", (tok.value.upper(), None), tok.value, _pos(tok))

    def true(self, tok: Token) -> n.Literal:
        return n.Literal("boolean", True, tok.value, _pos(tok))

    def false(self, tok: Token) -> n.Literal:
        return n.Literal("boolean", False, tok.value, _pos(tok))

    def null(self, tok: Token) -> n.Literal:
        return n.Literal("null", None, tok.value, _pos(tok))

    # ----------------------------------------------------------------------------- order, limit
    def order_by(self, *items: n.OrderItem) -> tuple[n.OrderItem, ...]:
        return items

    def order_item(self, ref: n.FieldRef, direction: Token | None, nulls: Token | None) -> n.OrderItem:
        desc = direction is not None and direction.value.upper() == "DESC"
        nulls_first = None if nulls is None else nulls.value.upper().endswith("FIRST")
        return n.OrderItem(ref, desc, nulls_first)

    def limit(self, tok: Token) -> int:
        return int(tok.value)

    def offset(self, tok: Token) -> int:
        return int(tok.value)


def _unexpected(text: str, exc: UnexpectedInput) -> SalesforceApiError:
    line, column = exc.line or 1, exc.column or 1
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        return malformed(text, n.Pos(line, column), "unexpected token: '<EOF>'")
    if isinstance(exc, UnexpectedToken):
        return malformed(text, n.Pos(line, column), f"unexpected token: '{exc.token.value}'")
    if isinstance(exc, UnexpectedCharacters):
        char = text.splitlines()[line - 1][column - 1] if text.splitlines() else "?"
        return malformed(text, n.Pos(line, column), f"line {line}:{column - 1} no viable alternative at "
                         f"character '{char}'")
    return malformed(text, n.Pos(line, column), "unexpected token")


@lru_cache(maxsize=512)
def parse(text: str) -> n.Query:
    """Parse one SOQL statement; raises SalesforceApiError(400, MALFORMED_QUERY) like the real API."""
    if not text or not text.strip():
        raise SalesforceApiError(400, "MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    try:
        tree = _PARSER.parse(text)
        return _Build(text).transform(tree)
    except UnexpectedInput as exc:
        raise _unexpected(text, exc) from None
    except VisitError as exc:
        inner = exc.orig_exc
        if isinstance(inner, _QueryError):
            raise malformed(text, inner.pos, inner.detail) from None
        raise
