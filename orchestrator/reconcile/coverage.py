"""Coverage and adoption: how much of the in-house business the CRM represents, and how alive it is.

- customers: live in-house accounts, and how many are matched to a live CRM account;
- revenue: in-house orders (opportunities mapped from the ERP, cancelled/lost ones left out) summed per
  customer, and the part belonging to customers the CRM has;
- adoption: live CRM accounts with a task or event in the last ``activity_days``, overall and by owner.

Fed record by record while entities are matched (accounts before orders and activities), so it
needs memory for one key set of accounts, never the records.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from orchestrator.reconcile.detectors.orphans import REF_PREFIX
from orchestrator.reconcile.normalise import id_key
from orchestrator.reconcile.records import CRecord
from orchestrator.reconcile.result import Coverage

LOST = frozenset({"closed_lost"})


class CoverageCollector:
    def __init__(self, inhouse: str, crm: str, now: datetime | None = None, activity_days: int = 90,
                 entities: tuple[str, ...] = ("Opportunity", "Activity")) -> None:
        self.coverage = Coverage(inhouse=inhouse, crm=crm, activity_days=activity_days)
        self.now = now
        # Key sets are kept only for what the job reads later: orders (revenue) and activities (adoption).
        self.keep_customers = "Opportunity" in entities
        self.keep_owners = "Activity" in entities
        self.in_crm: set[str] = set()  # in-house account keys matched to a live CRM account
        self.crm_owner: dict[str, str] = {}  # live CRM account key -> owner
        self.active: set[str] = set()
        self.currencies: set[str] = set()
        self.seen_accounts = False

    @classmethod
    def for_job(cls, job: Any, left: Any, right: Any, now: datetime | None = None) -> CoverageCollector:
        settings = job.settings
        crm = settings.crm or next((s.system for s in (right, left) if s.connector_type == "salesforce"),
                                   right.system)
        inhouse = left.system if crm == right.system else right.system
        return cls(inhouse, crm, now, settings.activity_days, tuple(job.entities))

    def add(self, record: CRecord, partner: CRecord | None) -> None:
        """A record as matching left it: with its counterpart, or alone (``partner`` None)."""
        for one, other in ((record, partner), (partner, record)):
            if one is not None:
                self._one(one, other)

    def _one(self, record: CRecord, other: CRecord | None) -> None:
        if record.deleted:
            return
        if record.entity == "Account":
            self._account(record, other)
        elif record.entity == "Opportunity" and record.system == self.coverage.inhouse:
            self._order(record)
        elif record.entity == "Activity" and record.system == self.coverage.crm:
            self._activity(record)

    def _account(self, record: CRecord, other: CRecord | None) -> None:
        cov = self.coverage
        self.seen_accounts = True
        if record.system == cov.inhouse:
            cov.customers += 1
            if other is not None and not other.deleted:
                cov.customers_in_crm += 1
                if self.keep_customers:
                    self.in_crm.add(_key(record.key))
        elif record.system == cov.crm:
            cov.crm_accounts += 1
            owner = str(record.native.get("owner_id") or record.get("owner_id") or "(no owner)")
            if self.keep_owners:
                self.crm_owner[_key(record.key)] = owner
            cov.by_owner.setdefault(owner, {"accounts": 0, "active": 0})["accounts"] += 1

    def _order(self, record: CRecord) -> None:
        stage = record.get("stage")
        if str(getattr(stage, "value", stage)) in LOST:
            return
        amount = record.get("amount.amount")
        if amount is None:
            return
        currency = record.get("amount.currency")
        if currency:
            self.currencies.add(str(currency))
        value = float(amount if isinstance(amount, Decimal | int | float) else Decimal(str(amount)))
        self.coverage.revenue += value
        account = record.native.get(REF_PREFIX + "account_id")
        if account is not None and _key(str(account)) in self.in_crm:
            self.coverage.revenue_in_crm += value

    def _activity(self, record: CRecord) -> None:
        when = record.get("start_at") or record.get("due_date")
        if self.now is not None and when is not None:
            day = when.date() if isinstance(when, datetime) else when
            if isinstance(day, date) and day < (self.now - timedelta(days=self.coverage.activity_days)).date():
                return
        account = record.native.get(REF_PREFIX + "what_id") or record.native.get(REF_PREFIX + "account_id")
        if account:
            self.active.add(_key(str(account)))

    def result(self) -> Coverage | None:
        if not self.seen_accounts:
            return None
        cov = self.coverage
        cov.currency = next(iter(self.currencies)) if len(self.currencies) == 1 else None
        active = [k for k in self.active if k in self.crm_owner]
        cov.active_accounts = len(active)
        for key in active:
            cov.by_owner[self.crm_owner[key]]["active"] += 1
        return cov


def _key(value: str) -> str:
    return id_key(value) or value
