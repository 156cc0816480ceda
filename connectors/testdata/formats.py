"""How values are written: phone numbers per national plan, Salesforce datetime strings, ERP local
times, VAT numbers with their real check digits, postal codes, e-mail local parts.

Everything here is a pure function of its arguments and fast (the generator calls these millions
of times), which is why datetimes are formatted by hand from epoch seconds.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from connectors.testdata.world_data import City, Country

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = 86_400


# --------------------------------------------------------------------------------------------------- time


@lru_cache(maxsize=4096)
def _day_string(day: int) -> str:
    return (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")


_TWO = tuple(f"{i:02d}" for i in range(60))


def sf_datetime(ts: int, offset_minutes: int = 0) -> str:
    """A Salesforce REST datetime: ``2024-05-01T10:00:00.000+0000`` (another offset for tz variants)."""
    if offset_minutes == 0:
        day, rest = divmod(ts, DAY)
        hh, rest = divmod(rest, 3600)
        mm, ss = divmod(rest, 60)
        return _day_string(day) + "T" + _TWO[hh] + ":" + _TWO[mm] + ":" + _TWO[ss] + ".000+0000"
    local = ts + offset_minutes * 60
    day, rest = divmod(local, DAY)
    hh, rest = divmod(rest, 3600)
    mm, ss = divmod(rest, 60)
    sign = "-" if offset_minutes < 0 else "+"
    oh, om = divmod(abs(offset_minutes), 60)
    return f"{_day_string(day)}T{hh:02d}:{mm:02d}:{ss:02d}.000{sign}{oh:02d}{om:02d}"


def sf_date(ts: int) -> str:
    return _day_string(ts // DAY)


def to_date(ts: int) -> date:
    return date.fromordinal(719_163 + ts // DAY)  # 719163 = date(1970, 1, 1).toordinal()


def date_ts(d: date) -> int:
    return (d.toordinal() - 719_163) * DAY


def parse_sf_datetime(value: str) -> datetime:
    """The aware datetime of a Salesforce datetime string (any offset)."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


_NAIVE_EPOCH = datetime(1970, 1, 1)


