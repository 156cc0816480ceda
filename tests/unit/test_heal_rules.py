"""Survivorship rules and the normalising fixes healing may apply on its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mappings import validation
from orchestrator.heal.fixers import fix
from orchestrator.heal.survivorship import Rules, survivor, winner
from orchestrator.reconcile.records import CRecord

OLD, NEW = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)


def rec(system: str, at: datetime | None, **values: Any) -> CRecord:
    return CRecord(system, "Account", f"{system}-1", values, updated_at=at)


def test_system_newest_most_complete_and_manual() -> None:
    erp, crm = rec("erp", OLD, phone="+1", email=None, city="x"), rec("crm", NEW, phone="+2", email="a@b.c")
    assert winner("erp", "phone", erp, crm) is erp
    assert winner("crm", "phone", erp, crm) is crm
    assert winner("newest", "phone", erp, crm) is crm
    assert winner("most_complete", "email", erp, crm) is crm  # a value beats none
    assert winner("most_complete", "phone", erp, crm) is crm  # tie on the field: ties on fields filled -> newest
    assert winner("manual", "phone", erp, crm) is None
    assert winner("newest", "phone", rec("erp", None, phone="+1"), crm) is None  # cannot tell: a person decides
    with pytest.raises(ValueError, match="unknown survivorship rule"):
        winner("oldest", "phone", erp, crm)


def test_rules_per_field_with_parent_and_default() -> None:
    rules = Rules("newest", {"email": "crm", "billing_address": "erp"})
    assert rules.rule("email") == "crm" and rules.rule("billing_address.city") == "erp"
    assert rules.rule("phone") == "newest" and Rules().rule("phone") == "manual"


def test_duplicate_survivor_prefers_the_matched_then_the_most_complete() -> None:
    a = CRecord("crm", "Account", "A", {"name": "x", "phone": "+1", "email": "e"})
    b = CRecord("crm", "Account", "B", {"name": "x"})
    assert survivor([a, b], set()) is a
    assert survivor([a, b], {"B"}) is b


@pytest.mark.parametrize(("reason", "value", "fixed"), [
    ("invalid_email", " Info @Acme.es ", validation.normalise_email("Info@Acme.es")),
    ("unparseable_phone", "0034 912 345 678", "+34912345678"),
    ("invalid_country", "spain", "ES"),
    ("invalid_currency", "eur", "EUR"),
])
def test_fixes_that_are_unambiguous(reason: str, value: str, fixed: str) -> None:
    assert fix(reason, value) == fixed


@pytest.mark.parametrize(("reason", "value"), [
    ("invalid_email", "info(at)acme.es"), ("unparseable_phone", "n/a - ask reception"),
    ("invalid_country", "Atlantis"), ("required_missing", "x"), ("invalid_email", ""),
])
def test_no_guessing(reason: str, value: str) -> None:
    assert fix(reason, value) is None
