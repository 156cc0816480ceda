"""The parsed form of a SOQL query: plain frozen dataclasses, with the source position of every name and value.

Positions (1-based line and column) are kept so errors can point at the offending token the way
Salesforce does (``ERROR at Row:1:Column:12``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field path as written: ``Name``, ``Account.Name``, ``Account.Owner.Email``."""

    path: tuple[str, ...]
    pos: Pos

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class FieldItem:
    field: FieldRef


@dataclass(frozen=True, slots=True)
class CountItem:
    """``COUNT()`` (``field`` None: the answer is totalSize) or ``COUNT(field) [alias]`` (an aggregate row)."""

    field: FieldRef | None
    alias: str | None
    pos: Pos


SelectItem = FieldItem | CountItem


@dataclass(frozen=True, slots=True)
class Literal:
    """A value as written. ``kind``: string, number, boolean, null, date, datetime, date_literal.

    ``value`` is the decoded value: str, int/float, bool, None, the ISO text of a date/datetime, or for a
    date literal the pair ``(NAME, n)`` (``n`` None for TODAY, YESTERDAY ...).
    """

    kind: str
    value: Any
    text: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Comparison:
    field: FieldRef
    op: str  # = != < <= > >=
    value: Literal


@dataclass(frozen=True, slots=True)
class InList:
    field: FieldRef
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Like:
    field: FieldRef
    pattern: Literal


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # and | or
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


Condition = Comparison | InList | Like | BoolOp | Not


@dataclass(frozen=True, slots=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_first: bool | None  # None: Salesforce's default (nulls first ascending, last descending)


@dataclass(frozen=True, slots=True)
class Query:
    select: tuple[SelectItem, ...]
    sobject: str
    sobject_pos: Pos
    alias: str | None
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    text: str

    @property
    def is_count(self) -> bool:
        """``SELECT COUNT() FROM ...``: no records, only totalSize."""
        return len(self.select) == 1 and isinstance(self.select[0], CountItem) and self.select[0].field is None

    @property
    def is_aggregate(self) -> bool:
        return any(isinstance(item, CountItem) for item in self.select)
