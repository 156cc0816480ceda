"""The shape of crmsync.yaml, as pydantic models. Unknown keys are errors, so typos get caught.

Cross-references that need the whole file (a sync's systems exist, conflict rules name the sync's
own systems, entities are canonical) are checked in ``ProjectConfig``; checks that need the
environment (installed connector types, mapping directories) live in loader.py.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator, model_validator

from connectors.retry import RetryPolicy
from mappings.canonical import CanonicalRegistry, CustomField
from orchestrator.errors import ConfigError
from orchestrator.state import StateStore

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]
RESOLUTION_STRATEGIES = ("newest", "most_complete", "manual")
FINDING_CODES = (
    "missing", "field_mismatch", "duplicate", "orphan_reference", "invalid_value", "picklist_drift", "stale",
    "conflict", "formula_drift", "merged", "inactive_owner", "queue_owner", "schema_drift", "deleted_one_side",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StateConfig(Strict):
    """Where crmsync keeps run history, checkpoints, the ID cross-reference, quarantine and findings."""

    url: str = "sqlite:///.crmsync/state.db"  # relative SQLite paths are relative to the config file
    db_schema: str | None = Field(default=None, alias="schema")  # PostgreSQL schema for the tables
    retention_days: int = Field(default=90, ge=1)  # purge keeps closed quarantine/findings this long


class CanonicalConfig(Strict):
    """The project's own canonical fields: entity -> field -> type and whether it is personal data."""

    extensions: dict[str, dict[Name, CustomField]] = Field(default_factory=dict)


class SystemConfig(Strict):
    """One system: a connector type, its settings, and the directory of its mapping specs."""

    connector: str
    settings: dict[str, Any] = Field(default_factory=dict)
    mappings: Path | None = None  # default: the shipped specs for the connector type
    timezone: str = "UTC"  # how the system's naive datetimes are to be read
    description: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Madrid)") from None
        return value


class RetryConfig(Strict):
    """Backoff for one request (a page, a batch write): exponential with jitter, capped."""

    max_attempts: int = Field(default=6, ge=1, le=100)
    initial_wait: float = Field(default=0.5, gt=0)
    max_wait: float = Field(default=30.0, gt=0)
    max_total: float = Field(default=300.0, gt=0)


class ResolutionConfig(Strict):
    """Who wins when two systems disagree: a system name, newest, most_complete or manual; per field too."""

    default: str = "manual"
    fields: dict[str, str] = Field(default_factory=dict)

    def strategies(self) -> dict[str, str]:
        return {"default": self.default, **{f"fields.{k}": v for k, v in self.fields.items()}}


Mode = Literal["incremental", "full"]
DeletePolicy = Literal["ignore", "soft", "hard"]


FilterValue = str | int | float | bool | None


class ObjectConfig(Strict):
    """One canonical entity a sync moves; a bare name in YAML is the same as ``{entity: Name}``."""

    entity: str
    # Only records whose canonical fields hold these values ({country: [ES, PT]}; see runner/record_filter.py).
    filter: dict[str, FilterValue | list[FilterValue]] | None = None
    mode: Mode | None = None  # overrides the sync's mode
    batch_size: int | None = Field(default=None, ge=1, le=100_000)
    delete_policy: DeletePolicy | None = None
    # Link-only: match records on these canonical fields and record the match; write nothing
    # (record owners: users are matched, never created by a sync).
    link_only: bool = False
    match_on: list[str] = Field(default_factory=list)
    # Systems where this sync may create records of the entity (default: wherever it writes). Elsewhere
    # it only updates records it already links: CRM prospects need not become ERP customers.
    create_in: list[Name] | None = None

    @model_validator(mode="after")
    def _link_rules(self) -> ObjectConfig:
        if self.link_only and not self.match_on:
            raise ValueError("link_only needs match_on: the canonical fields that identify a record on both sides")
        return self


class SyncConfig(Strict):
    """A sync: entities moved from one system to another (or both ways) on each run."""

    source: Name = Field(alias="from")
    target: Name = Field(alias="to")
    direction: Literal["one_way", "two_way"] = "one_way"
    objects: list[ObjectConfig] = Field(min_length=1)
    mode: Mode = "incremental"
    delete_policy: DeletePolicy = "ignore"  # how deletes at the source are applied at the target
    conflict: ResolutionConfig | None = None  # two-way syncs only
    batch_size: int = Field(default=500, ge=1, le=100_000)
    concurrency: int = Field(default=2, ge=1, le=64)  # streams at once
    retry: RetryConfig = Field(default_factory=RetryConfig)
    description: str = ""

    @field_validator("objects", mode="before")
    @classmethod
    def _bare_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"entity": item} if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _coherent(self) -> SyncConfig:
        if self.source == self.target:
            raise ValueError("from and to name the same system")
        if self.conflict is not None and self.direction != "two_way":
            raise ValueError("conflict rules apply to two_way syncs only")
        entities = [o.entity for o in self.objects]
        duplicate = next((e for e in entities if entities.count(e) > 1), None)
        if duplicate:
            raise ValueError(f"entity {duplicate} is listed twice")
        return self

    def resolution(self) -> ResolutionConfig:
        """The conflict rules, with the default (manual) when a two-way sync gives none."""
        return self.conflict or ResolutionConfig()


