"""What one reconciliation run produced: counts, coverage, the delta against earlier runs, thresholds.

Findings themselves are streamed to a JSON Lines file (``findings_path``) and to the state store as
they are found, so a run with a million findings keeps only counts and a few examples in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from orchestrator.reconcile.finding import Finding

EXAMPLES_PER_CODE = 20


@dataclass(slots=True)
class Breach:
    """A threshold passed: the code (or ``total``), the limit and what was measured."""

    code: str
    limit: float
    measured: float
    share: bool

    def __str__(self) -> str:
        if self.share:
            return f"{self.code}: {self.measured:.2%} of records > {self.limit:.2%}"
        return f"{self.code}: {int(self.measured)} findings > {int(self.limit)}"


@dataclass(slots=True)
class Coverage:
    """How much of the in-house business the CRM represents, and how alive the CRM accounts are."""

    inhouse: str  # system names
    crm: str
    customers: int = 0
    customers_in_crm: int = 0
    revenue: float = 0.0
    revenue_in_crm: float = 0.0
    currency: str | None = None
    crm_accounts: int = 0
    active_accounts: int = 0  # with a task or event in the activity window
    activity_days: int = 90
    by_owner: dict[str, dict[str, int]] = field(default_factory=dict)  # owner -> {accounts, active}

    @property
    def customer_share(self) -> float | None:
        return self.customers_in_crm / self.customers if self.customers else None

    @property
    def revenue_share(self) -> float | None:
        return self.revenue_in_crm / self.revenue if self.revenue else None

    @property
    def activity_share(self) -> float | None:
        return self.active_accounts / self.crm_accounts if self.crm_accounts else None

    def to_json(self) -> dict[str, Any]:
        return {
            "inhouse": self.inhouse, "crm": self.crm, "customers": self.customers,
            "customers_in_crm": self.customers_in_crm, "customer_share": self.customer_share,
            "revenue": round(self.revenue, 2), "revenue_in_crm": round(self.revenue_in_crm, 2),
            "revenue_share": self.revenue_share, "currency": self.currency, "crm_accounts": self.crm_accounts,
            "active_accounts": self.active_accounts, "activity_share": self.activity_share,
            "activity_days": self.activity_days, "by_owner": self.by_owner,
        }


@dataclass(slots=True)
class ReconcileResult:
    job: str
    run_id: str
    left: str
    right: str
    entities: list[str]
    started_at: datetime
    finished_at: datetime | None = None
    records: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> system -> records read
    matched: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> rule -> pairs
    counts: dict[str, int] = field(default_factory=dict)  # code -> findings
    by_entity: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> code -> findings
    by_severity: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[Finding]] = field(default_factory=dict)  # code -> first findings
    delta: dict[str, int] = field(default_factory=dict)  # new, persisting, resolved
    new_by_code: dict[str, int] = field(default_factory=dict)
    resolved_by_code: dict[str, int] = field(default_factory=dict)
    coverage: Coverage | None = None
    breaches: list[Breach] = field(default_factory=list)
    findings_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def records_examined(self) -> int:
        return sum(n for systems in self.records.values() for n in systems.values())

    def add(self, finding: Finding) -> None:
        code = finding.code.value
        self.counts[code] = self.counts.get(code, 0) + 1
        per_entity = self.by_entity.setdefault(finding.entity, {})
        per_entity[code] = per_entity.get(code, 0) + 1
        self.by_severity[finding.level.value] = self.by_severity.get(finding.level.value, 0) + 1
        examples = self.examples.setdefault(code, [])
        if len(examples) < EXAMPLES_PER_CODE:
            examples.append(finding)

    def findings(self) -> Iterator[Finding]:
        """Every finding of the run, streamed back from the run's findings file."""
        if self.findings_path is None or not self.findings_path.exists():
            return
        with self.findings_path.open("rb") as handle:
            for line in handle:
                yield Finding.from_json(orjson.loads(line))

    def summary(self) -> dict[str, Any]:
        """Counts only (no values): what the run record keeps and logs may carry."""
        return {
            "counts": dict(self.counts), "total": self.total, "delta": dict(self.delta),
            "records": self.records, "breaches": [str(b) for b in self.breaches],
            "coverage": self.coverage.to_json() if self.coverage else None,
        }


def read_findings(path: Path) -> Iterator[Mapping[str, Any]]:
    with path.open("rb") as handle:
        for line in handle:
            yield orjson.loads(line)
