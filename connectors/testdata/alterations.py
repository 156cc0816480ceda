"""The kinds of change a defect makes to generated rows, and the ground-truth entries they produce.

An alteration belongs to one company (or lead) and sees every row of it, on both sides, right after
the clean row is built: it may edit the row, drop it (return None) or add rows of its own. That one
hook is enough for cascades: a merged account re-parents its contacts and activities, an account
missing from the ERP takes its contacts, orders and invoices with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from connectors.testdata.erp_rows import ErpRows
from connectors.testdata.formats import epoch, local_naive, parse_sf_datetime, sf_datetime
from connectors.testdata.links import LINKS
from connectors.testdata.sf_rows import SalesforceRows
from connectors.testdata.world import World

Row = dict[str, Any]
SF, ERP = "salesforce", "erp"
SF_OBJECT = {"Account": "Account", "Contact": "Contact", "Opportunity": "Opportunity", "Lead": "Lead",
             "Activity": "Task"}
ERP_TABLE = {"Account": "customers", "Contact": "contacts", "Opportunity": "orders"}
_HOUR = timedelta(hours=1)


@dataclass
class Ctx:
    world: World
    sf: SalesforceRows
    erp: ErpRows

    def sf_key(self, entity: str, c: int, m: int = 0) -> str:
        w = self.world
        if entity == "Account":
            return w.account_id(c)
        if entity == "Contact":
            return w.contact_id(c, m)
        if entity == "Opportunity":
            return w.opportunity_id(c, m)
        return w.lead_id(c) if entity == "Lead" else w.task_id(c, m)

    def erp_key(self, entity: str, c: int, m: int = 0) -> str | int:
        w = self.world
        if entity == "Account":
            return w.cust_no(c)
        return w.contact_no(c, m) if entity == "Contact" else w.order_no(c, m)

    def in_erp(self, entity: str, c: int, m: int = 0) -> bool:
        if entity not in ERP_TABLE or not self.world.in_erp(c):
            return False
        return entity != "Opportunity" or m < self.world.w

    def in_crm(self, entity: str, c: int) -> bool:
        return entity == "Lead" or self.world.in_crm(c)


def native_fields(entity: str, fields: list[str]) -> dict[str, list[str]]:
    """Canonical field names -> the native names on each side (for linked entities)."""
    link = LINKS.get(entity)
    if link is None:
        return {}
    pairs = [link.fields[f] for f in fields if f in link.fields]
    return {SF: [p[0] for p in pairs], ERP: [p[1] for p in pairs]}


@dataclass
class Alteration:
    """Base: a defect on record (entity, c, m). ``lead`` alterations use c as the lead index."""

    ctx: Ctx
    code: str
    kind: str
    entity: str
    c: int
    m: int = 0
    note: str = ""
    ident: str = ""

    @property
    def on_lead(self) -> bool:
        return self.entity == "Lead"

    def companies(self) -> tuple[int, ...]:
        return (self.c,)

    def sf(self, obj: str, row: Row) -> Row | None:
        return row

    def erp(self, table: str, row: Row) -> Row | None:
        return row

    def sf_extras(self, obj: str) -> list[Row]:
        return []

    def erp_extras(self, table: str) -> list[Row]:
        return []

    def sf_delta(self) -> dict[str, int]:
        return {}

    def erp_delta(self) -> dict[str, int]:
        return {}

    def entries(self) -> list[dict[str, Any]]:
        return [self.entry()]

    # ------------------------------------------------------------------ helpers
    def is_sf(self, obj: str, row: Row, entity: str | None = None, m: int | None = None) -> bool:
        entity = entity or self.entity
        return obj == SF_OBJECT[entity] and row["Id"] == self.ctx.sf_key(entity, self.c, self.m if m is None else m)

    def is_erp(self, table: str, row: Row, entity: str | None = None) -> bool:
        entity = entity or self.entity
        if table != ERP_TABLE.get(entity):
            return False
        key = {"customers": "cust_no", "contacts": "contact_no", "orders": "order_no"}[table]
        return bool(row[key] == self.ctx.erp_key(entity, self.c, self.m))

    def keys(self, entity: str | None = None, c: int | None = None, m: int | None = None) -> dict[str, Any]:
        entity, c, m = entity or self.entity, self.c if c is None else c, self.m if m is None else m
        out: dict[str, Any] = {}
        if self.ctx.in_crm(entity, c):
            out[SF] = self.ctx.sf_key(entity, c, m)
        if self.ctx.in_erp(entity, c, m):
            out[ERP] = self.ctx.erp_key(entity, c, m)
        return out

    def entry(self, fields: list[str] | None = None, systems: list[str] | None = None,
              native: dict[str, list[str]] | None = None, **extra: Any) -> dict[str, Any]:
        """One ground-truth entry; ``systems`` narrows it to the side(s) the finding is about."""
        keys = extra.pop("keys", None) or self.keys()
        if systems:
            keys = {s: keys[s] for s in systems if s in keys}
        systems = [s for s in (SF, ERP) if s in keys]
        objects = {SF: SF_OBJECT[self.entity], ERP: ERP_TABLE.get(self.entity)}
        if native is None:
            native = native_fields(self.entity, fields or [])
        out: dict[str, Any] = {
            "id": self.ident, "code": self.code, "kind": self.kind, "entity": self.entity, "systems": systems,
            "objects": {s: objects[s] for s in systems}, "keys": keys, "fields": fields or [],
            "native_fields": {s: v for s, v in native.items() if s in systems},
        }
        out.update(extra)
        out["note"] = self.note
        return out


@dataclass
class Edit(Alteration):
    """Field values changed on one or both sides, optionally with a change time after the last sync."""

    fields: list[str] = field(default_factory=list)
    sf_values: dict[str, Any] = field(default_factory=dict)
    erp_values: dict[str, Any] = field(default_factory=dict)
    sf_time: int | None = None
    erp_time: int | None = None
    systems: list[str] | None = None  # the side(s) the finding is about; default: every side holding it
    extra: dict[str, Any] = field(default_factory=dict)

    def sf(self, obj: str, row: Row) -> Row | None:
        if self.sf_values and self.is_sf(obj, row):
            row.update(self.sf_values)
            if self.sf_time is not None:
                row["LastModifiedDate"] = row["SystemModstamp"] = sf_datetime(self.sf_time)
        return row

    def erp(self, table: str, row: Row) -> Row | None:
        if self.erp_values and self.is_erp(table, row):
            row.update(self.erp_values)
            if self.erp_time is not None:
                row["changed_ts"] = local_naive(self.erp_time, self.ctx.world.config.erp_timezone)
        return row

    def entries(self) -> list[dict[str, Any]]:
        values = {}
        if self.sf_values:
            values[SF] = {k: _json(v) for k, v in self.sf_values.items()}
        if self.erp_values:
            values[ERP] = {k: _json(v) for k, v in self.erp_values.items()}
        native = None
        if self.systems and len(self.systems) == 1:
            native = {SF: list(self.sf_values), ERP: list(self.erp_values)}
        return [self.entry(self.fields, self.systems, native, values=values, **self.extra)]


def _json(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass
class Removal(Alteration):
    """The record is absent on ``side`` although the other side links to it (code ``missing``).
    An account absent from the ERP takes its contacts, orders and invoices with it (foreign keys)."""

    side: str = SF

    def sf(self, obj: str, row: Row) -> Row | None:
        if self.side != SF:
            return row
        if self.is_sf(obj, row):
            return None
        gone = self.ctx.sf_key(self.entity, self.c, self.m)
        if obj in ("Task", "Event"):  # Salesforce would not keep an activity pointing at nothing
            if row["WhoId"] == gone:
                row["WhoId"] = None
            if row["WhatId"] == gone:
                row["WhatId"] = row["AccountId"]
        return row

    def erp(self, table: str, row: Row) -> Row | None:
        if self.side != ERP:
            return row
        if self.entity == "Account":
            return None  # every ERP row of this company belongs to the missing customer
        return None if self.is_erp(table, row) else row

    def sf_delta(self) -> dict[str, int]:
        return {SF_OBJECT[self.entity]: -1} if self.side == SF else {}

    def erp_delta(self) -> dict[str, int]:
        if self.side != ERP:
            return {}
        w = self.ctx.world
        if self.entity == "Account":
            invoiced = sum(1 for m in range(w.w) if w.deal(self.c, m).status == "INVC")
            return {"customers": -1, "contacts": -w.k, "orders": -w.w, "invoices": -invoiced}
        return {ERP_TABLE[self.entity]: -1}

    def entries(self) -> list[dict[str, Any]]:
        out = [self.entry(absent_in=self.side)]
        if self.side == ERP and self.entity == "Account":
            out += _cascade(self, "missing", absent_in=ERP)
        return out


@dataclass
class SoftDelete(Alteration):
    """Deleted on ``side`` only (IsDeleted=true or deleted_flag='Y'), still live on the other side.
    A deleted Salesforce account deletes its contacts, opportunities and activities, as Salesforce does."""

    side: str = SF
    time: int = 0

    def sf(self, obj: str, row: Row) -> Row | None:
        if self.side == SF and (self.is_sf(obj, row) or (self.entity == "Account" and obj != "Account")):
            row["IsDeleted"] = True
            row["LastModifiedDate"] = row["SystemModstamp"] = sf_datetime(self.time)
        return row

    def erp(self, table: str, row: Row) -> Row | None:
        if self.side == ERP and self.is_erp(table, row):
            row["deleted_flag"] = "Y"
            row["changed_ts"] = local_naive(self.time, self.ctx.world.config.erp_timezone)
        return row

    def entries(self) -> list[dict[str, Any]]:
        out = [self.entry(deleted_in=self.side)]
        if self.side == SF and self.entity == "Account":
            out += _cascade(self, "deleted_one_side", deleted_in=SF)
        return out


def _cascade(parent: Alteration, code: str, **extra: Any) -> list[dict[str, Any]]:
    """Entries for the linked contacts and order-linked opportunities of the parent's company."""
    w, out = parent.ctx.world, []
    children = [("Contact", m) for m in range(w.k)] + [("Opportunity", m) for m in range(w.w)]
    for entity, m in children:
        child = Alteration(parent.ctx, code, parent.kind, entity, parent.c, m,
                          note=f"cascade of {parent.ident}", ident=f"{parent.ident}.{entity[0]}{m}")
        out.append(child.entry(cascade_of=parent.ident, **extra))
    return out