Threshold = Annotated[int, Field(ge=0)] | Annotated[float, Field(ge=0.0, le=1.0)]


class ReconciliationConfig(Strict):
    """A reconciliation job: compare two systems' entities, record findings, report and alert."""

    left: Name
    right: Name
    entities: list[str] = Field(min_length=1)
    match: dict[str, list[str]] = Field(default_factory=dict)  # entity -> natural-key fields
    lag_minutes: int = Field(default=60, ge=0)  # ignore records changed this recently (still syncing)
    thresholds: dict[str, Threshold] = Field(default_factory=dict)  # int = count, float = share
    survivorship: ResolutionConfig | None = None  # for healing
    report_dir: Path = Path("reports")
    mask_values: bool = True  # reports show personal values masked unless asked
    # How the job compares and heals ({reconcile: ..., heal: ...}), as reconcile/<job>.yaml would say it;
    # checked by config validate against orchestrator.reconcile.run.JobSettings.
    settings: dict[str, Any] | None = None
    description: str = ""

    @field_validator("thresholds")
    @classmethod
    def _known_codes(cls, value: dict[str, int | float]) -> dict[str, int | float]:
        unknown = sorted(set(value) - set(FINDING_CODES) - {"total"})
        if unknown:
            raise ValueError(f"unknown finding code {unknown[0]!r} (known: total, {', '.join(FINDING_CODES)})")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> ReconciliationConfig:
        if self.left == self.right:
            raise ValueError("left and right name the same system")
        extra = sorted(set(self.match) - set(self.entities))
        if extra:
            raise ValueError(f"match names entity {extra[0]} which is not in entities")
        return self


class ExecutorConfig(Strict):
    """Where sync partitions run: in this process (local) or on Celery workers (see distributed_execution)."""

    type: Literal["local", "celery"] = "local"
    broker_url: str | None = None  # celery: amqp://crmsync:${RABBITMQ_PASSWORD}@rabbit:5672//
    lease_ttl_s: float = Field(default=60.0, gt=0)  # a worker that stops renewing loses its partition after this
    time_slice_s: float = Field(default=600.0, gt=0)  # celery: work per delivery, far below consumer_timeout
    progress_every_s: float = Field(default=5.0, gt=0)  # how often a partition's progress counts are written

    @model_validator(mode="after")
    def _broker(self) -> ExecutorConfig:
        if self.type == "celery" and not self.broker_url:
            raise ValueError("a celery executor needs broker_url")
        if self.time_slice_s <= self.lease_ttl_s:
            raise ValueError("time_slice_s must be longer than lease_ttl_s")
        return self


class ProjectConfig(Strict):
    """A crmsync project, as loaded from crmsync.yaml by ``load_config``."""

    version: Literal[1]
    state: StateConfig = Field(default_factory=StateConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    canonical: CanonicalConfig = Field(default_factory=CanonicalConfig)
    systems: dict[Name, SystemConfig] = Field(default_factory=dict)
    syncs: dict[Name, SyncConfig] = Field(default_factory=dict)
    reconciliations: dict[Name, ReconciliationConfig] = Field(default_factory=dict)

    _path: Path = PrivateAttr(default=Path("crmsync.yaml"))
    _registry: CanonicalRegistry | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path:
        """The file this config was loaded from."""
        return self._path

    @property
    def base_dir(self) -> Path:
        """The directory relative paths in the config are relative to."""
        return self._path.parent

    def registry(self) -> CanonicalRegistry:
        """The canonical entities of this project: built-ins plus the declared extensions."""
        if self._registry is None:
            self._registry = CanonicalRegistry(self.canonical.extensions)
        return self._registry

    def system(self, name: str) -> SystemConfig:
        return _pick(self.systems, name, "system")

    def sync(self, name: str) -> SyncConfig:
        return _pick(self.syncs, name, "sync")

    def reconciliation(self, name: str) -> ReconciliationConfig:
        return _pick(self.reconciliations, name, "reconciliation")

    def mapping_dir(self, system: str) -> Path | None:
        """Where the system's mapping specs live (resolved by the loader; None if the type ships none)."""
        return self.system(system).mappings

    def open_state(self, *, migrate: bool = True) -> StateStore:
        """Open this project's state store (created and migrated on first use)."""
        return StateStore.open(self.state.url, migrate=migrate, schema=self.state.db_schema)

    def retry_policy(self, sync: str | SyncConfig, **hooks: Any) -> RetryPolicy:
        """The tenacity policy for one sync's requests; ``hooks`` pass sleep, clock or on_retry through."""
        cfg = (self.sync(sync) if isinstance(sync, str) else sync).retry
        return RetryPolicy(max_attempts=cfg.max_attempts, initial_wait=cfg.initial_wait, max_wait=cfg.max_wait,
                           max_total=cfg.max_total, **hooks)


def _pick(items: dict[str, Any], name: str, what: str) -> Any:
    try:
        return items[name]
    except KeyError:
        known = ", ".join(sorted(items)) or "none defined"
        raise ConfigError(f"unknown {what} {name!r} (defined: {known})", key=f"{what}s.{name}") from None
