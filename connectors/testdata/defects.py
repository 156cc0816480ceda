"""The defect catalogue: which record gets which defect, for every finding code reconciliation knows.

Targets are taken by rank from each population (linked, CRM-only, ERP-only companies; leads), so
every defect sits on its own company and is detectable from what the two sides hold, without any
other defect or formatting variant muddling it. ``defects_per_code`` defects per code cycle through
that code's kinds below; each kind says what it needs (contacts, orders, queues...) and is skipped
when the config cannot give it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.salesforce.objects import HEALTH_SCORE_FORMULA, expected_revenue, id_for
from connectors.testdata.alterations import ERP, SF, Alteration, Ctx, Duplicate, Edit, Merge, Removal, SoftDelete
from connectors.testdata.formats import ascii_slug, street_line
from connectors.testdata.rng import Rng
from connectors.testdata.world import CRM_ONLY, ERP_ONLY, LINKED, S_MISC, World

CODES = ("missing", "field_mismatch", "duplicate", "orphan_reference", "invalid_value", "picklist_drift", "stale",
         "conflict", "formula_drift", "merged", "inactive_owner", "queue_owner", "schema_drift", "deleted_one_side")
EXTRA_BASE = 62**8  # record numbers of injected extra rows (duplicates): far above any regular index
GHOST_BASE = 2 * 62**8  # record numbers of ids that exist nowhere (orphan references)

SCHEMA_CHANGES: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("Account", "field_added", {"name": "Loyalty_Tier__c", "type": "picklist", "label": "Loyalty Tier",
                                "values": ["Gold", "Silver", "Bronze"]},
     "describe lists the new field and rows carry values for it"),
    ("Account", "field_changed", {"name": "VAT_Number__c", "type": "string", "length": 30, "label": "VAT Number"},
     "describe reports length 30 instead of 20"),
    ("Contact", "field_added", {"name": "Preferred_Channel__c", "type": "picklist", "label": "Preferred Channel",
                                "values": ["Email", "Phone", "Letter"]},
     "describe lists the new field and rows carry values for it"),
    ("Account", "field_hidden", {"name": "Sic"},
     "describe no longer lists the field (field-level security hid it); rows and SOQL omit it"),
)


class Allocator:
    """Hands out distinct targets by rank, per population; fails clearly when the config is too small."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.used = {LINKED: 0, CRM_ONLY: 0, ERP_ONLY: 0, "lead": 0}
        cfg = world.config
        self.size = {LINKED: cfg.linked, CRM_ONLY: cfg.crm_only, ERP_ONLY: cfg.erp_only, "lead": cfg.leads_count}

    def has(self, population: str, n: int = 1) -> bool:
        return self.used[population] + n <= self.size[population]

    def take(self, population: str) -> int:
        if not self.has(population):
            raise ValueError(f"too few {population} records for the requested defects "
                             f"(have {self.size[population]}); raise accounts/leads or lower defects_per_code")
        rank = self.used[population]
        self.used[population] += 1
        if population == "lead":
            return self.world.leads_order.inverse(rank)
        return self.world.company_at(population, rank)


@dataclass
class Kind:
    code: str
    name: str
    needs: Callable[[World, Allocator], bool]
    build: Callable[[Ctx, Allocator, int], Alteration]


def _k(w: World, _a: Allocator) -> bool:
    return w.k >= 1


def _always(_w: World, _a: Allocator) -> bool:
    return True


def _mrng(ctx: Ctx, c: int, salt: int) -> Rng:
    return Rng(ctx.world.seed, S_MISC, c, salt)


def _other_phone(ctx: Ctx, c: int, salt: int) -> str:
    co = ctx.world.company(c)
    return ctx.world.landline(_mrng(ctx, c, salt), co.country, co.city).international


def _other_email(ctx: Ctx, c: int, m: int, salt: int) -> str:
    p = ctx.world.person(c, m)
    return f"{ascii_slug(p.first)}.{ascii_slug(p.last.split(' ')[0])}{10 + _mrng(ctx, c, salt).below(89)}@gmail.com"


def _other_street(ctx: Ctx, c: int, salt: int) -> str:
    co, r = ctx.world.company(c), _mrng(ctx, c, salt)
    return street_line(co.country.code, r.pick(co.country.streets), r.between(181, 400))


def _ghost(prefix: str, j: int) -> str:
    return id_for(prefix, GHOST_BASE + j)


