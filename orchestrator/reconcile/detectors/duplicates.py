"""duplicate: two or more records of one system that describe the same company or person.

Never all pairs: each record gets a few blocking keys (exact email, phone, domain, VAT number, and
a name block), records are hash-partitioned by blocking key (spilling to disk past a bound), and only
records sharing a block are compared. Oversized blocks (a common first word) are compared by a
sorted-neighbourhood window instead of all pairs. A pair is a duplicate when the evidence agrees:
rapidfuzz name similarity plus a corroborating exact value, or an exact strong identifier.
Pairs are joined into groups (union-find) so three copies make one finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.finding import Finding, RecordRef, jsonable
from orchestrator.reconcile.keys import domain_key, email_key, ext_key, name_key
from orchestrator.reconcile.normalise import NormaliseConfig, country, id_key, phone
from orchestrator.reconcile.records import CRecord
from orchestrator.reconcile.spill import DEFAULT_BUCKETS, DEFAULT_MAX_IN_MEMORY, BucketStore, Budget

FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "icloud.com",
    "gmx.de", "gmx.net", "web.de", "t-online.de", "orange.fr", "free.fr", "libero.it", "hotmail.es",
    "yahoo.es", "aol.com", "proton.me", "protonmail.com", "mail.com", "msn.com", "example.com",
})
_PHONE_CFG = NormaliseConfig()
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class DuplicateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_threshold: float = 90.0  # rapidfuzz token_sort_ratio, 0-100, with corroboration
    exact_name_threshold: float = 97.0  # alone enough when nothing contradicts it
    max_block: int = 200  # larger blocks fall back to a sorted-neighbourhood window
    window: int = 8
    entities: list[str] = ["Account", "Contact", "Lead"]  # where look-alike records mean the same thing


class Profile(NamedTuple):
    """The few normalised values duplicate detection needs (small, so a million pickle fast)."""

    key: str
    canonical_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    domain: str | None
    vat: str | None
    city: str | None
    country: str | None
    parent: str | None
    person: bool


def _phone(value: Any) -> str | None:
    """Canonical phones are E.164 already; only a value that is not gets parsed (parsing is the slow part)."""
    if isinstance(value, str) and _E164.match(value):
        return value
    return phone(value, _PHONE_CFG)


@lru_cache(maxsize=8192)
def _place_key(value: str) -> str | None:
    """``name_key`` of a city: few distinct values over millions of records, so remembered."""
    return name_key(value)


def profile(record: CRecord) -> Profile:
    get = record.values.get
    person = record.entity in ("Contact", "Lead", "User")
    if person:
        name = name_key(" ".join(str(v) for v in (get("first_name"), get("last_name")) if v))
    else:
        name = name_key(get("name") or get("company"))
    email = email_key(get("email"))
    raw_domain = get("domain") or get("website") or (email if record.entity == "Account" else None)
    domain = domain_key(raw_domain)
    city = get("billing_address.city") or get("mailing_address.city")
    land = get("billing_address.country") or get("mailing_address.country") or get("country")
    return Profile(
        key=record.key, canonical_id=record.canonical_id, name=name, email=email,
        phone=_phone(get("phone") or get("mobile_phone")),
        domain=None if domain in FREE_MAIL else domain, vat=ext_key(get("vat_number")),
        city=_place_key(city) if isinstance(city, str) else name_key(city), country=country(land, _PHONE_CFG),
        parent=id_key(get("account_id")), person=person,
    )


def block_keys(p: Profile) -> list[str]:
    keys = [f"e:{p.email}"] if p.email else []
    keys += [f"p:{p.phone}"] if p.phone and len(p.phone) > 6 else []
    keys += [f"d:{p.domain}"] if p.domain else []
    keys += [f"v:{p.vat}"] if p.vat else []
    if p.name:
        words = sorted(p.name.split(), key=len, reverse=True)
        keys.append(f"n:{words[0][:6]}")
    return keys


def _differ(x: str | None, y: str | None) -> bool:
    return x is not None and y is not None and x != y


def verdict(a: Profile, b: Profile, cfg: DuplicateConfig) -> float | None:
    """The similarity score when ``a`` and ``b`` are the same thing, else None.

    A VAT number is enough on its own. Otherwise names must be close and something else must agree
    (email, phone, web domain, or the parent account); two companies with the same name and nothing
    that contradicts it are the same, two people with the same name never are on the name alone.
    The exact checks come first: the name similarity (the costly part) is computed only when they leave
    the pair open, and only to the bar it must clear.
    """
    # Equalities spelled out rather than through a helper call each: this runs for millions of candidate pairs.
    if a.country is not None and b.country is not None and a.country != b.country:
        return None
    if a.vat is not None and a.vat == b.vat:
        return 100.0
    agreed = ((a.email is not None and a.email == b.email) or (a.phone is not None and a.phone == b.phone)
              or (a.domain is not None and a.domain == b.domain) or (a.parent is not None and a.parent == b.parent))
    if not agreed and (a.person or _differ(a.email, b.email) or _differ(a.domain, b.domain)
                       or _differ(a.city, b.city) or _differ(a.phone, b.phone) or _differ(a.vat, b.vat)):
        return None
    bar = cfg.name_threshold if agreed else max(cfg.name_threshold, cfg.exact_name_threshold)
    score = fuzz.token_sort_ratio(a.name, b.name, score_cutoff=bar) if a.name and b.name else 0.0
    return score if score >= bar else None


@dataclass
class DuplicateDetector:
    """Collect one side's profiles with :meth:`add`, then :meth:`findings` yields one finding per group."""

    system: str
    entity: str
    config: DuplicateConfig
    buckets: int = DEFAULT_BUCKETS
    max_in_memory: int = DEFAULT_MAX_IN_MEMORY
    workdir: Path | None = None
    budget: Budget | None = None

    def __post_init__(self) -> None:
        self._store = BucketStore(self.buckets, self.max_in_memory, self.workdir, self.budget)

    def add(self, record: CRecord) -> None:
        if record.deleted:
            return
        p = profile(record)
        row = tuple(p)  # a plain tuple pickles natively; a NamedTuple calls back into Python per item
        self._store.extend([(key, (key, row)) for key in block_keys(p)])

    def findings(self) -> Iterator[Finding]:
        try:
            groups = _UnionFind()
            scores: dict[tuple[str, str], float] = {}
            refs: dict[str, Profile] = {}
            for items in self._store:
                for a, b, score in self._pairs(items):
                    groups.union(a.key, b.key)
                    scores[min(a.key, b.key), max(a.key, b.key)] = score
                    refs[a.key], refs[b.key] = a, b
            best: dict[str, float] = {}
            for (first, _), score in scores.items():
                root = groups.find(first)
                best[root] = max(best.get(root, 0.0), score)
            for members in groups.groups():
                yield self._finding(sorted(members), refs, best[groups.find(next(iter(members)))])
        finally:
            self._store.close()

    def _pairs(self, items: list[tuple[str, tuple[Any, ...]]]) -> Iterator[tuple[Profile, Profile, float]]:
        blocks: dict[str, list[tuple[Any, ...]]] = {}
        for key, row in items:
            blocks.setdefault(key, []).append(row)
        for rows in blocks.values():
            if len(rows) < 2:
                continue
            block = [Profile._make(row) for row in rows]
            for a, b in self._candidates(block):
                score = verdict(a, b, self.config)
                if score is not None:
                    yield a, b, score

    def _candidates(self, block: list[Profile]) -> Iterable[tuple[Profile, Profile]]:
        if len(block) <= self.config.max_block:
            return combinations(block, 2)
        ordered = sorted(block, key=lambda p: (p.name or "", p.key))
        return ((ordered[i], ordered[j]) for i in range(len(ordered))
                for j in range(i + 1, min(i + 1 + self.config.window, len(ordered))))

    def _finding(self, members: Sequence[str], profiles: dict[str, Profile], best: float) -> Finding:
        return Finding(
            code=FindingCode.DUPLICATE, entity=self.entity,
            records=tuple(RecordRef(self.system, k, profiles[k].canonical_id) for k in members),
            message=f"{len(members)} records in {self.system} look like the same {self.entity.lower()}",
            detail={"score": jsonable(round(best, 1)), "system": self.system},
        )


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[set[str]]:
        out: dict[str, set[str]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), set()).add(x)
        return sorted((g for g in out.values() if len(g) > 1), key=min)
