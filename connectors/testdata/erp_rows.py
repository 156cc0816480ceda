"""The demo ERP's rows (tables of erp_schema.py), built from the same world as the Salesforce rows.

Python values as a DB-API driver would return them: Decimal money, date, naive datetimes in the
ERP's local time zone, 'Y'/'N' flags, ISO country codes, the ERP's own sector and status codes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.salesforce.objects import to_15
from connectors.testdata.formats import DAY, ascii_slug, local_naive, phone_national, to_date
from connectors.testdata.sf_rows import decimal_scale_amount, phone_in_variant
from connectors.testdata.variants import Variants
from connectors.testdata.world import ERP_ONLY, LINKED, Company, Phone, World

VAT_RATES = {"ES": Decimal("0.21"), "DE": Decimal("0.19"), "FR": Decimal("0.20"), "GB": Decimal("0.20"),
             "US": Decimal("0"), "IT": Decimal("0.22"), "NL": Decimal("0.21")}
CENT = Decimal("0.01")


class ErpRows:
    """Builds the clean ERP row of each record; defects are applied afterwards by the dataset."""

    def __init__(self, world: World, variants: Variants) -> None:
        self.world, self.variants = world, variants
        self.zone = world.config.erp_timezone

    def local(self, ts: int) -> Any:
        return local_naive(ts, self.zone)

    def customer(self, c: int) -> dict[str, Any]:
        w, co = self.world, self.world.company(c)
        pr = w.profile(co)
        linked = co.kind == LINKED
        variant = self.variants.kind("Account", c, 0, co.rank) if linked else None
        detail = self.variants.detail(c)
        sf_id = w.account_id(c) if linked else None
        country: str = co.country.code
        if variant == "country_name":
            country = co.country.local_name if detail & 1 else co.country.name.upper()
        return {
            "cust_no": w.cust_no(c),
            "company_name": co.name.upper() if variant == "letter_case" else co.name,
            "vat_id": pr.vat,
            "street": co.street, "zip": co.postal, "city": co.city.name, "country": country,
            "phone_no": self._phone(co, pr.phone, variant, detail),
            "email_addr": pr.email,
            "web": "" if variant == "null_vs_empty" else pr.website,
            "sector": w.sector(pr.industry),
            "status": pr.status,
            "credit_limit": pr.credit_limit,
            "currency": co.country.currency,
            "sales_rep": w.emp_code(co.owner),
            "sf_account_id": to_15(sf_id) if sf_id and variant == "id_length" else sf_id,
            # timezone variant: an import job wrote this one in UTC wall-clock time, not the ERP's zone
            "created_ts": local_naive(co.created, "UTC") if variant == "timezone" else self.local(co.created),
            "changed_ts": self.local(co.erp_changed),
            "deleted_flag": "N",
        }

    @staticmethod
    def _phone(co: Company, phone: Phone, variant: str | None, detail: int) -> str:
        """Linked customers hold what the sync wrote (international); the ERP's own domestic
        customers are typed the national way, as a Spanish clerk would."""
        if variant == "phone_format":
            return phone_in_variant(phone, detail)
        if co.kind == ERP_ONLY and co.country.code == "ES":
            return phone_national(phone.country, phone.nsn, phone.area_len)
        return phone.international

    def contact(self, c: int, m: int) -> dict[str, Any]:
        w, co = self.world, self.world.company(c)
        p = w.person(c, m)
        linked = co.kind == LINKED
        variant = self.variants.kind("Contact", c, m, co.rank) if linked else None
        detail = self.variants.detail(c, m)
        sf_id = w.contact_id(c, m) if linked else None
        email, family = p.email, p.last
        if variant == "letter_case":
            if detail & 1:
                local, _, domain = email.partition("@")
                email = f"{local.title()}@{domain.upper()}"
            else:
                family = family.upper()
        mobile = p.mobile.international if p.mobile else None
        return {
            "contact_no": w.contact_no(c, m),
            "cust_no": w.cust_no(c),
            "salutation": co.country.salutations[0 if p.female else 1],
            "given_name": p.first,
            "family_name": family,
            "email_addr": email,
            "phone_no": phone_in_variant(p.phone, detail) if variant == "phone_format" else p.phone.international,
            "mobile_no": "" if variant == "null_vs_empty" else mobile,
            "position": p.title,
            "lang": co.country.language,
            "sf_contact_id": to_15(sf_id) if sf_id and variant == "id_length" else sf_id,
            "changed_ts": self.local(p.erp_changed),
            "deleted_flag": "N",
        }

    def order(self, c: int, m: int) -> dict[str, Any]:
        w, co = self.world, self.world.company(c)
        d = w.deal(c, m)
        amount = d.amount
        if co.kind == LINKED and self.variants.kind("Opportunity", c, m, co.rank) == "decimal_scale":
            amount = decimal_scale_amount(amount, self.variants.detail(c, m))
        return {
            "order_no": w.order_no(c, m),
            "cust_no": w.cust_no(c),
            "order_date": to_date(d.close_ts),
            "status": d.status or "OPEN",
            "net_amount": amount,
            "currency": co.country.currency,
            "sales_rep": w.emp_code(co.owner),
            "changed_ts": self.local(d.erp_changed),
        }

    def invoice(self, order: dict[str, Any], c: int) -> dict[str, Any]:
        """The invoice of an invoiced order (status INVC): net plus the country's VAT."""
        co = self.world.company(c)
        today = self.world.base // DAY + 719_163
        issued = min(today, order["order_date"].toordinal() + 3 + int(order["order_no"][-2:]) % 18)
        gross = (order["net_amount"] * (1 + VAT_RATES[co.country.code])).quantize(CENT)
        invoice_date = to_date((issued - 719_163) * DAY)
        paid = today - issued > 45
        return {
            "invoice_no": "INV" + order["order_no"][2:],
            "order_no": order["order_no"],
            "cust_no": order["cust_no"],
            "invoice_date": invoice_date,
            "due_date": to_date((issued + 30 - 719_163) * DAY),
            "gross_amount": gross,
            "currency": order["currency"],
            "paid_flag": "Y" if paid else "N",
            "changed_ts": self.local(min(self.world.last_sync, (issued - 719_163) * DAY + 36_000)),
        }

    def employee(self, u: int) -> dict[str, Any]:
        """Sales reps mirror Salesforce users 1..n-1; user 0 (integration) has no employee."""
        w = self.world
        ud = w.user(u)
        return {
            "emp_code": w.emp_code(u),
            "full_name": f"{ud.first} {ud.last}",
            "email_addr": ud.email,
            "active": "Y" if ud.active else "N",
            "sf_user_id": w.user_id(u),
        }

    def erp_only_employee(self, j: int) -> dict[str, Any]:
        names = (("Rosa", "Vidal"), ("Tomás", "Herrero"), ("Inés", "Caballero"), ("Raúl", "Cano"))
        first, last = names[j % len(names)]
        return {
            "emp_code": f"E{9000 + j:04d}", "full_name": f"{first} {last}",
            "email_addr": f"{ascii_slug(first)}.{ascii_slug(last)}@crmsync-demo.example.com",
            "active": "Y", "sf_user_id": None,
        }