@dataclass
class Duplicate(Alteration):
    """A second record of the same real-world entity on ``side`` (no link to the other system)."""

    side: str = SF
    dup_key: str | int = ""

    def sf_extras(self, obj: str) -> list[Row]:
        if self.side != SF or obj != SF_OBJECT[self.entity]:
            return []
        w, b = self.ctx.world, self.ctx.sf
        row = {"Account": lambda: b.account(self.c), "Contact": lambda: b.contact(self.c, self.m),
               "Lead": lambda: b.lead(self.c)}[self.entity]()
        created = _parse_ts(row["LastModifiedDate"]) + 3600
        row["Id"] = self.dup_key
        stamp = sf_datetime(created)
        row["CreatedDate"] = row["LastModifiedDate"] = row["SystemModstamp"] = stamp
        owner = b.user_ids[w.active_reps[(self.c + 1) % len(w.active_reps)]]
        row["OwnerId"] = row["CreatedById"] = row["LastModifiedById"] = owner
        if self.entity == "Account":
            row["Name"] = row["Name"].rsplit(" ", 1)[0]  # typed without the legal form
            row["ERP_Customer_No__c"] = None
        elif self.entity == "Contact":
            row["ERP_Contact_No__c"] = None
            row["Phone"] = None
        return [row]

    def erp_extras(self, table: str) -> list[Row]:
        if self.side != ERP or table != ERP_TABLE.get(self.entity):
            return []
        row = self.ctx.erp.customer(self.c)
        row["cust_no"] = self.dup_key
        row["company_name"] = row["company_name"].upper().replace(".", "")
        row["sf_account_id"] = None
        row["created_ts"] = row["changed_ts"] = row["changed_ts"].replace(microsecond=0) + _HOUR
        return [row]

    def sf_delta(self) -> dict[str, int]:
        return {SF_OBJECT[self.entity]: 1} if self.side == SF else {}

    def erp_delta(self) -> dict[str, int]:
        return {ERP_TABLE[self.entity]: 1} if self.side == ERP else {}

    def entries(self) -> list[dict[str, Any]]:
        original = self.ctx.sf_key(self.entity, self.c, self.m) if self.side == SF else self.ctx.erp_key(
            self.entity, self.c, self.m)
        return [self.entry(keys={self.side: [original, self.dup_key]})]


