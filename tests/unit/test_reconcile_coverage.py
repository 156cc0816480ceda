"""Coverage: customers and revenue of the in-house system found in the CRM; CRM accounts alive by owner."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from orchestrator.reconcile.coverage import CoverageCollector
from orchestrator.reconcile.records import CRecord
from orchestrator.reconcile.result import ReconcileResult
from orchestrator.reconcile.thresholds import check

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def account(system: str, key: str, owner: str | None = None, deleted: bool = False) -> CRecord:
    return CRecord(system, "Account", key, {"owner_id": owner}, native={"owner_id": owner} if owner else {},
                   deleted=deleted)


def test_customers_revenue_and_activity() -> None:
    cov = CoverageCollector("erp", "crm", NOW, activity_days=90)
    cov.add(account("erp", "1"), account("crm", "A1", "005a"))
    cov.add(account("erp", "2"), account("crm", "A2", "005b", deleted=True))  # gone from the CRM: not covered
    cov.add(account("erp", "3"), None)
    cov.add(account("crm", "A9", "005a"), None)
    for key, cust, amount, stage in (("O1", "1", "1000", "closed_won"), ("O2", "3", "3000", "closed_won"),
                                     ("O3", "1", "500", "closed_lost")):
        order = CRecord("erp", "Opportunity", key, {"amount.amount": Decimal(amount), "amount.currency": "EUR",
                                                     "stage": stage}, native={"ref:account_id": cust})
        cov.add(order, None)
    for key, what, when in (("T1", "A1", NOW - timedelta(days=3)), ("T2", "A9", NOW - timedelta(days=200))):
        cov.add(CRecord("crm", "Activity", key, {"due_date": when.date()}, native={"ref:what_id": what}), None)
    result = cov.result()
    assert result is not None
    assert (result.customers, result.customers_in_crm) == (3, 1)
    assert (result.revenue, result.revenue_in_crm, result.currency) == (4000.0, 1000.0, "EUR")
    assert (result.crm_accounts, result.active_accounts) == (2, 1)
    assert result.by_owner == {"005a": {"accounts": 2, "active": 1}}
    assert result.customer_share is not None and abs(result.customer_share - 1 / 3) < 1e-9
    assert date(2024, 1, 1) < NOW.date()


def test_thresholds_count_and_share() -> None:
    result = ReconcileResult("j", "r", "a", "b", ["Account"], NOW, records={"Account": {"a": 50, "b": 50}},
                             counts={"missing": 3, "duplicate": 1})
    assert check({}, result) == []
    breaches = check({"missing": 2, "duplicate": 0.02, "total": 10}, result)
    assert [(b.code, b.share) for b in breaches] == [("missing", False)]
    assert [b.code for b in check({"duplicate": 0.005}, result)] == ["duplicate"]