@lru_cache(maxsize=65536)
def _offset_seconds(hour: int, zone: str) -> int:
    offset = datetime.fromtimestamp(hour * 3600, _zone(zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def local_naive(ts: int, zone: str) -> datetime:
    """The naive local wall-clock time of ``ts`` in ``zone`` (how the ERP stores changed_ts).
    Offsets change on the hour in every zone we use, so they are cached per UTC hour."""
    return _NAIVE_EPOCH + timedelta(seconds=ts + _offset_seconds(ts // 3600, zone))


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


# --------------------------------------------------------------------------------------------------- phones


def phone_national(country: str, nsn: str, area_len: int) -> str:
    """The number as written at home (libphonenumber's NATIONAL style)."""
    area, sub = nsn[:area_len], nsn[area_len:]
    if country == "US":
        return f"({area}) {sub[:3]}-{sub[3:]}"
    if country == "ES":
        return f"{nsn[:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:]}"
    if country == "FR":
        return f"0{nsn[0]} {nsn[1:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:]}"
    if country in ("IT", "GB"):
        split = 4 if len(sub) == 8 else 3
        return f"{'' if country == 'IT' else '0'}{area} {sub[:split]} {sub[split:]}"
    if country == "NL":
        return f"0{area} {sub[:3]} {sub[3:]}" if len(sub) == 7 else f"0{area} {sub}"
    return f"0{area} {sub}"  # DE


def phone_international(country: str, cc: str, nsn: str, area_len: int) -> str:
    """The number as written for abroad: ``+49 30 12345678`` (the generator's canonical style)."""
    area, sub = nsn[:area_len], nsn[area_len:]
    if country == "US":
        return f"+1 {area}-{sub[:3]}-{sub[3:]}"
    if country == "ES":
        return f"+34 {nsn[:3]} {nsn[3:6]} {nsn[6:]}"
    if country == "FR":
        return f"+33 {nsn[0]} {nsn[1:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:]}"
    if country in ("IT", "GB"):
        split = 4 if len(sub) == 8 else 3
        return f"+{cc} {area} {sub[:split]} {sub[split:]}"
    if country == "NL":
        return f"+31 {area} {sub[:3]} {sub[3:]}" if len(sub) == 7 else f"+31 {area} {sub}"
    return f"+{cc} {area} {sub}"  # DE


def phone_e164(cc: str, nsn: str) -> str:
    return f"+{cc}{nsn}"


def phone_variant(kind: int, country: str, cc: str, nsn: str, area_len: int) -> str:
    """Another way of writing the same number: national, E.164, or with the 00 international prefix."""
    if kind == 0:
        return phone_national(country, nsn, area_len)
    if kind == 1:
        return phone_e164(cc, nsn)
    if country == "US":  # the US dials 011 abroad, so 00 would not parse; 1-NPA-NXX-XXXX is the local habit
        return f"1-{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
    return f"00{cc} {nsn}"


# --------------------------------------------------------------------------------------------------- places


_GB_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_NL_LETTERS = "ABCEGHJKLMNPRTVWXZ"


def postal_code(city: City, country: str, draw: int) -> str:
    """A postal code of ``city``; ``draw`` is any non-negative random integer."""
    if country == "GB":
        outward = city.postal[draw % len(city.postal)]
        d = draw // 7
        return f"{outward} {d % 9 + 1}{_GB_LETTERS[d // 9 % 20]}{_GB_LETTERS[d // 180 % 20]}"
    lo, hi = city.postal[0], city.postal[1]
    number = int(lo) + draw % (int(hi) - int(lo) + 1)
    if country == "NL":
        d = draw // 97
        return f"{number:04d} {_NL_LETTERS[d % 18]}{_NL_LETTERS[d // 18 % 18]}"
    return f"{number:05d}"


def street_line(country: str, street: str, number: int) -> str:
    if country == "ES":
        return f"{street}, {number}"
    if country in ("FR", "GB", "US"):
        return f"{number * (10 if country == 'US' else 1)} {street}"
    return f"{street} {number}"


# --------------------------------------------------------------------------------------------------- text

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192)
def ascii_slug(text: str, sep: str = "") -> str:
    """Lower-case ASCII for e-mail local parts and domains (Müller -> mueller, García -> garcia)."""
    plain = unicodedata.normalize("NFKD", text.translate(_GERMAN)).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub(sep, plain.lower()).strip(sep) if sep else _NON_ALNUM.sub("", plain.lower())


# --------------------------------------------------------------------------------------------------- VAT


def _de_check(digits: str) -> str:
    product = 10
    for ch in digits:
        total = (int(ch) + product) % 10 or 10
        product = (2 * total) % 11
    return str((11 - product) % 10)


def _it_check(digits: str) -> str:
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n * 2 > 9 else n * 2
        total += n
    return str((10 - total % 10) % 10)


def _es_check(digits: str) -> str:
    even = sum(int(d) for d in digits[1::2])
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
    return str((10 - (even + odd) % 10) % 10)


def vat_number(country: Country, n: int, legal_form: str) -> str | None:
    """A syntactically valid VAT id with the country's check digits (None for the US: no VAT)."""
    code = country.code
    if code == "DE":
        base = f"{10_000_000 + n % 90_000_000:08d}"
        return f"DE{base}{_de_check(base)}"
    if code == "ES":
        base = f"{n % 10_000_000:07d}"
        return f"ES{'A' if legal_form == 'S.A.' else 'B'}{base}{_es_check(base)}"
    if code == "FR":
        siren = f"{100_000_000 + n % 900_000_000:09d}"
        return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
    if code == "IT":
        base = f"{n % 10_000_000:07d}{(n // 7) % 100 + 1:03d}"
        return f"IT{base}{_it_check(base)}"
    if code == "NL":
        return f"NL{100_000_000 + n % 900_000_000:09d}B01"
    if code == "GB":
        return f"GB{100_000_000 + n % 900_000_000:09d}"
    return None
