"""Normalisers: the explicit rules that make formatting-only differences compare equal.

Each rule is a named function from a value to its comparable form. A field gets the rule of its
kind (see fieldkinds) unless the job's config names another one for it, so "+34 912 34 56 78" and
"0034912345678" are one phone, "Germany" and "de" one country, NULL and "" one absence, 1234.5 and
1234.50 one amount, 15- and 18-character Salesforce ids one record, and 10:00+02:00 and 08:00Z one
instant. Anything these rules do not equate is a real difference.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import Enum
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser
from pydantic import BaseModel, ConfigDict, Field

from connectors.salesforce.objects import to_18
from mappings import validation
from orchestrator.reconcile.fieldkinds import Kind

Normaliser = Callable[[Any], Any]
RuleName = Literal["exact", "text", "text_cs", "text_ci", "email", "phone", "country", "currency", "decimal", "integer",
                   "boolean", "datetime", "date", "sfid", "enum", "ignore"]

_SPACES = re.compile(r"\s+")
_SFID = re.compile(r"^[0-9A-Za-z]{15}(?:[A-Za-z0-5]{3})?$")
_TRUE = frozenset({"true", "t", "yes", "y", "1", "on", "x"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off", ""})
_PRECISION = {"second": 0, "millisecond": 3, "microsecond": 6}


class NormaliseConfig(BaseModel):
    """How a job decides that two values are the same. The defaults equate formatting only."""

    model_config = ConfigDict(extra="forbid")

    null_equals_empty: bool = True  # NULL, "" and whitespace-only are one absence (reference #11)
    ignore_case: bool = True  # letter case of free text does not count
    collapse_whitespace: bool = True
    phone_region: str | None = None  # region for phones written without a country code
    naive_timezone: str = "UTC"  # zone of timestamps that carry no offset
    datetime_precision: Literal["second", "millisecond", "microsecond"] = "second"
    decimal_scale: dict[str, int] = Field(default_factory=dict)  # field -> declared scale (reference #10)
    fields: dict[str, RuleName] = Field(default_factory=dict)  # field -> rule, overriding the kind's rule
    country_aliases: dict[str, str] = Field(default_factory=dict)  # lower-cased name -> ISO code, added to ours
    equivalents: dict[str, dict[str, str]] = Field(default_factory=dict)
    """field -> value -> the value it counts as: two vocabularies for one thing (a CRM industry and the
    ERP's coarser sector label) compared in the coarser one. Matched case-insensitively."""


def _absent(value: Any, cfg: NormaliseConfig) -> bool:
    if value is None:
        return True
    return cfg.null_equals_empty and isinstance(value, str) and not value.strip()


def text(value: Any, cfg: NormaliseConfig, fold: bool | None = None) -> str | None:
    """Unicode NFC, trimmed, inner whitespace collapsed, case folded when the config says so."""
    if _absent(value, cfg):
        return None
    out = unicodedata.normalize("NFC", value.value if isinstance(value, Enum) else str(value)).strip()
    if cfg.collapse_whitespace:
        out = _SPACES.sub(" ", out)
    return out.casefold() if (cfg.ignore_case if fold is None else fold) else out


def email(value: Any, cfg: NormaliseConfig) -> str | None:
    """Addresses compare case-insensitively as a whole (no provider treats local parts by case)."""
    out = text(value, cfg, fold=True)
    if out is None:
        return None
    checked = validation.normalise_email(out)
    return checked.casefold() if checked else out


def phone(value: Any, cfg: NormaliseConfig) -> str | None:
    """E.164 when the number parses; otherwise its digits (so an unparseable value still compares)."""
    if _absent(value, cfg):
        return None
    raw = str(value).strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    parsed = validation.normalise_phone(raw, cfg.phone_region)
    return parsed or ("+" if raw.startswith("+") else "") + re.sub(r"\D", "", raw)


COUNTRY_ALIASES: dict[str, str] = {
    "españa": "ES", "espana": "ES", "espanya": "ES", "deutschland": "DE", "allemagne": "DE", "italia": "IT",
    "italie": "IT", "nederland": "NL", "holland": "NL", "pays-bas": "NL", "österreich": "AT", "osterreich": "AT",
    "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "belgië": "BE", "belgie": "BE", "belgique": "BE",
    "polska": "PL", "sverige": "SE", "danmark": "DK", "norge": "NO", "suomi": "FI", "éire": "IE", "eire": "IE",
    "ελλάδα": "GR", "hellas": "GR", "česko": "CZ", "cesko": "CZ", "magyarország": "HU", "россия": "RU",
    "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "uk": "GB", "u.k.": "GB",
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "america": "US", "estados unidos": "US", "royaume-uni": "GB",
    "reino unido": "GB", "vereinigtes königreich": "GB", "frankreich": "FR", "francia": "FR", "spanien": "ES",
    "espagne": "ES", "spagna": "ES", "alemania": "DE", "germania": "DE", "italien": "IT",
}
"""Country names in their own languages (and common short forms) that ISO 3166's English names miss."""


def country(value: Any, cfg: NormaliseConfig) -> str | None:
    """ISO 3166 alpha-2 for a code or a name ("Spain", "ESP", "es", "España" -> "ES")."""
    if _absent(value, cfg):
        return None
    raw = str(value).strip()
    alias = cfg.country_aliases.get(raw.casefold()) or COUNTRY_ALIASES.get(raw.casefold())
    return alias or validation.country_code(raw) or text(value, cfg, fold=True)


def currency(value: Any, cfg: NormaliseConfig) -> str | None:
    return None if _absent(value, cfg) else str(value).strip().upper()


def decimal(value: Any, cfg: NormaliseConfig, scale: int | None = None) -> Decimal | str | None:
    """Exact decimal; rounded to the declared scale when one is configured (1234.5 == 1234.50)."""
    if _absent(value, cfg):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return text(value, cfg)
    if scale is not None:
        number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)
    return number.normalize() if number else Decimal(0)


