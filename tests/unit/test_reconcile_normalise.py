"""Normalisers: formatting-only variants compare equal, real differences do not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectors.salesforce.objects import id_for, to_15
from mappings.canonical import Account, Contact
from orchestrator.reconcile.fieldkinds import field_kinds, flatten, unflatten
from orchestrator.reconcile.normalise import NormaliseConfig, Normalisers

ACCOUNT = Normalisers(field_kinds(Account))
CONTACT = Normalisers(field_kinds(Contact))


def same(norm: Normalisers, path: str, a: object, b: object) -> bool:
    return norm(path, a) == norm(path, b)


def test_field_kinds_flatten_money_and_addresses() -> None:
    kinds = field_kinds(Account)
    assert kinds["phone"] == "phone"
    assert kinds["billing_address.country"] == "country"
    assert kinds["annual_revenue.amount"] == "decimal"
    assert kinds["annual_revenue.currency"] == "currency"
    assert kinds["type"] == "enum"
    assert kinds["owner_id"] == "reference"
    assert "id" not in kinds and "updated_at" not in kinds


@pytest.mark.parametrize(("path", "a", "b"), [
    ("phone", "+34 912 34 56 78", "+34912345678"),
    ("phone", "0034 912-345-678", "+34912345678"),
    ("name", "ACME Industries", "acme  industries "),
    ("name", None, ""),
    ("name", "   ", None),
    ("annual_revenue.amount", Decimal("1234.5"), "1234.50"),
    ("annual_revenue.amount", 1234.5, Decimal("1234.500")),
    ("billing_address.country", "Spain", "ES"),
    ("billing_address.country", "esp", "es"),
    ("annual_revenue.currency", "eur", "EUR"),
    ("email", "John.Doe@Example.COM", "john.doe@example.com"),
    ("active", "Y", True),
    ("type", "Customer", "customer"),
])
def test_formatting_only_variants_are_equal(path: str, a: object, b: object) -> None:
    assert same(ACCOUNT, path, a, b)


@pytest.mark.parametrize(("path", "a", "b"), [
    ("phone", "+34912345678", "+34912345679"),
    ("name", "ACME Industries", "ACME Industrial"),
    ("annual_revenue.amount", "1234.5", "1234.51"),
    ("billing_address.country", "Spain", "PT"),
    ("email", "john@example.com", "jon@example.com"),
    ("name", None, "x"),
])
def test_real_differences_stay_different(path: str, a: object, b: object) -> None:
    assert not same(ACCOUNT, path, a, b)


def test_salesforce_ids_15_18_and_lowercased_are_one_id() -> None:
    full = id_for("001", 123456)
    assert same(ACCOUNT, "owner_id", full, to_15(full))
    assert same(ACCOUNT, "owner_id", full, full.lower())
    assert not same(ACCOUNT, "owner_id", full, id_for("001", 123457))
    assert ACCOUNT("owner_id", "C000123") == "C000123"  # not a Salesforce id: unchanged, case kept


def test_time_zones_and_precision() -> None:
    kinds = {"at": "datetime", "day": "date"}
    norm = Normalisers(kinds, NormaliseConfig(naive_timezone="Europe/Madrid"))  # type: ignore[arg-type]
    utc = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert norm("at", "2024-03-01T10:00:00+01:00") == norm("at", utc)
    assert norm("at", datetime(2024, 3, 1, 10, 0)) == norm("at", utc)  # naive = ERP local time
    assert norm("at", utc + timedelta(microseconds=400)) == norm("at", utc)
    assert norm("at", utc + timedelta(seconds=1)) != norm("at", utc)
    assert norm("at", datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=1)))) == norm("at", utc)
    assert norm("day", "2024-03-01") == norm("day", date(2024, 3, 1)) == norm("day", utc)


def test_config_makes_rules_stricter_or_declares_scale() -> None:
    strict = Normalisers(field_kinds(Account), NormaliseConfig(ignore_case=False, null_equals_empty=False,
                                                               decimal_scale={"annual_revenue.amount": 0}))
    assert strict("name", "ACME") != strict("name", "acme")
    assert strict("name", None) != strict("name", "")
    assert strict("annual_revenue.amount", "1000.4") == strict("annual_revenue.amount", "1000")
    exact = Normalisers(field_kinds(Account), NormaliseConfig(fields={"phone": "exact", "website": "ignore"}))
    assert exact("phone", "+34 912 34 56 78") != exact("phone", "+34912345678")
    assert "website" not in exact.record({"website": "x"})


def test_unparseable_phone_still_compares_by_digits() -> None:
    assert same(CONTACT, "phone", "call 555-0100", "5550100")
    assert not same(CONTACT, "phone", "555-0100", "555-0101")


def test_flatten_roundtrip() -> None:
    record = Account(name="A", billing_address={"city": "Madrid", "country": "ES"},
                     annual_revenue={"amount": "10", "currency": "EUR"})
    flat = flatten(record.model_dump())
    assert flat["billing_address.city"] == "Madrid" and flat["annual_revenue.currency"] == "EUR"
    assert flat["shipping_address"] is None
    back = unflatten(flat)
    assert back["billing_address"]["country"] == "ES" and back["shipping_address"] is None
    assert Account.model_validate(back).billing_address == record.billing_address
