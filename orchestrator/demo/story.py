"""The demo's steps, in the order a person would take them, and the numbers they produce."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from connectors.testdata import Dataset, GeneratorConfig
from orchestrator import logging as crmlog
from orchestrator.config import load_config
from orchestrator.demo.project import CLIENT_ID_ENV, CLIENT_SECRET_ENV, write_project
from orchestrator.demo.servers import DemoSandbox
from orchestrator.reconcile.run import run_job
from orchestrator.runner import RunSummary, run_sync

log = structlog.get_logger(__name__)
SYNC, JOB = "erp-crm", "weekly"
FRESH = ("sandbox.db", "sandbox", "erp.db", ".crmsync", "reports", "logs", "ground_truth.json")


@dataclass
class DemoResult:
    """What the summary prints: paths, the sync's counts, findings and coverage."""

    directory: Path
    config: Path
    log_file: Path
    sync: RunSummary | None = None
    reconcile: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)

    def timing_line(self) -> str:
        """Where the time went, one phase after another: what a person reads to see which part is slow."""
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.steps)


def prepare(directory: Path) -> Path:
    """Empty the demo directory of a previous run's data (a second run tells the same story)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in FRESH:
        target = directory / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    (directory / "logs").mkdir()
    return directory / "logs" / "crmsync.log"


def run_demo(directory: Path, *, accounts: int = 10_000, seed: int = 7) -> DemoResult:
    """Run the whole story; servers started here are stopped before returning."""
    started = time.perf_counter()
    directory = directory.resolve()
    log_file = prepare(directory)
    with log_file.open("a") as log_stream:
        crmlog.configure(json=True, stream=log_stream)
        result = _story(directory, log_file, accounts=accounts, seed=seed)
        result.seconds = time.perf_counter() - started
        log.info("demo.finished", seconds=round(result.seconds, 2), phases=result.timing_line())
    return result


def _story(directory: Path, log_file: Path, *, accounts: int, seed: int) -> DemoResult:
    steps: list[tuple[str, float]] = []
    clock = time.perf_counter()

    def step(name: str) -> None:
        """Record the wall time since the previous step (the summary's per-phase line), and log it."""
        nonlocal clock
        now = time.perf_counter()
        steps.append((name, now - clock))
        log.info("demo.step", step=name, seconds=round(now - clock, 2),
                 process_cpu_seconds=round(time.process_time(), 2))
        clock = now

    # Data dated up to today, so "recent activity" and the sync lag mean what they say.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    options: dict[str, Any] = {"accounts": accounts, "base_time": today}
    with DemoSandbox(directory, seed=seed, options=options) as sandbox:
        dataset = Dataset(GeneratorConfig(seed=seed, defects=True, **options))
        dataset.load_erp(f"sqlite:///{directory / 'erp.db'}")
        dataset.write_ground_truth(directory / "ground_truth.json")
        step("ERP database built")
        urls = sandbox.wait_ready()
        step("Salesforce sandbox seeded")
        config_path = write_project(directory, login_url=urls.http, ca_bundle=urls.ca_path)
        os.environ.setdefault(CLIENT_ID_ENV, DEFAULT_CLIENT_ID)
        os.environ.setdefault(CLIENT_SECRET_ENV, DEFAULT_CLIENT_SECRET)
        project = load_config(config_path)
        result = DemoResult(directory, config_path, log_file, steps=steps)
        with project.open_state() as store:
            result.sync = run_sync(project, store, SYNC)
            step("two-way sync")
            result.reconcile = run_job(project, store, JOB).summary()
            step("reconciliation")
    return result
