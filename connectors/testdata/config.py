"""The generator's knobs, validated once; every count the dataset has follows from them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BASE_TIME = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class GeneratorConfig:
    """What to generate. Per-account counts are exact (every account has that many children), which is
    what lets any record be built from its index alone.

    ``accounts`` Salesforce accounts, of which ``crm_only_share`` are CRM-only prospects and the rest are
    linked to ERP customers; ``erp_overlap`` is the share of ERP customers that are in the CRM (the
    others are ERP-only). ``orders_per_customer`` of each linked account's opportunities are won deals
    that exist as ERP orders too (so it cannot exceed ``opportunities_per_account``).
    """

    seed: int = 42
    accounts: int = 1000
    contacts_per_account: int = 2
    opportunities_per_account: int = 2
    orders_per_customer: int = 1
    tasks_per_account: int = 2
    events_per_account: int = 1
    leads: int | None = None  # default: accounts // 2
    users: int = 20
    queues: int = 2
    erp_overlap: float = 0.8
    crm_only_share: float = 0.2
    erp_only_employees: int = 2
    defects: bool = False
    defects_per_code: int = 4
    formatting_variants: float = 0.05
    shared_modstamp_block: int = 0
    page_size: int = 2000  # the page the shared-SystemModstamp block must straddle
    base_time: datetime = BASE_TIME
    last_sync_age: timedelta = timedelta(days=2)
    history: timedelta = timedelta(days=1095)
    erp_timezone: str = "Europe/Madrid"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # free-form, echoed in ground truth

    def __post_init__(self) -> None:
        checks = [
            (self.accounts >= 1, "accounts must be >= 1"),
            (min(self.contacts_per_account, self.opportunities_per_account, self.tasks_per_account,
                 self.events_per_account, self.orders_per_customer, self.erp_only_employees) >= 0,
             "per-account counts must be >= 0"),
            (self.orders_per_customer <= self.opportunities_per_account,
             "orders_per_customer cannot exceed opportunities_per_account (each order is a won opportunity)"),
            (self.users >= 2, "users must be >= 2 (the integration user and at least one owner)"),
            (self.queues >= 0 and self.leads_count >= 0, "queues and leads must be >= 0"),
            (0 < self.erp_overlap <= 1, "erp_overlap must be in (0, 1]"),
            (0 <= self.crm_only_share < 1, "crm_only_share must be in [0, 1)"),
            (0 <= self.formatting_variants <= 0.5, "formatting_variants must be in [0, 0.5]"),
            (self.shared_modstamp_block >= 0 and self.page_size >= 1, "bad shared_modstamp_block/page_size"),
            (self.base_time.tzinfo is not None, "base_time must be timezone-aware"),
            (self.history > timedelta(days=60), "history must exceed 60 days"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def leads_count(self) -> int:
        return self.accounts // 2 if self.leads is None else self.leads

    @property
    def linked(self) -> int:
        """Accounts linked to an ERP customer."""
        return self.accounts - self.crm_only

    @property
    def crm_only(self) -> int:
        return round(self.accounts * self.crm_only_share)

    @property
    def erp_customers(self) -> int:
        return max(self.linked, math.ceil(self.linked / self.erp_overlap - 1e-9))

    @property
    def erp_only(self) -> int:
        return self.erp_customers - self.linked

    @property
    def companies(self) -> int:
        return self.accounts + self.erp_only

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, timedelta):
                value = value.total_seconds()
            out[name] = value
        return out
