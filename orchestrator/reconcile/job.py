"""A reconciliation job as the engine runs it: the config's job plus the rules it implies.

``ReconcileSettings`` holds what tunes comparison and scale (normalisers, duplicate detection,
partitions, coverage); it has defaults for everything, so a job in crmsync.yaml needs only its
systems and entities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.reconcile.detectors.duplicates import DuplicateConfig
from orchestrator.reconcile.normalise import NormaliseConfig
from orchestrator.reconcile.spill import DEFAULT_BUCKETS, DEFAULT_MAX_IN_MEMORY

ENTITY_ORDER = ("User", "Account", "Contact", "Lead", "Opportunity", "Activity")
"""Parents before children, so references resolve against entities already matched."""

Expectation = Literal["linked", "all"]


class ReconcileSettings(BaseModel):
    """How a job compares; every field has a default that equates formatting only."""

    model_config = ConfigDict(extra="forbid")

    normalise: NormaliseConfig = Field(default_factory=NormaliseConfig)
    duplicates: DuplicateConfig = Field(default_factory=DuplicateConfig)
    expect: dict[str, Expectation] = Field(default_factory=dict)  # entity -> which records must be on both sides
    compare_fields: dict[str, list[str]] = Field(default_factory=dict)  # entity -> fields (default: both mapped)
    ignore_fields: dict[str, list[str]] = Field(default_factory=dict)
    links: dict[str, dict[str, str]] = Field(default_factory=dict)
    """system -> entity -> native field holding the other system's key (the ERP's sf_account_id)."""
    crm: str | None = None  # the CRM system for coverage (default: the salesforce side, else right)
    activity_days: int = Field(default=90, ge=1)
    buckets: int = Field(default=DEFAULT_BUCKETS, ge=1)
    max_in_memory: int = Field(default=DEFAULT_MAX_IN_MEMORY, ge=100)
    severity: dict[str, Literal["info", "warning", "error"]] = Field(default_factory=dict)


@dataclass(slots=True)
class JobSpec:
    name: str
    left: str
    right: str
    entities: list[str]
    match: Mapping[str, list[Any]] = field(default_factory=dict)
    lag: timedelta = timedelta(minutes=60)
    thresholds: Mapping[str, int | float] = field(default_factory=dict)
    settings: ReconcileSettings = field(default_factory=ReconcileSettings)

    def ordered_entities(self) -> list[str]:
        known = [e for e in ENTITY_ORDER if e in self.entities]
        return known + [e for e in self.entities if e not in known]

    @classmethod
    def from_config(cls, name: str, cfg: Any, settings: ReconcileSettings | None = None) -> JobSpec:
        """From a ``ReconciliationConfig`` of crmsync.yaml."""
        return cls(name=name, left=cfg.left, right=cfg.right, entities=list(cfg.entities), match=dict(cfg.match),
                   lag=timedelta(minutes=cfg.lag_minutes), thresholds=dict(cfg.thresholds),
                   settings=settings or ReconcileSettings())
