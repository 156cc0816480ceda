"""The one world both sides are drawn from: companies, their people and deals, sales reps and queues.

Company ``c`` is linked (in the CRM and the ERP), CRM-only (a prospect) or ERP-only, decided by its
rank under a seeded shuffle, so the shares are exact and spread over the whole index range. Every
attribute of a company, person or deal is a pure function of (seed, index): the Salesforce rows and
the ERP rows are views of these objects, built independently and in any order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

from connectors.salesforce.objects import INDUSTRIES, LEAD_STATUSES, OPPORTUNITY_STAGES, id_for
from connectors.testdata import world_data as wd
from connectors.testdata.config import GeneratorConfig
from connectors.testdata.formats import (
    DAY,
    ascii_slug,
    epoch,
    phone_international,
    postal_code,
    street_line,
    vat_number,
)
from connectors.testdata.links import INDUSTRY_TO_SECTOR, ORDER_STATUS_TO_STAGE
from connectors.testdata.rng import Rng, Shuffle, splitmix, words

LINKED, CRM_ONLY, ERP_ONLY = "linked", "crm_only", "erp_only"
S_COMPANY, S_PERSON, S_DEAL, S_TASK, S_EVENT, S_LEAD, S_USER, S_MISC, S_PROFILE = range(1, 10)
_COUNTRY_TOTAL = sum(w for _, w in wd.COUNTRY_WEIGHTS)
_ORDER_STATUS = (("OPEN", 10), ("CONF", 15), ("SHIP", 20), ("INVC", 50), ("CANC", 5))
_OPEN_STAGES = tuple(s for s, (_, closed, _, _) in OPPORTUNITY_STAGES.items() if not closed)
_CORES = len(wd.BRAND_HEADS) * len(wd.BRAND_TAILS) * 8
_COUNTRY_SLOTS = tuple(c for c, weight in wd.COUNTRY_WEIGHTS for _ in range(weight))
_ORDER_STATUS_SLOTS = tuple(s for s, weight in _ORDER_STATUS for _ in range(weight))
_AMOUNTS = tuple(math.exp(9.6 + NormalDist().inv_cdf((i + 0.5) / 1024)) for i in range(1024))  # log-normal
_EMPLOYEES = tuple(math.exp(3.6 + 1.3 * NormalDist().inv_cdf((i + 0.5) / 1024)) for i in range(1024))
_P10, _P40, _P60, _P70 = (int(p * 2**32) for p in (0.1, 0.4, 0.6, 0.7))
_ACCOUNT_TYPES = ("Customer - Direct",) * 4 + ("Customer - Channel",)
COMPANY_CACHE = 16_384
"""Companies kept between the passes over objects (Account, Contact, ... each walk every company): a
demo-sized world (10,000 accounts) is built once per process instead of once per object, in at most
about 11 MB. A larger world clears the cache when it fills, so memory stays flat whatever the size."""
_RATINGS = ("Hot", "Warm", "Cold", None)
_STATUS_SLOTS = ("A",) * 90 + ("I",) * 8 + ("B",) * 2
_LOYALTY = ("Gold", "Silver", "Bronze", None)
_CHANNELS = ("Email", "Phone", "Letter", None)


@dataclass(slots=True)
class Phone:
    country: str
    cc: str
    nsn: str  # national significant number
    area_len: int

    @property
    def international(self) -> str:
        return phone_international(self.country, self.cc, self.nsn, self.area_len)


@dataclass(slots=True)
class Company:
    """What every record of a company needs (kept small: contacts and activities build it too)."""

    c: int
    kind: str
    rank: int  # rank under the population shuffle (decides linked / CRM-only / ERP-only and variants)
    country: wd.Country
    city: wd.City
    brand: str
    name: str
    domain: str
    legal: str
    street: str
    postal: str
    owner: int  # user index
    created: int
    modified: int
    erp_changed: int


@dataclass(slots=True)
class Profile:
    """What only the account / customer row of a company needs."""

    phone: Phone
    website: str | None
    email: str
    vat: str | None
    employees: int
    revenue: int
    industry: str
    rating: str | None
    account_type: str
    credit_limit: Decimal
    status: str
    loyalty: str | None


@dataclass(slots=True)
class Person:
    c: int
    m: int
    female: bool
    first: str
    last: str
    email: str
    phone: Phone
    mobile: Phone | None
    title: str
    department: str
    created: int
    modified: int
    erp_changed: int
    channel: str | None


@dataclass(slots=True)
class Deal:
    c: int
    m: int
    order_linked: bool  # won deal of an ERP customer: also an ERP order
    status: str | None  # ERP order status
    stage: str
    amount: Decimal
    close_ts: int
    product: str
    created: int
    modified: int
    erp_changed: int


@dataclass(slots=True)
class LeadData:
    n: int
    female: bool
    first: str
    last: str
    company: str
    country: wd.Country
    city: wd.City
    street: str
    postal: str
    email: str
    phone: Phone
    title: str
    status: str
    source: str
    industry: str
    rating: str | None
    employees: int
    revenue: int
    owner_user: int | None
    owner_queue: int | None
    converted_c: int | None
    created: int
    modified: int


@dataclass(slots=True)
class UserData:
    u: int
    first: str
    last: str
    username: str
    email: str
    alias: str
    title: str
    country: wd.Country
    active: bool
    created: int


def scaled(word: int, span: int) -> int:
    """A 32-bit random word scaled to [0, span)."""
    return (word * span) >> 32


def landline(word: int, country: wd.Country, city: wd.City) -> Phone:
    """A fixed-line number of ``city`` that libphonenumber accepts (the city lists the valid lead digits)."""
    firsts = city.leads
    scale = 10 ** (city.subscriber_digits - 1)
    digits = city.area + firsts[word % len(firsts)] + str(scale + (word >> 3) % scale)[1:]
    return Phone(country.code, country.calling_code, digits, len(city.area))


def mobile(word: int, country: wd.Country, city: wd.City) -> Phone:
    if country.code == "US":
        return landline(word, country, city)
    prefix = country.mobile_prefixes[word % len(country.mobile_prefixes)]
    scale = 10**country.mobile_digits
    area_len = 1 if country.code == "NL" else len(prefix)  # written +31 6 12345678
    return Phone(country.code, country.calling_code, prefix + str(scale + (word >> 5) % scale)[1:], area_len)


def domain_of(name: str, legal: str, tld: str) -> str:
    """``Nova tech Soluciones Iberia S.L.`` -> ``novatech-soluciones-iberia.es`` (slugs cached per word)."""
    return "-".join(ascii_slug(word) for word in name[: -len(legal)].split()) + "." + tld


class World:
    """Derives every entity from the config; holds no per-record state except a bounded company cache."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = cfg = config
        self.seed = cfg.seed
        self.C = cfg.companies
        self.k, self.o, self.w = cfg.contacts_per_account, cfg.opportunities_per_account, cfg.orders_per_customer
        self.t, self.e = cfg.tasks_per_account, cfg.events_per_account
        self.kinds = Shuffle(self.C, cfg.seed, 1)
        self.names = Shuffle(self.C + cfg.leads_count, cfg.seed, 2)
        self.leads_order = Shuffle(cfg.leads_count, cfg.seed, 3)
        self.base = epoch(cfg.base_time)
        self.last_sync = self.base - int(cfg.last_sync_age.total_seconds())
        self.start = self.base - int(cfg.history.total_seconds())
        self.block_stamp = self.base - 1800
        self.inactive_users = max(1, (cfg.users - 1) // 10) if cfg.users >= 3 else 0
        self.active_reps = tuple(range(1, cfg.users - self.inactive_users))
        self.inactive_reps = tuple(range(cfg.users - self.inactive_users, cfg.users))
        self._cache: dict[int, Company] = {}

    # ------------------------------------------------------------------ populations and keys
    def kind(self, c: int) -> str:
        rank = self.kinds(c)
        cfg = self.config
        return LINKED if rank < cfg.linked else CRM_ONLY if rank < cfg.accounts else ERP_ONLY

    def in_crm(self, c: int) -> bool:
        return self.kinds(c) < self.config.accounts

    def in_erp(self, c: int) -> bool:
        rank = self.kinds(c)
        return rank < self.config.linked or rank >= self.config.accounts

    def company_at(self, kind: str, rank: int) -> int:
        """The company holding ``rank`` within its population (rank 0 is the first of that kind)."""
        offset = {LINKED: 0, CRM_ONLY: self.config.linked, ERP_ONLY: self.config.accounts}[kind]
        return self.kinds.inverse(offset + rank)

    def account_id(self, c: int) -> str:
        return id_for("001", c + 1)

    def contact_id(self, c: int, m: int) -> str:
        return id_for("003", c * self.k + m + 1)

    def opportunity_id(self, c: int, m: int) -> str:
        return id_for("006", c * self.o + m + 1)

    def task_id(self, c: int, m: int) -> str:
        return id_for("00T", c * self.t + m + 1)

    def event_id(self, c: int, m: int) -> str:
        return id_for("00U", c * self.e + m + 1)

    def lead_id(self, n: int) -> str:
        return id_for("00Q", n + 1)

    def user_id(self, u: int) -> str:
        return id_for("005", u + 1)

    def queue_id(self, g: int) -> str:
        return id_for("00G", g + 1)

    def cust_no(self, c: int) -> str:
        return str(100001 + c)

    def contact_no(self, c: int, m: int) -> int:
        return c * self.k + m + 1

    def order_no(self, c: int, m: int) -> str:
        return f"SO{c * self.w + m + 1:08d}"

    def emp_code(self, u: int) -> str:
        return f"E{u:04d}"

    # ------------------------------------------------------------------ time
    def _history_ts(self, r: Rng) -> int:
        """A creation time: 30 days to the whole history before base_time."""
        return self.start + r.below(self.base - 30 * DAY - self.start)

    def _modified(self, r: Rng, created: int) -> int:
        return created + r.below(max(1, self.last_sync - created))

    def after_sync(self, salt: int) -> int:
        """A time between the last sync and one hour before base_time (for stale and conflict)."""
        span = max(1, self.base - 3600 - self.last_sync - 60)
        return self.last_sync + 60 + splitmix(self.seed ^ salt) % span

    # ------------------------------------------------------------------ entities
    def company(self, c: int) -> Company:
        hit = self._cache.get(c)
        if hit is not None:
            return hit
        if len(self._cache) >= COMPANY_CACHE:
            self._cache.clear()
        company = self._company(c)
        self._cache[c] = company
        return company

    def company_name(self, n: int, country: wd.Country, legal: str) -> tuple[str, str]:
        """(brand, full legal name) of name slot ``n``; unique across slots by construction."""
        heads, tails = wd.BRAND_HEADS, wd.BRAND_TAILS
        brand = heads[n % len(heads)] + tails[(n // len(heads)) % len(tails)]
        descriptor = country.descriptors[(n // (len(heads) * len(tails))) % 8]
        rnd = n // _CORES
        qualifier = ""
        if rnd:
            qualifier = " " + wd.QUALIFIERS[(rnd - 1) % len(wd.QUALIFIERS)]
            if rnd > len(wd.QUALIFIERS):
                qualifier += f" {(rnd - 1) // len(wd.QUALIFIERS) + 1}"
        return brand, f"{brand} {descriptor}{qualifier} {legal}"

    def _company(self, c: int) -> Company:
        v = words(self.seed, S_COMPANY, c)
        rank = self.kinds(c)
        cfg = self.config
        kind = LINKED if rank < cfg.linked else CRM_ONLY if rank < cfg.accounts else ERP_ONLY
        country = _COUNTRY_SLOTS[v[0] % len(_COUNTRY_SLOTS)]
        city = country.cities[v[1] % len(country.cities)]
        legal = country.legal_forms[v[2] % len(country.legal_forms)]
        brand, name = self.company_name(self.names(c), country, legal)
        created = self.start + scaled(v[3], self.base - 30 * DAY - self.start)
        modified = created + scaled(v[4], max(1, self.last_sync - created))
        return Company(
            c, kind, rank, country, city, brand, name, domain_of(name, legal, country.tld), legal,
            street_line(country.code, country.streets[v[5] % len(country.streets)], 1 + v[6] % 180),
            postal_code(city, country.code, v[7]), self.active_reps[v[8] % len(self.active_reps)],
            created, modified, max(created, modified - 5 - v[9] % 896),
        )

    def profile(self, co: Company) -> Profile:
        v = words(self.seed, S_PROFILE, co.c)
        employees = max(2, min(50_000, int(_EMPLOYEES[v[0] & 1023])))
        domain = co.domain
        website = None if v[1] < _P10 else ("https://www." if v[2] < _P40 else "www.") + domain
        account_type = "Prospect" if co.kind == CRM_ONLY else _ACCOUNT_TYPES[v[3] % 5]
        return Profile(
            landline(v[4], co.country, co.city), website, co.country.info_mailbox + "@" + domain,
            vat_number(co.country, splitmix(co.c ^ self.seed), co.legal), employees,
            employees * (60 + v[5] % 191) * 1000, INDUSTRIES[v[6] % len(INDUSTRIES)], _RATINGS[v[7] & 3],
            account_type, Decimal((1 + v[8] % 100) * 50000).scaleb(-2), _STATUS_SLOTS[v[9] % 100], _LOYALTY[v[10] & 3],
        )

    def landline(self, r: Rng, country: wd.Country, city: wd.City) -> Phone:
        return landline(r.bits(32), country, city)

    def mobile(self, r: Rng, country: wd.Country, city: wd.City) -> Phone:
        return mobile(r.bits(32), country, city)

    def person(self, c: int, m: int) -> Person:
        company = self.company(c)
        v = words(self.seed, S_PERSON, c, m)
        country, city = company.country, company.city
        female = bool(v[0] & 1)
        names = country.female if female else country.male
        # Distinct first names within a company keep generated e-mail addresses unique.
        first = names[(company.rank + m * 5) % len(names)]
        surnames = country.surnames
        last = surname = surnames[v[1] % len(surnames)]
        if country.code == "ES":  # two surnames; the e-mail uses the first
            last = surname + " " + surnames[v[2] % len(surnames)]
        title, department = wd.TITLES[v[3] % len(wd.TITLES)]
        created = company.created + scaled(v[4], max(1, min(400 * DAY, self.last_sync - DAY - company.created)))
        modified = created + scaled(v[5], max(1, self.last_sync - created))
        return Person(
            c, m, female, first, last, ascii_slug(first) + "." + ascii_slug(surname) + "@" + company.domain,
            landline(v[6], country, city), mobile(v[7], country, city) if v[8] < _P60 else None,
            title, department, created, modified, max(created, modified - 5 - v[9] % 896), _CHANNELS[v[10] & 3],
        )

    def deal(self, c: int, m: int) -> Deal:
        v = words(self.seed, S_DEAL, c, m)
        company = self.company(c)
        order_linked = company.kind != CRM_ONLY and m < self.w
        created = company.created + scaled(v[0], max(1, min(600 * DAY, self.last_sync - DAY - company.created)))
        amount = Decimal(int(_AMOUNTS[v[1] & 1023] * 100) + v[2] % 100).scaleb(-2)
        past_close = created + scaled(v[3], max(DAY, self.last_sync - created - DAY))
        status: str | None = None
        if order_linked:
            status = _ORDER_STATUS_SLOTS[v[4] % 100]
            stage, close = ORDER_STATUS_TO_STAGE[status], past_close
        elif v[4] < _P70:
            stage, close = _OPEN_STAGES[v[5] % len(_OPEN_STAGES)], self.base + (5 + v[6] % 266) * DAY
        else:
            stage, close = "Closed Lost", past_close
        modified = max(created, min(created + scaled(v[7], max(1, self.last_sync - created)), close))
        return Deal(c, m, order_linked, status, stage, amount, close - close % DAY,
                    wd.PRODUCTS[v[8] % len(wd.PRODUCTS)], created, modified, max(created, modified - 5 - v[9] % 896))

    def lead(self, n: int) -> LeadData:
        r = Rng(self.seed, S_LEAD, n)
        country = r.weighted(wd.COUNTRY_WEIGHTS, _COUNTRY_TOTAL)
        city = r.pick(country.cities)
        legal = r.pick(country.legal_forms)
        _, company = self.company_name(self.names(self.C + n), country, legal)
        domain = domain_of(company, legal, country.tld)
        female = r.chance(0.5)
        first = r.pick(country.female if female else country.male)
        last = r.pick(country.surnames)
        status = r.weighted(tuple(zip(LEAD_STATUSES, (45, 30, 10, 15), strict=True)), 100)
        queue = None
        if status == LEAD_STATUSES[0] and self.config.queues and r.chance(0.3):
            queue = r.below(self.config.queues)
        created = self._history_ts(r)
        employees = max(2, r.lognormal(3.2, 1.2))
        converted = None
        if status == "Closed - Converted" and self.config.crm_only:
            converted = self.company_at(CRM_ONLY, r.below(self.config.crm_only))
        return LeadData(
            n=n, female=female, first=first, last=last, company=company, country=country, city=city,
            street=street_line(country.code, r.pick(country.streets), r.between(1, 120)),
            postal=postal_code(city, country.code, r.bits(32)),
            email=f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}", phone=self.landline(r, country, city),
            title=r.pick(wd.TITLES)[0], status=status, source=r.pick(("Web", "Phone Inquiry", "Partner Referral",
                                                                       "Purchased List", "Other")),
            industry=r.pick(INDUSTRIES), rating=r.pick(("Hot", "Warm", "Cold", None)), employees=employees,
            revenue=employees * r.between(50, 200) * 1000,
            owner_user=None if queue is not None else r.pick(self.active_reps), owner_queue=queue,
            converted_c=converted, created=created, modified=self._modified(r, created),
        )

    def user(self, u: int) -> UserData:
        r = Rng(self.seed, S_USER, u)
        if u == 0:
            first, last, country = "Integration", "User", wd.ES
        else:
            country = r.weighted(wd.COUNTRY_WEIGHTS, _COUNTRY_TOTAL)
            first = r.pick(country.female if r.chance(0.5) else country.male)
            last = r.pick(country.surnames)
        handle = f"{ascii_slug(first)}.{ascii_slug(last)}" if u else "integration"
        return UserData(
            u=u, first=first, last=last, username=f"{handle}.{u}@crmsync-demo.example.com",
            email=f"{handle}@crmsync-demo.example.com", alias=(ascii_slug(first)[:1] + ascii_slug(last)[:4])[:8],
            title="API integration" if u == 0 else r.pick(wd.USER_TITLES), country=country,
            active=u not in self.inactive_reps, created=self.start - r.between(30, 400) * DAY,
        )

    def sector(self, industry: str) -> str:
        return INDUSTRY_TO_SECTOR.get(industry, "SERVICES")
