"""Salesforce rows, as the REST API returns them, built from the world.

A row holds every stored field of the object (describe order; compound address fields are left out
because the sandbox composes them from their components, see objects.address_value). Values are
JSON-ready: datetimes ``2024-05-01T10:00:00.000+0000``, dates ``YYYY-MM-DD``, numbers, booleans, null.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connectors.salesforce.objects import OPPORTUNITY_STAGES, SObject, expected_revenue, health_score
from connectors.testdata import world_data as wd
from connectors.testdata.formats import DAY, phone_national, phone_variant, sf_date, sf_datetime, to_date
from connectors.testdata.rng import words
from connectors.testdata.variants import Variants
from connectors.testdata.world import CRM_ONLY, LINKED, S_EVENT, S_TASK, Company, Phone, World, scaled

_FORECAST_API = {"Pipeline": "Pipeline", "Best Case": "BestCase", "Commit": "Forecast", "Closed": "Closed",
                 "Omitted": "Omitted"}
_P85 = int(0.85 * 2**32)
_OPEN_TASK = ("Not Started", "In Progress", "Waiting on someone else")
_PRIORITIES = ("High", "Normal", "Normal", "Low")
_DURATIONS = (30, 60, 60, 90, 120)
_TIMEZONES = {"ES": "Europe/Madrid", "DE": "Europe/Berlin", "FR": "Europe/Paris", "GB": "Europe/London",
              "US": "America/New_York", "IT": "Europe/Rome", "NL": "Europe/Amsterdam"}
_LOCALES = {"ES": ("es_ES", "es"), "DE": ("de_DE", "de"), "FR": ("fr_FR", "fr"), "GB": ("en_GB", "en_US"),
            "US": ("en_US", "en_US"), "IT": ("it_IT", "it"), "NL": ("nl_NL", "nl_NL")}


def template(obj: SObject) -> dict[str, Any]:
    """A row of nulls (and the defaults of non-nillable booleans) in describe order."""
    return {f.name: (f.default_value if f.type == "boolean" else None) for f in obj.stored_fields}


class SalesforceRows:
    """Builds the clean row of each record; defects are applied afterwards by the dataset."""

    def __init__(self, world: World, objects: Mapping[str, SObject], variants: Variants) -> None:
        self.world, self.objects, self.variants = world, objects, variants
        self.templates = {name: template(obj) for name, obj in objects.items()}
        self.user_ids = [world.user_id(u) for u in range(world.config.users)]
        self.queue_ids = [world.queue_id(g) for g in range(world.config.queues)]
        self._acc: tuple[int, str] = (-1, "")
        self._bases: dict[str, tuple[int, dict[str, Any]]] = {}

    def _base(self, obj: str, co: Company) -> dict[str, Any]:
        """The object's template with the fields every child of this company shares already set
        (children are built company by company, so one cached company per object is enough)."""
        hit = self._bases.get(obj)
        if hit is not None and hit[0] == co.c:
            return hit[1]
        base = dict(self.templates[obj])
        owner = self.user_ids[co.owner]
        base["AccountId"] = self.account_id(co.c)
        base["OwnerId"] = owner
        if obj in ("Contact", "Opportunity"):
            base["CurrencyIsoCode"] = co.country.currency
        if obj == "Contact":
            self._address(base, "Mailing", co)
            base["CreatedById"] = base["LastModifiedById"] = self.user_ids[0] if co.kind == LINKED else owner
        elif obj != "Opportunity":
            base["CreatedById"] = base["LastModifiedById"] = owner
        self._bases[obj] = (co.c, base)
        return base

    def account_id(self, c: int) -> str:
        if self._acc[0] != c:
            self._acc = (c, self.world.account_id(c))
        return self._acc[1]

    def _audit(self, row: dict[str, Any], created: int, modified: int, creator: str, modifier: str) -> None:
        row["CreatedDate"] = sf_datetime(created)
        row["CreatedById"] = creator
        row["LastModifiedDate"] = stamp = sf_datetime(modified)
        row["LastModifiedById"] = modifier
        row["SystemModstamp"] = stamp

    # ------------------------------------------------------------------ Account
    def account(self, c: int) -> dict[str, Any]:
        w, co = self.world, self.world.company(c)
        pr = w.profile(co)
        row = dict(self.templates["Account"])
        linked = co.kind == LINKED
        variant = self.variants.kind("Account", c, 0, co.rank) if linked else None
        row["Id"] = self.account_id(c)
        row["Name"] = co.name
        row["Type"] = pr.account_type
        self._address(row, "Billing", co)
        if (c & 3) != 3:  # most accounts ship where they are billed
            self._address(row, "Shipping", co)
        row["Phone"] = pr.phone.international
        row["Website"] = None if variant == "null_vs_empty" else pr.website
        row["Industry"] = pr.industry
        row["AnnualRevenue"] = pr.revenue
        row["NumberOfEmployees"] = pr.employees
        row["Ownership"] = "Private" if pr.employees < 2000 else "Public"
        row["Rating"] = pr.rating
        row["AccountSource"] = None if linked else "Web"
        row["CurrencyIsoCode"] = co.country.currency
        row["OwnerId"] = owner = self.user_ids[co.owner]
        integration = self.user_ids[0]
        self._audit(row, co.created, co.modified, integration if linked else owner,
                    integration if linked else owner)
        if linked:
            row["ERP_Customer_No__c"] = w.cust_no(c)
        row["VAT_Number__c"] = pr.vat if linked or (c & 1) else None
        row["Health_Score__c"] = health_score(row)
        if "Loyalty_Tier__c" in row:
            row["Loyalty_Tier__c"] = pr.loyalty
        return row

    def _address(self, row: dict[str, Any], prefix: str, co: Company) -> None:
        row[prefix + "Street"] = co.street
        row[prefix + "City"] = co.city.name
        row[prefix + "State"] = co.city.state
        row[prefix + "PostalCode"] = co.postal
        row[prefix + "Country"] = co.country.name

    # ------------------------------------------------------------------ Contact
    def contact(self, c: int, m: int) -> dict[str, Any]:
        w, co = self.world, self.world.company(c)
        p = w.person(c, m)
        row = dict(self._base("Contact", co))
        variant = self.variants.kind("Contact", c, m, co.rank) if co.kind == LINKED else None
        row["Id"] = w.contact_id(c, m)
        row["LastName"] = p.last
        row["FirstName"] = p.first
        row["Salutation"] = "Ms." if p.female else "Mr."
        row["Name"] = p.first + " " + p.last
        row["Phone"] = p.phone.international
        row["MobilePhone"] = None if variant == "null_vs_empty" or p.mobile is None else p.mobile.international
        row["Email"] = p.email
        row["Title"] = p.title
        row["Department"] = p.department
        row["CreatedDate"] = sf_datetime(p.created)
        row["LastModifiedDate"] = row["SystemModstamp"] = sf_datetime(p.modified)
        if co.kind == LINKED:
            row["ERP_Contact_No__c"] = str(w.contact_no(c, m))
        if "Preferred_Channel__c" in row:
            row["Preferred_Channel__c"] = p.channel
        return row

    # ------------------------------------------------------------------ Opportunity
    def opportunity(self, c: int, m: int) -> dict[str, Any]:
        w, co = self.world, self.world.company(c)
        d = w.deal(c, m)
        row = dict(self._base("Opportunity", co))
        amount = d.amount
        if co.kind == LINKED and self.variants.kind("Opportunity", c, m, co.rank) == "decimal_scale":
            amount = decimal_scale_amount(amount, self.variants.detail(c, m))
        probability, closed, won, forecast = OPPORTUNITY_STAGES[d.stage]
        row["Id"] = w.opportunity_id(c, m)
        row["Name"] = co.brand + " - " + d.product
        row["StageName"] = d.stage
        row["Amount"] = float(amount)
        row["Probability"] = probability
        row["ExpectedRevenue"] = expected_revenue(row)
        row["CloseDate"] = sf_date(d.close_ts)
        row["Type"] = "New Customer" if m == 0 and co.kind == CRM_ONLY else "Existing Customer - Upgrade"
        row["IsClosed"], row["IsWon"] = closed, won
        row["ForecastCategory"], row["ForecastCategoryName"] = _FORECAST_API[forecast], forecast
        owner = row["OwnerId"]
        creator = self.user_ids[0] if d.order_linked else owner
        self._audit(row, d.created, d.modified, creator, creator)
        close = to_date(d.close_ts)
        row["FiscalYear"], row["FiscalQuarter"] = close.year, (close.month - 1) // 3 + 1
        row["Fiscal"] = f"{close.year} {(close.month - 1) // 3 + 1}"
        if d.order_linked and co.kind == LINKED:
            row["ERP_Order_No__c"] = w.order_no(c, m)
        return row

    # ------------------------------------------------------------------ activities
    def task(self, c: int, m: int) -> dict[str, Any]:
        w, co = self.world, self.world.company(c)
        v = words(w.seed, S_TASK, c, m)
        row = dict(self._base("Task", co))
        created = co.created + scaled(v[0], max(1, min(700 * DAY, w.last_sync - DAY - co.created)))
        due = created + (1 + v[1] % 30) * DAY
        done = due < w.base and v[2] < _P85
        row["Id"] = w.task_id(c, m)
        self._who_what(row, c, m)
        row["Subject"] = wd.TASK_SUBJECTS[v[3] % len(wd.TASK_SUBJECTS)]
        row["ActivityDate"] = sf_date(due)
        row["Status"] = "Completed" if done else _OPEN_TASK[v[4] % 3]
        row["Priority"] = _PRIORITIES[v[5] & 3]
        row["IsHighPriority"] = row["Priority"] == "High"
        row["IsClosed"] = done
        modified = max(created, min(w.last_sync, due + DAY) if done else created)
        row["CreatedDate"] = sf_datetime(created)
        row["LastModifiedDate"] = row["SystemModstamp"] = sf_datetime(modified)
        row["TaskSubtype"] = "Call" if row["Subject"] in ("Call", "Renewal call") else "Task"
        row["CallType"] = "Outbound" if row["TaskSubtype"] == "Call" else None
        row["CompletedDateTime"] = row["LastModifiedDate"] if done else None
        return row

    def event(self, c: int, m: int) -> dict[str, Any]:
        w, co = self.world, self.world.company(c)
        v = words(w.seed, S_EVENT, c, m)
        row = dict(self._base("Event", co))
        created = co.created + scaled(v[0], max(1, min(700 * DAY, w.last_sync - DAY - co.created)))
        start = created + (2 + v[1] % 39) * DAY
        start = start - start % 1800  # meetings start on the half hour
        minutes = _DURATIONS[v[2] % 5]
        row["Id"] = w.event_id(c, m)
        self._who_what(row, c, m)
        row["Subject"] = wd.EVENT_SUBJECTS[v[3] % len(wd.EVENT_SUBJECTS)]
        row["Location"] = co.city.name if v[4] & 3 else "Teams"
        row["ActivityDateTime"] = row["StartDateTime"] = sf_datetime(start)
        row["ActivityDate"] = sf_date(start)
        row["DurationInMinutes"] = minutes
        row["EndDateTime"] = sf_datetime(start + minutes * 60)
        row["EndDate"] = sf_date(start + minutes * 60)
        row["Type"] = "Meeting"
        row["ShowAs"] = "Busy"
        row["EventSubtype"] = "Event"
        row["CreatedDate"] = sf_datetime(created)
        row["LastModifiedDate"] = row["SystemModstamp"] = sf_datetime(created + v[5] % DAY)
        return row

    def _who_what(self, row: dict[str, Any], c: int, m: int) -> None:
        w = self.world
        row["WhoId"] = w.contact_id(c, m % w.k) if w.k and m % 3 != 2 else None
        row["WhatId"] = w.opportunity_id(c, m % w.o) if w.o and m % 2 else row["AccountId"]

    # ------------------------------------------------------------------ Lead, User, Group
    def lead(self, n: int) -> dict[str, Any]:
        w = self.world
        ld = w.lead(n)
        row = dict(self.templates["Lead"])
        row["Id"] = w.lead_id(n)
        row["LastName"], row["FirstName"] = ld.last, ld.first
        row["Salutation"] = "Ms." if ld.female else "Mr."
        row["Name"] = f"{ld.first} {ld.last}"
        row["Title"], row["Company"] = ld.title, ld.company
        row["Street"], row["City"], row["State"] = ld.street, ld.city.name, ld.city.state
        row["PostalCode"], row["Country"] = ld.postal, ld.country.name
        phone = ld.phone  # web-form leads type their number the national way about a third of the time
        row["Phone"] = phone_national(phone.country, phone.nsn, phone.area_len) if n % 3 == 1 else phone.international
        row["Email"] = ld.email
        row["LeadSource"], row["Status"] = ld.source, ld.status
        row["Industry"], row["Rating"] = ld.industry, ld.rating
        row["AnnualRevenue"], row["NumberOfEmployees"] = ld.revenue, ld.employees
        row["CurrencyIsoCode"] = ld.country.currency
        owner = self.queue_ids[ld.owner_queue] if ld.owner_queue is not None else self.user_ids[ld.owner_user or 1]
        row["OwnerId"] = owner
        creator = self.user_ids[ld.owner_user or 0]
        self._audit(row, ld.created, ld.modified, creator, creator)
        if ld.converted_c is not None:
            row["IsConverted"] = True
            row["ConvertedDate"] = sf_date(ld.modified)
            row["ConvertedAccountId"] = w.account_id(ld.converted_c)
            row["ConvertedContactId"] = w.contact_id(ld.converted_c, 0) if w.k else None
        return row

    def user(self, u: int) -> dict[str, Any]:
        w = self.world
        ud = w.user(u)
        row = dict(self.templates["User"])
        code = ud.country.code
        row["Id"] = self.user_ids[u]
        row["Username"], row["Email"], row["Alias"] = ud.username, ud.email, ud.alias
        row["LastName"], row["FirstName"] = ud.last, ud.first
        row["Name"] = f"{ud.first} {ud.last}"
        row["CompanyName"], row["Department"], row["Title"] = "crmsync demo", "Sales", ud.title
        row["CommunityNickname"] = f"{ud.alias}{u}"
        row["IsActive"] = ud.active
        row["TimeZoneSidKey"] = _TIMEZONES[code]
        row["LocaleSidKey"], row["LanguageLocaleKey"] = _LOCALES[code]
        row["EmailEncodingKey"], row["UserType"] = "UTF-8", "Standard"
        row["EmployeeNumber"] = w.emp_code(u) if u else None
        row["ManagerId"] = self.user_ids[1] if u > 1 else None
        row["LastLoginDate"] = sf_datetime(w.last_sync - (u * 3571) % (30 * DAY)) if ud.active else None
        admin = self.user_ids[0]
        self._audit(row, ud.created, ud.created + DAY, admin, admin)
        return row

    def group(self, g: int) -> dict[str, Any]:
        w = self.world
        row = dict(self.templates["Group"])
        name = wd.QUEUE_NAMES[g % len(wd.QUEUE_NAMES)] + ("" if g < len(wd.QUEUE_NAMES) else f" {g}")
        row["Id"] = self.queue_ids[g]
        row["Name"] = name[:40]
        row["DeveloperName"] = "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")
        row["Type"] = "Queue"
        row["OwnerId"] = self.user_ids[0]
        created = w.start - (g + 1) * 7 * DAY
        self._audit(row, created, created, self.user_ids[0], self.user_ids[0])
        return row


def decimal_scale_amount(amount: Decimal, detail: int) -> Decimal:
    """The amount with a zero last cent digit (1234.50): the ERP keeps the scale, JSON drops it."""
    return (Decimal(int(amount)) + Decimal(detail % 9 + 1) / 10).quantize(Decimal("0.01"))


def phone_in_variant(phone: Phone, detail: int) -> str:
    return phone_variant(detail % 3, phone.country, phone.cc, phone.nsn, phone.area_len)