@dataclass
class Merge(Alteration):
    """Salesforce merged the loser (this record) into ``winner``: the loser is deleted with MasterRecordId
    set and its children point at the winner; the ERP still holds both, children under the loser."""

    winner: int = 0  # company (Account merge) or contact slot (Contact merge)
    time: int = 0

    def sf(self, obj: str, row: Row) -> Row | None:
        w, stamp = self.ctx.world, sf_datetime(self.time)
        if self.entity == "Account":
            loser, winner = w.account_id(self.c), w.account_id(self.winner)
            if obj == "Account" and row["Id"] == loser:
                row.update(IsDeleted=True, MasterRecordId=winner, LastModifiedDate=stamp, SystemModstamp=stamp)
            elif obj in ("Contact", "Opportunity"):
                row.update(AccountId=winner, LastModifiedDate=stamp, SystemModstamp=stamp)
            elif obj in ("Task", "Event"):
                row["AccountId"] = winner
                if row["WhatId"] == loser:
                    row["WhatId"] = winner
            return row
        loser, winner = w.contact_id(self.c, self.m), w.contact_id(self.c, self.winner)
        if obj == "Contact" and row["Id"] == loser:
            row.update(IsDeleted=True, MasterRecordId=winner, LastModifiedDate=stamp, SystemModstamp=stamp)
        elif obj in ("Task", "Event") and row["WhoId"] == loser:
            row["WhoId"] = winner
        return row

    def entries(self) -> list[dict[str, Any]]:
        w = self.ctx.world
        if self.entity == "Account":
            winner = self.keys(c=self.winner, m=0)
            children = {"Contact": [w.contact_id(self.c, m) for m in range(w.k)],
                        "Opportunity": [w.opportunity_id(self.c, m) for m in range(w.o)]}
        else:
            winner = self.keys(m=self.winner)
            children = {}
        return [self.entry(winner=winner, children=children, merged_in=SF)]


def _parse_ts(value: str) -> int:
    return epoch(parse_sf_datetime(value))
