"""Salesforce Contacts through the shipped spec: defects rejected with field and code, good ones round-trip.

10,000 generated records, 2% of them with a known defect (or two): each defective record must be
rejected with exactly the expected (field, code) reasons and no other; every good record must map
canonical -> native -> canonical back to the same canonical record.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings import MappingContext, MappingSet, RecordRejection
from mappings.canonical import Contact
from mappings.engine.mapper import Mapper
from mappings.transforms.ids import salesforce_checksum
from orchestrator.commands.mappings_cmd import SHIPPED

FIRST = ["Ana", "Luis", "Marta", "Jordi", "Lucía", "Zoë", "O'Neil", "Jean-Luc", "María José", "Li"]
LAST = ["García", "Martínez", "Smith", "Müller", "Ó Briain", "van der Berg", "Nakamura", "Dubois"]
COUNTRIES = ["ES", "es", "Spain", "ESP", "DE", "Germany", "FR", "United Kingdom", "US"]
PHONES = {"ES": ["91{}", "93{}", "6{}"], "DE": ["30{}"], "FR": ["1{}"], "GB": ["20{}"], "US": ["415{}"]}


def sf_id(prefix: str, n: int) -> str:
    body = prefix + "".join(string.ascii_letters[(n * 7 + i * 13) % 52] if i % 2 else str((n + i) % 10)
                            for i in range(12))
    return body + salesforce_checksum(body)


ACCOUNTS = [sf_id("001", n) for n in range(50)]
OWNERS = [sf_id("005", n) for n in range(5)]
XREF = {("Account", a): f"acc-{i}" for i, a in enumerate(ACCOUNTS)} | {("User", o): f"usr-{i}" for i, o in
                                                                      enumerate(OWNERS)}
REVERSE = {(entity, canonical): native for (entity, native), canonical in XREF.items()}
CTX = MappingContext(system="sf", lookup=lambda e, n: XREF.get((e, n)),
                     reverse_lookup=lambda e, c: REVERSE.get((e, c)))


@pytest.fixture(scope="module")
def mapper() -> Mapper:
    return MappingSet.load(SHIPPED / "salesforce").for_object("Contact")


def phone(rng: random.Random) -> str:
    """A valid number in one of the ways people type it (Spanish numbers national, others international)."""
    region = rng.choice(["ES", "ES", "ES", "DE", "FR", "GB", "US"])
    pattern = rng.choice(PHONES[region])
    digits = pattern.format("".join(rng.choice(string.digits) for _ in range(9 - len(pattern) + 2)))
    if region == "US":
        digits = "415" + rng.choice("23456789") + "".join(rng.choice(string.digits) for _ in range(6))
    code = {"ES": "34", "DE": "49", "FR": "33", "GB": "44", "US": "1"}[region]
    if region == "GB":
        digits = "20" + rng.choice("378") + "".join(rng.choice(string.digits) for _ in range(7))
    if region == "FR":
        digits = "1" + "".join(rng.choice(string.digits) for _ in range(8))
    if region == "DE":
        digits = "30" + rng.choice("123456789") + "".join(rng.choice(string.digits) for _ in range(6))
    if region == "ES" and rng.random() < 0.5:
        return rng.choice([digits, f"{digits[:3]} {digits[3:6]} {digits[6:]}", f"({digits[:3]}) {digits[3:]}"])
    return rng.choice([f"+{code}{digits}", f"+{code} {digits[:3]} {digits[3:]}", f"00{code} {digits}"])


def good_contact(rng: random.Random, n: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = "".join(c for c in f"{first}.{last}{n}" if c.isascii() and (c.isalnum() or c in "._'-"))
    email = f"{local}@{rng.choice(['acme.es', 'Example.COM', 'mail.example.net'])}"
    stamp = f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T{rng.randrange(10, 24)}:15:0{rng.randrange(10)}." \
            f"{rng.randrange(1000):03d}+0000"
    return {
        "attributes": {"type": "Contact"}, "Id": sf_id("003", n), "AccountId": rng.choice([*ACCOUNTS, None]),
        "FirstName": rng.choice([first, f" {first} ", None]), "LastName": last,
        "Email": rng.choice([email, email.upper(), email.lower(), None]), "Phone": rng.choice([phone(rng), None]),
        "MobilePhone": rng.choice([phone(rng), "", None]), "Title": rng.choice(["CEO", "Buyer", "", None]),
        "Department": rng.choice(["Sales", None]), "MailingStreet": f"Calle {n}", "MailingCity": "Madrid",
        "MailingPostalCode": f"28{n % 1000:03d}", "MailingState": None, "MailingCountry": rng.choice(COUNTRIES),
        "Birthdate": rng.choice([None, f"19{rng.randrange(40, 99)}-0{rng.randrange(1, 10)}-2{rng.randrange(9)}"]),
        "ERP_Contact_No__c": str(100000 + n), "OwnerId": rng.choice(OWNERS),
        "HasOptedOutOfEmail": rng.random() < 0.1, "CreatedDate": stamp, "LastModifiedDate": stamp,
        "SystemModstamp": stamp, "IsDeleted": rng.random() < 0.02,
    }


Defect = tuple[Callable[[dict[str, Any]], None], list[tuple[str, str]]]
DEFECTS: list[Defect] = [
    (lambda r: r.update(Email="ana.garcia@@acme.es"), [("email", "invalid_email")]),
    (lambda r: r.update(Email="ana garcía@acme"), [("email", "invalid_email")]),
    (lambda r: r.update(Phone="12"), [("phone", "unparseable_phone")]),
    (lambda r: r.update(MobilePhone="+34 000 00"), [("mobile_phone", "unparseable_phone")]),
    (lambda r: r.update(Phone="call me"), [("phone", "unparseable_phone")]),
    (lambda r: r.update(LastName=None), [("last_name", "required_missing")]),
    (lambda r: r.update(LastName="   "), [("last_name", "required_missing")]),
    (lambda r: r.pop("LastName"), [("last_name", "required_missing")]),
    (lambda r: r.update(MailingCountry="Atlantis"), [("mailing_address.country", "invalid_country")]),
    (lambda r: r.update(Birthdate="1985-13-45"), [("birthdate", "invalid_date")]),
    (lambda r: r.update(CreatedDate="yesterday"), [("created_at", "invalid_date")]),
    (lambda r: r.update(AccountId=sf_id("001", 999)), [("account_id", "unresolved_reference")]),
    (lambda r: r.update(OwnerId="005xyz"), [("owner_id", "invalid_value")]),
    (lambda r: r.update(HasOptedOutOfEmail="maybe"), [("do_not_contact", "invalid_value")]),
    (lambda r: r.update(Email="nope", Phone="0", LastName=None),
     [("email", "invalid_email"), ("phone", "unparseable_phone"), ("last_name", "required_missing")]),
]


def generate(count: int, defect_rate: float, seed: int) -> list[tuple[dict[str, Any], list[tuple[str, str]]]]:
    rng = random.Random(seed)
    records = []
    for n in range(count):
        record = good_contact(rng, n)
        expected: list[tuple[str, str]] = []
        if rng.random() < defect_rate:
            change, expected = DEFECTS[n % len(DEFECTS)]
            change(record)
        records.append((record, expected))
    return records


def test_ten_thousand_contacts_with_two_percent_defects(mapper: Mapper) -> None:
    records = generate(10_000, 0.02, seed=7)
    expected_bad = {i: exp for i, (_, exp) in enumerate(records) if exp}
    assert 150 < len(expected_bad) < 260
    good, bad = mapper.map_batch([r for r, _ in records], CTX)
    assert len(good) + len(bad) == len(records)  # nothing dropped
    got = {i: sorted((r.field, r.code) for r in rejection.reasons) for i, rejection in bad}
    assert got == {i: sorted(exp) for i, exp in expected_bad.items()}
    for i, rejection in bad:
        assert rejection.key == records[i][0]["Id"]
        assert all(records[i][0].get("Email") not in (str(r), r.detail) for r in rejection.reasons)
    for index, canonical in good:
        native = mapper.to_native(canonical, CTX, include_read_only=True)
        assert mapper.to_canonical(native, CTX) == canonical, index


def test_good_contact_is_normalised(mapper: Mapper) -> None:
    record = good_contact(random.Random(1), 3)
    record.update(Email="John.Doe@Example.COM", Phone="(912) 345-678", MobilePhone="0049 30 1234567",
                  MailingCountry="Spain", AccountId=ACCOUNTS[0][:15], FirstName="  John ")
    contact = mapper.to_canonical(record, CTX)
    assert isinstance(contact, Contact)
    assert contact.id is None  # the orchestrator assigns canonical ids
    assert (contact.email, contact.phone, contact.mobile_phone) == ("John.Doe@example.com", "+34912345678",
                                                                     "+49301234567")
    assert contact.mailing_address is not None and contact.mailing_address.country == "ES"
    assert contact.account_id == "acc-0" and contact.first_name == "John"
    assert contact.created_at is not None and contact.created_at.utcoffset() is not None
    native = mapper.to_native(contact, CTX)
    assert native["AccountId"] == ACCOUNTS[0] and native["Email"] == "John.Doe@example.com"
    assert "CreatedDate" not in native and "IsDeleted" not in native  # read-only unless asked
    assert mapper.native_key(record) == record["Id"]


def test_unresolved_reference_policy_can_be_relaxed(mapper: Mapper) -> None:
    record = good_contact(random.Random(2), 4) | {"AccountId": sf_id("001", 777)}
    with pytest.raises(RecordRejection) as caught:
        mapper.to_canonical(record, CTX)
    assert caught.value.codes == ["unresolved_reference"]
    relaxed = MappingContext(lookup=CTX.lookup, on_missing_reference="null")
    assert mapper.to_canonical(record, relaxed).account_id is None


# --- property: canonical -> native -> canonical --------------------------------------------------

ascii_name = st.text(alphabet=string.ascii_letters + "áéíóúñ' -", min_size=1, max_size=20).filter(
    lambda s: s.strip() != "")


@st.composite
def native_contacts(draw: st.DrawFn) -> dict[str, Any]:
    rng = random.Random(draw(st.integers(0, 2**32)))
    record = good_contact(rng, draw(st.integers(0, 10**6)))
    record["FirstName"] = draw(st.none() | ascii_name)
    record["LastName"] = draw(ascii_name)
    local = draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,15}[A-Za-z0-9]", fullmatch=True)
                 .filter(lambda s: ".." not in s))
    domain = draw(st.sampled_from(["acme.es", "EXAMPLE.com", "Sub.Mail.Example.org", "münchen.de", "xn--bcher-kva.ch"]))
    record["Email"] = draw(st.sampled_from([f"{local}@{domain}", None]))
    record["Title"] = draw(st.none() | st.text(max_size=30))
    record["HasOptedOutOfEmail"] = draw(st.booleans())
    record["IsDeleted"] = draw(st.sampled_from([True, False, None]))
    return record


@settings(derandomize=True, database=None, max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(native_contacts())
def test_round_trip_property(mapper: Mapper, record: dict[str, Any]) -> None:
    canonical = mapper.to_canonical(record, CTX)
    native = mapper.to_native(canonical, CTX, include_read_only=True)
    assert mapper.to_canonical(native, CTX) == canonical
