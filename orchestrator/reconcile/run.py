"""Running a configured reconciliation job: build both sides from crmsync.yaml, run the engine inside a
recorded run, write the reports. Shared by ``crmsync reconcile``, ``crmsync heal`` and the demo.

Job settings beyond crmsync.yaml's ``reconciliations`` entry (normalisers, links, duplicate rules,
healing's value maps) come from a YAML file: ``--settings FILE``, or ``reconcile/<job>.yaml`` next to
crmsync.yaml when it exists. Every key has a default::

    reconcile:
      links: {erp: {Account: sf_account_id, Contact: sf_contact_id}}   # the ERP holds Salesforce ids
      expect: {Account: linked}          # linked (default): only records linked to the other side are missing
      normalise:
        phone_region: ES                 # phones written without a country code
        equivalents: {industry: {Apparel: Retail, Banking: Services}}   # two vocabularies, one meaning
        fields: {website: ignore}        # a rule per field: exact, text, text_ci, email, phone, country...
      duplicates: {name_threshold: 90, entities: [Account, Contact, Lead]}
    heal:
      delete_policy: propagate           # propagate | restore | ignore
      value_maps: {Opportunity: {stage: {Discovery: Prospecting}}}   # drifted value -> native value to write
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.base import ChecksumConnector
from connectors.retry import RetryPolicy
from connectors.salesforce.objects import FORMULAS
from orchestrator.errors import ConfigError
from orchestrator.heal.planner import HealSettings
from orchestrator.reconcile.engine import Engine
from orchestrator.reconcile.history import StoreHistory, syncs_between
from orchestrator.reconcile.identities import Identities
from orchestrator.reconcile.job import JobSpec, ReconcileSettings
from orchestrator.reconcile.observer import Observer
from orchestrator.reconcile.rangediff import RowDiff, diff_mirror
from orchestrator.reconcile.result import ReconcileResult
from orchestrator.reconcile.schema_history import SchemaHistory
from orchestrator.reconcile.sides import SideSpec
from orchestrator.reports import html, jsonreport

log = structlog.get_logger(__name__)


class JobSettings(BaseModel):
    """The settings file of a job: ``reconcile:`` (comparison) and ``heal:`` (healing)."""

    model_config = ConfigDict(extra="forbid")

    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)
    heal: HealSettings = Field(default_factory=HealSettings)


def load_settings(project: Any, job: str, path: Path | None = None) -> JobSettings:
    """The job's settings: ``path`` when given, else the job's ``settings`` in crmsync.yaml, else the file
    ``reconcile/<job>.yaml`` beside it, else defaults. Both of the last two at once is an error: one of
    them would be silently ignored."""
    default = project.base_dir / "reconcile" / f"{job}.yaml"
    inline = getattr(project.reconciliation(job), "settings", None)
    if path is None and inline is not None:
        if default.exists():
            raise ConfigError(f"settings of reconciliation {job!r} are in crmsync.yaml and in {default}: keep one",
                              file=str(default))
        return JobSettings.model_validate(inline)  # checked when the config was loaded
    candidate = path or default
    if not candidate.exists():
        if path is not None:
            raise ConfigError("settings file not found", file=str(path))
        return JobSettings()
    try:
        data = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
        return JobSettings.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML syntax error: {exc}", file=str(candidate)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(first["msg"], file=str(candidate), key=key) from None


@dataclass
class Sides:
    """Both systems of a job, built from the project config; closes their connectors."""

    left: SideSpec
    right: SideSpec
    opened: list[Any] = field(default_factory=list)

    def by_name(self) -> dict[str, SideSpec]:
        return {self.left.system: self.left, self.right.system: self.right}


@contextmanager
def open_sides(project: Any, job_name: str, settings: ReconcileSettings) -> Iterator[Sides]:
    from orchestrator.runner.services import Services

    cfg = project.reconciliation(job_name)
    services = Services(project)
    made: list[SideSpec] = []
    try:
        for system in (cfg.left, cfg.right):
            system_cfg = project.system(system)
            connector = services.connector(system, RetryPolicy())
            made.append(SideSpec(
                system, connector, services.mappings(system), timezone=system_cfg.timezone,
                connector_type=system_cfg.connector, links=settings.links.get(system, {}),
                formulas=FORMULAS if system_cfg.connector == "salesforce" else {}))
        yield Sides(made[0], made[1], [s.connector for s in made])
    finally:
        for side in made:
            side.connector.close()


@dataclass
class JobOutcome:
    result: ReconcileResult
    json_report: Path | None = None
    html_report: Path | None = None
    seconds: float = 0.0

    @property
    def breached(self) -> bool:
        return bool(self.result.breaches)

    # A mapping of its summary, so callers can ``dict(outcome)`` (the demo does).
    def keys(self) -> list[str]:
        return list(self.summary())

    def __getitem__(self, key: str) -> Any:
        return self.summary()[key]

    def summary(self) -> dict[str, Any]:
        """What the demo and scripts read: counts, coverage lines, report paths (no personal data)."""
        cov = self.result.coverage
        lines = []
        if cov is not None:
            if cov.customer_share is not None:
                lines.append(f"{cov.customer_share:.1%} of {cov.inhouse} customers are in {cov.crm} "
                             f"({cov.customers_in_crm:,} of {cov.customers:,})")
            if cov.revenue_share is not None:
                lines.append(f"{cov.revenue_share:.1%} of {cov.inhouse} revenue belongs to customers in {cov.crm}")
            if cov.activity_share is not None:
                lines.append(f"{cov.activity_share:.1%} of {cov.crm} accounts had activity in the last "
                             f"{cov.activity_days} days")
        return {"run_id": self.result.run_id, "findings_by_code": dict(self.result.counts), "total": self.result.total,
                "delta": dict(self.result.delta), "breaches": [str(b) for b in self.result.breaches],
                "coverage_lines": lines, "json_report": str(self.json_report) if self.json_report else None,
                "html_report": str(self.html_report) if self.html_report else None, "seconds": round(self.seconds, 2)}


def run_job(project: Any, store: Any, job_name: str, *, settings: JobSettings | None = None,
            observer: Observer | None = None, identities: Identities | None = None, show_personal: bool = False,
            reports: bool = True, clock: Any = None) -> JobOutcome:
    """Reconcile a configured job inside a recorded run and write its JSON and HTML reports."""
    cfg = project.reconciliation(job_name)
    settings = settings or load_settings(project, job_name)
    job = JobSpec.from_config(job_name, cfg, settings.reconcile)
    started = time.perf_counter()
    run_id = store.start_run(job_name, "reconcile", {"left": cfg.left, "right": cfg.right,
                                                    "entities": list(cfg.entities)})
    report_dir = _report_dir(project, cfg)
    status, error = "failed", None
    outcome: JobOutcome | None = None
    # Spilled partitions and the raw findings file hold unmasked values: they live in a private temporary
    # directory for the run only; the reports written from them are masked.
    with tempfile.TemporaryDirectory(prefix="crmsync-reconcile-") as work:
        try:
            with open_sides(project, job_name, settings.reconcile) as sides:
                syncs = syncs_between(project, cfg.left, cfg.right)
                engine = Engine(job, sides.left, sides.right, store=store,
                                history=StoreHistory(store, list(syncs), syncs), workdir=Path(work),
                                models=registry_models(project), schema_history=SchemaHistory(store, job_name))
                if clock is not None:
                    engine.clock = clock
                if observer is not None:
                    engine.observer, engine.identities = observer, identities
                result = engine.run(run_id, Path(work) / "findings.jsonl")
            outcome = JobOutcome(result, seconds=time.perf_counter() - started)
            if reports:
                outcome.json_report, outcome.html_report = write_reports(store, result, report_dir, show_personal)
            status = "succeeded"
            return outcome
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
            raise
        finally:
            store.finish_run(run_id, status, outcome.result.summary() if outcome is not None else {}, error)


def row_diff(project: Any, store: Any, job_name: str, settings: JobSettings | None = None) -> dict[str, RowDiff]:
    """The mirror fast path: per entity whose two tables have the same shape and whose connectors hash key
    ranges in the database, the keys that differ (equal ranges are never read; see rangediff)."""
    cfg = project.reconciliation(job_name)
    settings = settings or load_settings(project, job_name)
    out: dict[str, RowDiff] = {}
    with open_sides(project, job_name, settings.reconcile) as sides:
        for entity in cfg.entities:
            pair = [side.mappers(entity) for side in (sides.left, sides.right)]
            if any(len(m) != 1 for m in pair) or not all(
                    isinstance(s.connector, ChecksumConnector) and s.connector.capabilities.checksums
                    for s in (sides.left, sides.right)):
                continue
            objects = [str(m[0].spec.object) for m in pair]
            specs = [side.stream_specs().get(o) for side, o in zip((sides.left, sides.right), objects, strict=True)]
            if specs[0] is None or specs[1] is None or len(specs[0].primary_key) != 1:
                continue
            columns = [f.name for f in specs[0].fields if specs[1].field(f.name) is not None]
            left, right = sides.left.connector, sides.right.connector
            assert isinstance(left, ChecksumConnector) and isinstance(right, ChecksumConnector)
            out[entity] = diff_mirror(left, right, objects[0],
                                      specs[0].primary_key[0], columns, store=store, job=job_name, entity=entity,
                                      right_stream=objects[1])
    return out


def registry_models(project: Any) -> dict[str, Any]:
    registry = project.registry()
    return {name: registry.get(name) for name in registry.names()}


def _report_dir(project: Any, cfg: Any) -> Path:
    directory = Path(cfg.report_dir)
    if not directory.is_absolute():
        directory = project.base_dir / directory
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def write_reports(store: Any, result: ReconcileResult, directory: Path, show_personal: bool) -> tuple[Path, Path]:
    """``<job>-<when>.json`` and ``.html``, plus ``<job>-latest.*`` copies for links that do not change."""
    trend = store.findings_trend(result.job)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    json_path = jsonreport.write(result, directory / f"{result.job}-{stamp}.json", trend=trend,
                                 show_personal=show_personal)
    html_path = html.write(result, directory / f"{result.job}-{stamp}.html", trend, show_personal=show_personal)
    for path in (json_path, html_path):
        (directory / f"{result.job}-latest{path.suffix}").write_bytes(path.read_bytes())
    return json_path, html_path


def sides_map(sides: Sides) -> Mapping[str, SideSpec]:
    return sides.by_name()
