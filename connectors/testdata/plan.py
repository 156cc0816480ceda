"""The defect plan of a dataset: which alterations touch which company or lead, and what they do to counts.

Built once when a Dataset is created (a few dozen objects at most), then consulted per row through a
dict lookup, so defects cost nothing for the millions of rows they do not touch.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from connectors.salesforce.objects import describe_field_json
from connectors.testdata.alterations import SF, Alteration, Ctx
from connectors.testdata.defects import CATALOGUE, CODES, SCHEMA_CHANGES, Allocator, Kind
from connectors.testdata.world import LINKED


class Plan:
    """Every alteration of a dataset, indexed by the company (or lead) whose rows it touches."""

    def __init__(self, ctx: Ctx, alterations: list[Alteration], schema: list[tuple[str, str, dict[str, Any], str]],
                 linked_used: int) -> None:
        self.alterations = alterations
        self.schema = schema
        self.linked_used = linked_used
        self.by_company: dict[int, list[Alteration]] = defaultdict(list)
        self.by_lead: dict[int, list[Alteration]] = defaultdict(list)
        for alt in alterations:
            if alt.on_lead:
                self.by_lead[alt.c].append(alt)
            else:
                for c in alt.companies():
                    self.by_company[c].append(alt)
        self.by_company, self.by_lead = dict(self.by_company), dict(self.by_lead)
        self._sf: dict[str, int] = defaultdict(int)
        self._erp: dict[str, int] = defaultdict(int)
        for alt in alterations:
            for obj, n in alt.sf_delta().items():
                self._sf[obj] += n
            for table, n in alt.erp_delta().items():
                self._erp[table] += n

    def sf_delta(self, obj: str) -> int:
        return self._sf.get(obj, 0)

    def erp_delta(self, table: str) -> int:
        return self._erp.get(table, 0)

    def schema_spec(self) -> dict[str, Any]:
        """The extend_objects() spec of the drifted org."""
        spec: dict[str, Any] = {}
        for obj, change, field_spec, _ in self.schema:
            entry = spec.setdefault(obj, {"fields": [], "remove_fields": []})
            if change == "field_hidden":
                entry["remove_fields"].append(field_spec["name"])
            else:
                entry["fields"].append(field_spec)
        return spec

    def schema_entries(self, objects: dict[str, Any], start: int) -> list[dict[str, Any]]:
        out = []
        for i, (obj, change, field_spec, sandbox) in enumerate(self.schema):
            name = field_spec["name"]
            after = describe_field_json(objects[obj].field(name)) if objects[obj].has(name) else None
            out.append({
                "id": f"D{start + i:03d}", "code": "schema_drift", "kind": change, "entity": obj,
                "systems": [SF], "objects": {SF: obj}, "keys": {SF: obj}, "fields": [name],
                "native_fields": {SF: [name]},
                "describe": {k: after[k] for k in ("name", "type", "length", "picklistValues")} if after else None,
                "sandbox": sandbox, "note": f"{obj}.{name}: {change.replace('_', ' ')} since the mapping was written",
            })
        return out

    def entries(self) -> list[dict[str, Any]]:
        out = [e for alt in self.alterations for e in alt.entries()]
        return out


def build_plan(ctx: Ctx) -> Plan:
    """The defects of a dataset with defects enabled (an empty plan otherwise)."""
    world = ctx.world
    cfg = world.config
    if not cfg.defects:
        return Plan(ctx, [], [], 0)
    alloc = Allocator(world)
    alterations: list[Alteration] = []
    per_code: dict[str, list[Kind]] = defaultdict(list)
    for family in CATALOGUE:
        for kind in family():
            per_code[kind.code].append(kind)
    for code in CODES:
        if code == "schema_drift":
            continue
        made = 0
        for j in range(cfg.defects_per_code * 3):
            kinds = per_code[code]
            kind = kinds[j % len(kinds)]
            if made == cfg.defects_per_code:
                break
            if not kind.needs(world, alloc):
                continue
            alt = kind.build(ctx, alloc, len(alterations))
            alt.ident = f"D{len(alterations) + 1:03d}"
            alterations.append(alt)
            made += 1
        if made == 0:
            raise ValueError(f"the config cannot hold any {code} defect (too few records, users or queues)")
    schema = list(SCHEMA_CHANGES[: max(1, cfg.defects_per_code)])
    return Plan(ctx, alterations, schema, alloc.used[LINKED])

