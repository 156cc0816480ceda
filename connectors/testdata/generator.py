"""The project's one test-data generator: Salesforce rows and the demo ERP's rows from one world.

Interface::

    from connectors.testdata import Dataset, GeneratorConfig

    ds = Dataset(GeneratorConfig(seed=7, accounts=500, defects=True, shared_modstamp_block=300))
    ds.objects                          # dict[str, SObject]: what describe must serve (schema drift included)
    ds.salesforce_objects()             # ["Account", "Contact", ...] in load order (parents first)
    ds.count_salesforce("Contact")      # exact, O(1)
    for row in ds.iter_salesforce("Contact"): ...   # REST-shaped dicts, flat memory, deterministic
    ds.erp_tables()                     # ["employees", "customers", "contacts", "orders", "invoices"]
    for row in ds.iter_erp("customers"): ...        # Python values (Decimal, date, naive local datetime)
    ds.count_erp("orders")
    ds.load_erp("sqlite:///demo.db", batch_size=5000, schema=None)   # drop + create + batched insert
    ds.ground_truth(); ds.write_ground_truth("truth.json")

Salesforce rows include deleted records (IsDeleted=true: merged losers, one-sided deletes): the sandbox
stores them as its recycle bin, so query hides them and queryAll returns them. Rows hold every stored
field of ``ds.objects[obj]``; compound address fields are composed by the reader
(objects.address_value). The ground-truth format is documented in ground_truth.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from connectors.salesforce.objects import OBJECTS, SObject, extend_objects
from connectors.testdata.alterations import Alteration, Ctx, Row
from connectors.testdata.config import GeneratorConfig
from connectors.testdata.erp_rows import ErpRows
from connectors.testdata.formats import sf_datetime
from connectors.testdata.ground_truth import build_ground_truth, write_ground_truth
from connectors.testdata.loader import load_erp
from connectors.testdata.plan import Plan, build_plan
from connectors.testdata.sf_rows import SalesforceRows
from connectors.testdata.variants import Variants
from connectors.testdata.world import World

SALESFORCE_OBJECTS = ("User", "Group", "Account", "Contact", "Lead", "Opportunity", "Task", "Event")
ERP_TABLES = ("employees", "customers", "contacts", "orders", "invoices")
_PER_COMPANY = ("Account", "Contact", "Opportunity", "Task", "Event")


def _apply(alts: list[Alteration], side: str, name: str, row: Row) -> Row | None:
    for alt in alts:
        result = alt.sf(name, row) if side == "sf" else alt.erp(name, row)
        if result is None:
            return None
        row = result
    return row


class Dataset:
    """One generated dataset. Cheap to create (only the defect plan is built up front)."""

    def __init__(self, config: GeneratorConfig | None = None, custom_objects: Mapping[str, Any] | None = None) -> None:
        self.config = cfg = config or GeneratorConfig()
        self.world = world = World(cfg)
        base = extend_objects(custom_objects) if custom_objects else dict(OBJECTS)
        # Defect targets are never variant companies, so the plan can be built before variants exist.
        none = Variants(world, cfg.linked, 0.0)
        self._ctx = Ctx(world, SalesforceRows(world, base, none), ErpRows(world, none))
        self.plan: Plan = build_plan(self._ctx)
        self.objects: dict[str, SObject] = extend_objects(self.plan.schema_spec(), base) if self.plan.schema else base
        self.variants = Variants(world, self.plan.linked_used, cfg.formatting_variants)
        self._ctx.sf = SalesforceRows(world, self.objects, self.variants)
        self._ctx.erp = ErpRows(world, self.variants)

    # ------------------------------------------------------------------ Salesforce
    def salesforce_objects(self) -> list[str]:
        return list(SALESFORCE_OBJECTS)

    def count_salesforce(self, obj: str) -> int:
        cfg, w = self.config, self.world
        per_account = {"Account": 1, "Contact": w.k, "Opportunity": w.o, "Task": w.t, "Event": w.e}
        if obj in per_account:
            base = cfg.accounts * per_account[obj]
        else:
            base = {"Lead": cfg.leads_count, "User": cfg.users, "Group": cfg.queues}.get(obj, 0)
        return base + self.plan.sf_delta(obj)

    def iter_salesforce(self, obj: str) -> Iterator[Row]:
        """Every row of ``obj`` in Id order (injected duplicates last), defects and variants applied.
        Custom objects declared through ``custom_objects`` are described but have no rows."""
        if obj not in self.objects:
            raise KeyError(f"unknown Salesforce object {obj!r}")
        rows = self._salesforce_rows(obj)
        block = self.shared_modstamp(obj)
        return self._with_shared_stamp(rows, block) if block else rows

    def _salesforce_rows(self, obj: str) -> Iterator[Row]:
        w, b, plan = self.world, self._ctx.sf, self.plan
        if obj in _PER_COMPANY:
            slots = {"Account": 1, "Contact": w.k, "Opportunity": w.o, "Task": w.t, "Event": w.e}[obj]
            build = {"Account": lambda c, m: b.account(c), "Contact": b.contact, "Opportunity": b.opportunity,
                     "Task": b.task, "Event": b.event}[obj]
            by_company = plan.by_company
            for c in range(w.C):
                if not w.in_crm(c):
                    continue
                alts = by_company.get(c)
                for m in range(slots):
                    row = build(c, m)
                    out = _apply(alts, "sf", obj, row) if alts else row
                    if out is not None:
                        yield out
        elif obj == "Lead":
            for n in range(self.config.leads_count):
                lead = b.lead(n)
                alts = plan.by_lead.get(n)
                out = _apply(alts, "sf", obj, lead) if alts else lead
                if out is not None:
                    yield out
        elif obj == "User":
            yield from (b.user(u) for u in range(self.config.users))
        elif obj == "Group":
            yield from (b.group(g) for g in range(self.config.queues))
        for alt in plan.alterations:
            yield from alt.sf_extras(obj)

    def shared_modstamp(self, obj: str) -> dict[str, Any] | None:
        """Where the block of rows sharing one SystemModstamp sits in (SystemModstamp, Id) order.

        Block rows get one stamp later than every other change; the rows after them get later stamps
        still, so the block occupies positions [start, start+count) and straddles ``boundary``, a
        multiple of page_size. Positions count deleted rows too (queryAll order).
        """
        n, page = self.config.shared_modstamp_block, self.config.page_size
        total = self.count_salesforce(obj)
        if n == 0 or total < n:
            return None
        boundary = (total - (n - n // 2)) // page * page
        straddles = boundary >= page and boundary - n // 2 >= 0
        start = boundary - n // 2 if straddles else total - n
        return {"stamp": sf_datetime(self.world.block_stamp), "count": n, "start": start, "page_size": page,
                "boundary": boundary if straddles else None, "straddles": straddles, "total": total}

    def _with_shared_stamp(self, rows: Iterable[Row], block: dict[str, Any]) -> Iterator[Row]:
        start, end = block["start"], block["start"] + block["count"]
        tail = max(1, block["total"] - end)
        base = self.world.block_stamp
        for i, row in enumerate(rows):
            if start <= i < end:
                row["SystemModstamp"] = block["stamp"]
            elif i >= end:
                row["SystemModstamp"] = sf_datetime(base + 1 + (i - end) * 1799 // tail)
            yield row

    # ------------------------------------------------------------------ ERP
    def erp_tables(self) -> list[str]:
        return list(ERP_TABLES)

    def count_erp(self, table: str) -> int:
        cfg, w = self.config, self.world
        if table == "invoices":
            return sum(1 for _ in self.iter_erp("invoices"))
        base = {"customers": cfg.erp_customers, "contacts": cfg.erp_customers * w.k,
                "orders": cfg.erp_customers * w.w, "employees": cfg.users - 1 + cfg.erp_only_employees}[table]
        return base + self.plan.erp_delta(table)

    def iter_erp(self, table: str) -> Iterator[Row]:
        """Every row of an erp_schema table, parents before children, defects and variants applied."""
        if table not in ERP_TABLES:
            raise KeyError(f"unknown ERP table {table!r}")
        if table == "employees":
            yield from (self._ctx.erp.employee(u) for u in range(1, self.config.users))
            yield from (self._ctx.erp.erp_only_employee(j) for j in range(self.config.erp_only_employees))
        else:
            yield from self._erp_company_rows(table)
        for alt in self.plan.alterations:
            yield from alt.erp_extras(table)

    def _erp_company_rows(self, table: str) -> Iterator[Row]:
        w, b, by_company = self.world, self._ctx.erp, self.plan.by_company
        for c in range(w.C):
            if not w.in_erp(c):
                continue
            alts = by_company.get(c)
            if table == "customers":
                rows: Iterable[Row] = (b.customer(c),)
            elif table == "contacts":
                rows = (b.contact(c, m) for m in range(w.k))
            else:
                rows = self._orders_or_invoices(table, c, alts)
                alts = None if table == "orders" else alts
            for row in rows:
                out = _apply(alts, "erp", table, row) if alts else row
                if out is not None:
                    yield out

    def _orders_or_invoices(self, table: str, c: int, alts: list[Alteration] | None) -> Iterator[Row]:
        b = self._ctx.erp
        for m in range(self.world.w):
            order = b.order(c, m)
            invoiced = order["status"] == "INVC"  # decided on the clean order; defects edit, not create
            altered = _apply(alts, "erp", "orders", order) if alts else order
            if altered is None:
                continue
            if table == "orders":
                yield altered
            elif invoiced:
                yield b.invoice(altered, c)

    def load_erp(self, engine_or_url: Engine | str, batch_size: int = 5000,
                 schema: str | None = None) -> dict[str, int]:
        """Drop and recreate the ERP tables, then insert every row in batches; returns rows per table."""
        return load_erp(self, engine_or_url, batch_size=batch_size, schema=schema)

    # ------------------------------------------------------------------ ground truth
    def ground_truth(self) -> dict[str, Any]:
        return build_ground_truth(self)

    def write_ground_truth(self, path: str | Path) -> Path:
        return write_ground_truth(self, Path(path))