def integer(value: Any, cfg: NormaliseConfig) -> int | str | None:
    number = decimal(value, cfg)
    if isinstance(number, Decimal) and number == number.to_integral_value():
        return int(number)
    return None if number is None else str(number)


def boolean(value: Any, cfg: NormaliseConfig) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return None if cfg.null_equals_empty and word == "" else False
    return word


def timestamp(value: Any, cfg: NormaliseConfig) -> datetime | str | None:
    """The same instant in UTC, at the configured precision; naive values are in ``naive_timezone``."""
    if _absent(value, cfg):
        return None
    moment = value
    if not isinstance(moment, datetime):
        if isinstance(moment, date):
            moment = datetime(moment.year, moment.month, moment.day)
        else:
            try:
                moment = dateparser.isoparse(str(value).strip())
            except ValueError:
                return text(value, cfg)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(cfg.naive_timezone))
    moment = moment.astimezone(UTC)
    digits = _PRECISION[cfg.datetime_precision]
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 10 ** (6 - digits))


def day(value: Any, cfg: NormaliseConfig) -> date | str | None:
    """Date-only values compare as dates, never as midnights in some zone (reference #4)."""
    if _absent(value, cfg):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return dateparser.isoparse(str(value).strip()).date()
    except ValueError:
        return text(value, cfg)


def sfid(value: Any, cfg: NormaliseConfig) -> str | None:
    """Salesforce ids in their case-safe 18-character form; other identifiers unchanged (case kept)."""
    # An 18-character id lower-cased by a case-insensitive system gets its case back from the suffix.
    return None if _absent(value, cfg) else id_key(value)


def id_key(value: Any) -> str | None:
    """An identifier as a lookup key: Salesforce ids in 18-character form, others trimmed."""
    if value is None:
        return None
    raw = str(value).strip()
    if not raw:
        return None
    return to_18(raw) if _SFID.match(raw) else raw


def exact(value: Any, cfg: NormaliseConfig) -> Any:
    return None if _absent(value, cfg) else value


def enum(value: Any, cfg: NormaliseConfig) -> str | None:
    return text(value.value if isinstance(value, Enum) else value, cfg, fold=True)


def _equivalent(table: Mapping[str, str], rule: Normaliser, value: Any) -> Any:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str):
        value = table.get(value.strip().casefold(), value)
    return rule(value)


RULES: dict[str, Callable[..., Any]] = {
    "exact": exact, "text": text, "text_cs": partial(text, fold=False), "text_ci": partial(text, fold=True),
    "email": email, "phone": phone, "country": country, "currency": currency, "decimal": decimal, "integer": integer,
    "boolean": boolean, "datetime": timestamp, "date": day, "sfid": sfid, "enum": enum,
    "ignore": lambda value, cfg: None,
}
"""Every rule by name, for config (``normalise.fields: {phone: exact}``) and for tests."""

_BY_KIND: dict[Kind, str] = {
    "email": "email", "phone": "phone", "country": "country", "currency": "currency", "decimal": "decimal",
    "integer": "integer", "boolean": "boolean", "datetime": "datetime", "date": "date", "enum": "enum",
    "reference": "sfid", "id": "sfid",
}


class Normalisers:
    """The rule for each field of one entity, resolved once from its kinds and the job's config."""

    def __init__(self, kinds: Mapping[str, Kind], config: NormaliseConfig | None = None) -> None:
        self.config = config or NormaliseConfig()
        self.rules: dict[str, Normaliser] = {}
        for path, kind in kinds.items():
            self.rules[path] = self._rule(path, kind)

    def _rule(self, path: str, kind: Kind) -> Normaliser:
        name: str = self.config.fields.get(path) or _BY_KIND.get(kind, "text")
        function = RULES[name]
        if name == "decimal" and path in self.config.decimal_scale:
            rule: Normaliser = partial(function, cfg=self.config, scale=self.config.decimal_scale[path])
        else:
            rule = partial(function, cfg=self.config)
        table = self.config.equivalents.get(path)
        if table:
            return partial(_equivalent, {k.strip().casefold(): v for k, v in table.items()}, rule)
        return rule

    def __call__(self, path: str, value: Any) -> Any:
        rule = self.rules.get(path)
        return rule(value) if rule else text(value, self.config)

    def ignored(self, path: str) -> bool:
        return self.config.fields.get(path) == "ignore"

    def record(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Every known field of a flat canonical record, normalised."""
        return {path: self(path, values.get(path)) for path in self.rules if not self.ignored(path)}
