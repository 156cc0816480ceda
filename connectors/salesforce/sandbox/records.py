"""Page rows -> the JSON records Salesforce returns (``attributes`` first, SELECT order, parents nested).

This is the hot loop of REST paging, so the common case (no parents, no compounds) is a flat loop
over precomputed (key, index, is_boolean) triples; values are stored in their JSON form already
(canonical datetime text, numbers), and only booleans need converting from SQLite's 0/1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .soql.compiler import Leaf, Parent, QueryPlan


class RecordRenderer:
    def __init__(self, plan: QueryPlan, version: str, by_prefix: Mapping[str, str]) -> None:
        self.version = version
        self.type_name = plan.root.name
        self.url_prefix = f"/services/data/v{version}/sobjects/{plan.root.name}/"
        self.id_index = plan.id_index
        self.tree = plan.tree
        self.by_prefix = by_prefix
        self.flat: list[tuple[str, int, bool]] | None = None
        if all(isinstance(item, Leaf) and item.kind != "compound" for item in plan.tree):
            self.flat = [(item.key, item.index, item.kind == "bool") for item in plan.tree  # type: ignore[misc]
                         if isinstance(item, Leaf)]

    def render_many(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        if self.flat is not None:
            return [self._flat(row) for row in rows]
        return [self._node(row, self.tree, self.type_name, self.url_prefix + row[self.id_index]) for row in rows]

    def _flat(self, row: Sequence[Any]) -> dict[str, Any]:
        rec: dict[str, Any] = {"attributes": {"type": self.type_name, "url": self.url_prefix + row[self.id_index]}}
        for key, index, is_bool in self.flat or ():
            value = row[index]
            rec[key] = value == 1 if is_bool and value is not None else value
        return rec

    def _node(self, row: Sequence[Any], items: list[Leaf | Parent], type_name: str, url: str) -> dict[str, Any]:
        rec: dict[str, Any] = {"attributes": {"type": type_name, "url": url}}
        for item in items:
            if isinstance(item, Parent):
                rec[item.key] = self._parent(row, item)
            elif item.kind == "compound":
                assert isinstance(item.index, tuple)
                values = [row[i] for i in item.index]
                rec[item.key] = dict(zip(item.sub_keys, values, strict=True)) if any(
                    v is not None for v in values) else None
            else:
                value = row[item.index]  # type: ignore[index]
                rec[item.key] = value == 1 if item.kind == "bool" and value is not None else value
        return rec

    def _parent(self, row: Sequence[Any], item: Parent) -> dict[str, Any] | None:
        parent_id = row[item.id_index]
        if parent_id is None:
            return None
        type_name = item.type_name or self.by_prefix.get(parent_id[:3], "Name")
        url = f"/services/data/v{self.version}/sobjects/{type_name}/{parent_id}"
        return self._node(row, item.children, type_name, url)