# ---------------------------------------------------------------------------------------------- kinds
def _missing() -> list[Kind]:
    def removal(entity: str, side: str, note: str) -> Callable[[Ctx, Allocator, int], Alteration]:
        return lambda ctx, a, j: Removal(ctx, "missing", f"{entity.lower()}_absent_in_{side}", entity,
                                         a.take(LINKED), side=side, note=note)

    return [
        Kind("missing", "account_absent_in_erp", _always, removal(
            "Account", ERP, "Account carries ERP_Customer_No__c, but the ERP has no such customer (nor its "
                            "contacts, orders and invoices)")),
        Kind("missing", "contact_absent_in_salesforce", _k, removal(
            "Contact", SF, "ERP contact holds sf_contact_id of a Contact that Salesforce does not have")),
        Kind("missing", "contact_absent_in_erp", _k, removal(
            "Contact", ERP, "Contact carries ERP_Contact_No__c, but the ERP has no such contact")),
        Kind("missing", "opportunity_absent_in_salesforce", lambda w, a: w.w >= 1, removal(
            "Opportunity", SF, "ERP order of a linked customer has no Opportunity with its ERP_Order_No__c")),
    ]


def _field_mismatch() -> list[Kind]:
    def account_phone(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        c = a.take(LINKED)
        return Edit(ctx, "field_mismatch", "account_phone", "Account", c, fields=["phone"],
                    erp_values={"phone_no": _other_phone(ctx, c, j)},
                    note="different phone numbers, both written before the last sync")

    def contact_email(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        c = a.take(LINKED)
        return Edit(ctx, "field_mismatch", "contact_email", "Contact", c, 0, fields=["email"],
                    erp_values={"email_addr": _other_email(ctx, c, 0, j)}, note="ERP holds a private address")

    def account_street(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        c = a.take(LINKED)
        return Edit(ctx, "field_mismatch", "account_street", "Account", c, fields=["billing_address.street"],
                    sf_values={"BillingStreet": _other_street(ctx, c, j)}, note="different billing street")

    def opportunity_amount(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        c = a.take(LINKED)
        amount = (ctx.world.deal(c, 0).amount * Decimal("1.1")).quantize(Decimal("0.01"))
        return Edit(ctx, "field_mismatch", "opportunity_amount", "Opportunity", c, 0, fields=["amount"],
                    erp_values={"net_amount": amount}, note="order amount differs from the opportunity amount")

    def contact_last_name(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        c = a.take(LINKED)
        p, co = ctx.world.person(c, 0), ctx.world.company(c)
        new = next(s for s in co.country.surnames[j % 5:] + co.country.surnames if s not in p.last)
        return Edit(ctx, "field_mismatch", "contact_last_name", "Contact", c, 0, fields=["last_name"],
                    sf_values={"LastName": new, "Name": f"{p.first} {new}"}, note="surname changed in Salesforce")

    return [Kind("field_mismatch", "account_phone", _always, account_phone),
            Kind("field_mismatch", "contact_email", _k, contact_email),
            Kind("field_mismatch", "account_street", _always, account_street),
            Kind("field_mismatch", "opportunity_amount", lambda w, a: w.w >= 1, opportunity_amount),
            Kind("field_mismatch", "contact_last_name", _k, contact_last_name)]


def _duplicate() -> list[Kind]:
    def dup(entity: str, side: str, population: str, prefix: str) -> Callable[[Ctx, Allocator, int], Alteration]:
        def build(ctx: Ctx, a: Allocator, j: int) -> Alteration:
            key: str | int = id_for(prefix, EXTRA_BASE + j) if side == SF else str(90_000_001 + j)
            return Duplicate(ctx, "duplicate", f"{entity.lower()}_in_{side}", entity, a.take(population),
                             side=side, dup_key=key,
                             note=f"a second {entity} for the same {'person' if entity != 'Account' else 'company'}"
                                  f", created by hand without the ERP link")
        return build

    return [Kind("duplicate", "account_in_salesforce", _always, dup("Account", SF, LINKED, "001")),
            Kind("duplicate", "contact_in_salesforce", _k, dup("Contact", SF, LINKED, "003")),
            Kind("duplicate", "customer_in_erp", _always, dup("Account", ERP, LINKED, "")),
            Kind("duplicate", "lead_in_salesforce", lambda w, a: a.has("lead"), dup("Lead", SF, "lead", "00Q"))]


def _orphan() -> list[Kind]:
    def sf_ref(entity: str, m: int, field_: str, canonical: str, prefix: str) -> Callable[..., Alteration]:
        return lambda ctx, a, j: Edit(
            ctx, "orphan_reference", f"{entity.lower()}_{canonical}", entity, a.take(CRM_ONLY), m,
            fields=[canonical], sf_values={field_: _ghost(prefix, j)}, systems=[SF],
            note=f"{field_} points at a record that exists nowhere")

    def rep(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        return Edit(ctx, "orphan_reference", "customer_sales_rep", "Account", a.take(ERP_ONLY), fields=["owner_id"],
                    erp_values={"sales_rep": f"E{9900 + j}"}, systems=[ERP], note="sales_rep is no employee")

    crm = lambda w, a: a.has(CRM_ONLY)  # noqa: E731
    return [Kind("orphan_reference", "contact_account", lambda w, a: w.k >= 1 and crm(w, a),
                 sf_ref("Contact", 0, "AccountId", "account_id", "001")),
            Kind("orphan_reference", "opportunity_account", lambda w, a: w.o >= 1 and crm(w, a),
                 sf_ref("Opportunity", 0, "AccountId", "account_id", "001")),
            Kind("orphan_reference", "task_who", lambda w, a: w.t >= 1 and w.k >= 1 and crm(w, a),
                 sf_ref("Activity", 0, "WhoId", "who_id", "003")),
            Kind("orphan_reference", "customer_sales_rep", lambda w, a: a.has(ERP_ONLY), rep)]


def _single(code: str, kind: str, entity: str, population: str, side: str, fields: list[str],
            values: Callable[[Ctx, int], dict[str, Any]], note: str, m: int = 0,
            needs: Callable[[World, Allocator], bool] = _always) -> Kind:
    """A one-sided edit on a record of ``population`` (unlinked, so no other finding overlaps it)."""
    def build(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        target = a.take(population)
        vals = values(ctx, target)
        return Edit(ctx, code, kind, entity, target, m, fields=fields, systems=[side], note=note,
                    sf_values=vals if side == SF else {}, erp_values=vals if side == ERP else {})

    return Kind(code, kind, lambda w, a: a.has(population) and needs(w, a), build)


def _invalid_value() -> list[Kind]:
    co = lambda ctx, c: ctx.world.company(c)  # noqa: E731
    profile = lambda ctx, c: ctx.world.profile(ctx.world.company(c))  # noqa: E731
    return [
        _single("invalid_value", "customer_email", "Account", ERP_ONLY, ERP, ["email"],
                lambda ctx, c: {"email_addr": profile(ctx, c).email.replace("@", "(at)")}, "not an e-mail address"),
        _single("invalid_value", "lead_phone", "Lead", "lead", SF, ["phone"],
                lambda ctx, n: {"Phone": "n/a - ask reception"}, "not a phone number"),
        _single("invalid_value", "contact_email", "Contact", ERP_ONLY, ERP, ["email"],
                lambda ctx, c: {"email_addr": ctx.world.person(c, 0).email.split("@")[0] + "@"},
                "e-mail address without a domain", needs=_k),
        _single("invalid_value", "account_website", "Account", CRM_ONLY, SF, ["website"],
                lambda ctx, c: {"Website": "htp:/" + co(ctx, c).domain}, "malformed URL"),
        _single("invalid_value", "account_vat", "Account", CRM_ONLY, SF, ["vat_number"],
                lambda ctx, c: {"VAT_Number__c": "pending"}, "not a VAT number"),
    ]


def _picklist_drift() -> list[Kind]:
    def lead_status(ctx: Ctx, n: int) -> dict[str, Any]:
        # a user owner, so the record is not also a queue_owner case
        return {"Status": "Contacted", "OwnerId": ctx.sf.user_ids[ctx.world.active_reps[0]]}

    return [
        _single("picklist_drift", "opportunity_stage", "Opportunity", CRM_ONLY, SF, ["stage"],
                lambda ctx, c: {"StageName": "Discovery"}, "retired stage value kept on an old record",
                needs=lambda w, a: w.o >= 1),
        _single("picklist_drift", "lead_status", "Lead", "lead", SF, ["status"], lead_status,
                "value renamed in setup; the old API name is not in the restricted picklist"),
        _single("picklist_drift", "account_industry", "Account", CRM_ONLY, SF, ["industry"],
                lambda ctx, c: {"Industry": "Software"}, "value not among the picklist's values"),
        _single("picklist_drift", "customer_sector", "Account", ERP_ONLY, ERP, ["industry"],
                lambda ctx, c: {"sector": "IT"}, "sector code outside the ERP's SECTORS"),
        _single("picklist_drift", "order_status", "Opportunity", ERP_ONLY, ERP, ["stage"],
                lambda ctx, c: {"status": "DONE"}, "order status outside ORDER_STATUS",
                needs=lambda w, a: w.w >= 1),
    ]


def _timed(code: str, kind: str, entity: str, fields: list[str], sf_field: str | None, erp_field: str | None,
           values: Callable[[Ctx, int, int], tuple[Any, Any]], needs: Callable[[World, Allocator], bool] = _always
           ) -> Kind:
    """Changes after the last sync: on one side (stale: the other side lags) or on both (conflict)."""
    def build(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        w = ctx.world
        c = a.take(LINKED)
        sf_value, erp_value = values(ctx, c, j)
        sf_time = w.after_sync(c * 2 + 1) if sf_field else None
        erp_time = w.after_sync(c * 2 + 2) if erp_field else None
        extra: dict[str, Any] = {"last_sync_at": w.last_sync}
        if code == "stale":
            extra["stale_in"] = ERP if sf_field else SF
            extra["newer_in"] = SF if sf_field else ERP
        note = ("changed in both systems after the last sync" if code == "conflict"
                else f"changed in {extra['newer_in']} after the last sync; {extra['stale_in']} still has the old value")
        return Edit(ctx, code, kind, entity, c, 0, fields=fields, note=note, extra=extra,
                    sf_values={sf_field: sf_value} if sf_field else {}, sf_time=sf_time,
                    erp_values={erp_field: erp_value} if erp_field else {}, erp_time=erp_time)

    return Kind(code, kind, needs, build)


def _stale_and_conflict() -> list[Kind]:
    phone = lambda ctx, c, j: (_other_phone(ctx, c, 100 + j), _other_phone(ctx, c, 200 + j))  # noqa: E731
    street = lambda ctx, c, j: (_other_street(ctx, c, 100 + j), _other_street(ctx, c, 200 + j))  # noqa: E731
    email = lambda ctx, c, j: (_other_email(ctx, c, 0, 100 + j), _other_email(ctx, c, 0, 200 + j))  # noqa: E731
    title = lambda ctx, c, j: ("Head of Operations", "Chief Operating Officer")  # noqa: E731
    site = lambda ctx, c, j: (  # noqa: E731
        "https://www." + ctx.world.company(c).brand.lower() + ".com",
        "www." + ctx.world.company(c).brand.lower() + "-group.com")

    def mobile(ctx: Ctx, c: int, j: int) -> tuple[Any, Any]:
        co = ctx.world.company(c)
        return None, ctx.world.mobile(_mrng(ctx, c, 300 + j), co.country, co.city).international

    return [
        _timed("stale", "account_phone_erp_newer", "Account", ["phone"], None, "phone_no",
               lambda ctx, c, j: (None, phone(ctx, c, j)[1])),
        _timed("stale", "contact_title_sf_newer", "Contact", ["title"], "Title", None,
               lambda ctx, c, j: (title(ctx, c, j)[0], None), _k),
        _timed("stale", "account_street_erp_newer", "Account", ["billing_address.street"], None, "street",
               lambda ctx, c, j: (None, street(ctx, c, j)[1])),
        _timed("stale", "contact_mobile_erp_newer", "Contact", ["mobile_phone"], None, "mobile_no", mobile, _k),
        _timed("conflict", "account_phone", "Account", ["phone"], "Phone", "phone_no", phone),
        _timed("conflict", "contact_email", "Contact", ["email"], "Email", "email_addr", email, _k),
        _timed("conflict", "account_website", "Account", ["website"], "Website", "web", site),
        _timed("conflict", "contact_title", "Contact", ["title"], "Title", "position", title, _k),
    ]


def _formula_drift() -> list[Kind]:
    def health(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        c = a.take(LINKED)
        right = ctx.sf.account(c)["Health_Score__c"]
        return Edit(ctx, "formula_drift", "health_score", "Account", c, fields=["Health_Score__c"], systems=[SF],
                    sf_values={"Health_Score__c": right + 15 if right <= 85 else right - 35},
                    extra={"expected": right, "formula": HEALTH_SCORE_FORMULA},
                    note="stored formula value differs from what the formula gives (changed without SystemModstamp)")

    def revenue(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        c = a.take(CRM_ONLY)
        right = expected_revenue(ctx.sf.opportunity(c, 0))
        return Edit(ctx, "formula_drift", "expected_revenue", "Opportunity", c, 0, fields=["ExpectedRevenue"],
                    systems=[SF], sf_values={"ExpectedRevenue": round((right or 0) * 0.5, 2)},
                    extra={"expected": right, "formula": "Amount * Probability / 100"},
                    note="stored formula value differs from Amount * Probability / 100")

    return [Kind("formula_drift", "health_score", _always, health),
            Kind("formula_drift", "expected_revenue", lambda w, a: w.o >= 1 and a.has(CRM_ONLY), revenue)]


def _merged() -> list[Kind]:
    def account(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        loser, winner = a.take(LINKED), a.take(LINKED)
        return Merge(ctx, "merged", "account", "Account", loser, winner=winner,
                     time=ctx.world.after_sync(loser), note="merged in Salesforce; the ERP still has both customers")

    def contact(ctx: Ctx, a: Allocator, j: int) -> Alteration:
        c = a.take(LINKED)
        return Merge(ctx, "merged", "contact", "Contact", c, 1, winner=0, time=ctx.world.after_sync(c),
                     note="merged in Salesforce; the ERP still has both contacts")

    return [Kind("merged", "account", lambda w, a: a.has(LINKED, 2), account),
            Kind("merged", "contact", lambda w, a: w.k >= 2, contact)]


def _owners() -> list[Kind]:
    def inactive(entity: str, m: int, erp_field: str | None) -> Callable[[Ctx, Allocator, int], Alteration]:
        def build(ctx: Ctx, a: Allocator, j: int) -> Alteration:
            w = ctx.world
            u = w.inactive_reps[j % len(w.inactive_reps)]
            c = a.take(LINKED)
            linked_erp = erp_field is not None and ctx.in_erp(entity, c, m)
            return Edit(ctx, "inactive_owner", entity.lower(), entity, c, m, fields=["owner_id"],
                        sf_values={"OwnerId": ctx.sf.user_ids[u]},
                        erp_values={erp_field: w.emp_code(u)} if linked_erp and erp_field else {},
                        systems=None if linked_erp else [SF], note="owner is a deactivated user")
        return build

    def queue(entity: str, population: str, extra: dict[str, Any]) -> Callable[[Ctx, Allocator, int], Alteration]:
        def build(ctx: Ctx, a: Allocator, j: int) -> Alteration:
            g = j % len(ctx.sf.queue_ids)
            return Edit(ctx, "queue_owner", entity.lower(), entity, a.take(population), fields=["owner_id"],
                        sf_values={"OwnerId": ctx.sf.queue_ids[g], **extra}, systems=[SF],
                        note="owned by a queue (00G) where a user (005) is expected")
        return build

    has_inactive = lambda w, a: bool(w.inactive_reps)  # noqa: E731
    has_queue = lambda w, a: w.config.queues >= 1  # noqa: E731
    return [
        Kind("inactive_owner", "account", has_inactive, inactive("Account", 0, "sales_rep")),
        Kind("inactive_owner", "opportunity", lambda w, a: has_inactive(w, a) and w.o >= 1,
             inactive("Opportunity", 0, "sales_rep")),
        Kind("inactive_owner", "contact", lambda w, a: has_inactive(w, a) and w.k >= 1, inactive("Contact", 0, None)),
        Kind("queue_owner", "account", lambda w, a: has_queue(w, a) and a.has(CRM_ONLY),
             queue("Account", CRM_ONLY, {})),
        Kind("queue_owner", "lead", lambda w, a: has_queue(w, a) and a.has("lead"),
             queue("Lead", "lead", {"Status": "Working - Contacted"})),
    ]


def _deleted() -> list[Kind]:
    def soft(entity: str, m: int, side: str) -> Callable[[Ctx, Allocator, int], Alteration]:
        def build(ctx: Ctx, a: Allocator, j: int) -> Alteration:
            c = a.take(LINKED)
            return SoftDelete(ctx, "deleted_one_side", f"{entity.lower()}_in_{side}", entity, c, m, side=side,
                              time=ctx.world.after_sync(c + 7), note=f"deleted in {side} only")
        return build

    return [Kind("deleted_one_side", "contact_in_salesforce", _k, soft("Contact", 0, SF)),
            Kind("deleted_one_side", "customer_in_erp", _always, soft("Account", 0, ERP)),
            Kind("deleted_one_side", "contact_in_erp", _k, soft("Contact", 0, ERP)),
            Kind("deleted_one_side", "account_in_salesforce", _always, soft("Account", 0, SF))]


CATALOGUE: tuple[Callable[[], list[Kind]], ...] = (
    _missing, _field_mismatch, _duplicate, _orphan, _invalid_value, _picklist_drift, _stale_and_conflict,
    _formula_drift, _merged, _owners, _deleted)
