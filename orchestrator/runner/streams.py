"""One stream of a local run: lease, partition loop, and how the stream ended (never a stack trace).

Every way a stream can stop maps to a status and one sentence: a spent API budget is ``partial``
("stopped for the API budget"), a cancel is ``cancelled``, a lost lease or any error is
``failed`` with its reason; the other streams of the run go on regardless.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from connectors.base import Connector
from connectors.errors import AuthenticationError, BudgetExhaustedError, ConfigurationError, ConnectorError
from connectors.retry import RetryEvent
from mappings.errors import MappingSpecError
from orchestrator.config.models import ObjectConfig, ProjectConfig, SyncConfig
from orchestrator.errors import ConfigError, one_line
from orchestrator.runner.conflicts import ConflictRules
from orchestrator.runner.job import RunOptions, StreamJob
from orchestrator.runner.killpoints import KillSwitch
from orchestrator.runner.linking import link_stream
from orchestrator.runner.observe import RunObserver, StreamReport
from orchestrator.runner.partition import PartitionResult, run_partition
from orchestrator.runner.record_filter import RecordFilter
from orchestrator.runner.services import Services
from orchestrator.state.store import StateStore
from orchestrator.state.types import StaleLeaseError

log = structlog.get_logger(__name__)
BUDGET_REASON = "stopped for the API budget"
LEASE_TTL_S = 300.0  # several batch durations: a live worker renews it with every checkpoint
CONFIG_ERRORS = (ConfigError, ConfigurationError, MappingSpecError, AuthenticationError)


@dataclass(slots=True)
class StreamOutcome:
    """How one stream of a run ended, with its counts, conflicts and (dry run) preview."""

    stream: str
    status: str = "succeeded"
    reason: str = ""  # for people (run history, summary): may quote a vendor's message
    log_reason: str = ""  # for log lines: never a value (see log_reason)
    code: str = ""
    config_problem: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def owner_id() -> str:
    """The lease owner of a local run: this host, so a run restarted after a crash takes its lease back
    at once (with a new epoch that fences the dead process) instead of waiting out the TTL."""
    return f"local:{socket.gethostname()}"


def run_stream(config: ProjectConfig, store: StateStore, services: Services, sync_name: str, obj: ObjectConfig,
               options: RunOptions, observer: RunObserver, kill: KillSwitch) -> StreamOutcome:
    """Run one stream to its end, in the calling thread, with ``stream`` bound in the log context."""
    outcome = StreamOutcome(obj.entity)
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(run_id=options.run_id, sync=sync_name, stream=obj.entity):
        log.info("stream.started")
        observer.stream_started(sync_name, obj.entity)
        connectors: list[Connector] = []
        try:
            job = build_job(config, store, services, sync_name, obj, options, observer, kill, connectors)
            if obj.link_only:
                link_stream(job, outcome.counts, obj.match_on)
            else:
                _loop(job, outcome)
        except Exception as exc:  # every failure becomes this stream's status; others go on
            _failed(outcome, exc, sync_name)
        finally:
            for connector in connectors:
                _close(connector)
        outcome.seconds = time.perf_counter() - started
        if not options.dry_run:
            store.record_stream(options.run_id, obj.entity, status=outcome.status, error=outcome.reason or None)
        shown = ("read", "written", "quarantined", "deleted", "conflicts", "skipped", "filtered", "not_created")
        log.info("stream.finished", status=outcome.status, reason=outcome.log_reason or None,
                 seconds=round(outcome.seconds, 3), **{k: v for k, v in outcome.counts.items() if k in shown})
        observer.stream_finished(StreamReport(sync_name, obj.entity, outcome.status, outcome.reason, outcome.code,
                                              outcome.seconds))
    return outcome


def build_job(config: ProjectConfig, store: StateStore, services: Services, sync_name: str, obj: ObjectConfig,
              options: RunOptions, observer: RunObserver, kill: KillSwitch, opened: list[Connector]) -> StreamJob:
    sync = config.sync(sync_name)

    def on_retry(event: RetryEvent) -> None:
        observer.retry_scheduled(sync_name, obj.entity, event)

    policy = services.retry_policy(sync, on_retry)
    source_conn = services.connector(sync.source, policy)
    opened.append(source_conn)
    target_conn = services.connector(sync.target, policy)
    opened.append(target_conn)
    rules = sync.resolution()
    return StreamJob(
        sync=sync_name, stream=obj.entity, source=services.side(sync.source, obj.entity, source_conn),
        target=services.side(sync.target, obj.entity, target_conn), store=store, options=options,
        batch_size=obj.batch_size or sync.batch_size, delete_policy=obj.delete_policy or sync.delete_policy,
        two_way=sync.direction == "two_way", conflicts=ConflictRules(rules.default, dict(rules.fields)),
        observer=observer, kill=kill, canonical_model=config.registry().get(obj.entity),
        record_filter=RecordFilter.from_config(obj.filter),
        create_in=None if obj.create_in is None else tuple(obj.create_in))


def _loop(job: StreamJob, outcome: StreamOutcome) -> None:
    lease = None
    if not job.options.dry_run:
        lease = job.store.acquire_lease(job.sync, job.stream, "0", owner_id(), LEASE_TTL_S)
        if lease is None:
            raise ConfigError("another run holds this stream's lease (is a sync already running?)",
                              key=f"syncs.{job.sync}")
    else:
        lease = _dry_lease(job)
    try:
        while True:
            result = run_partition(job, lease)
            _absorb(outcome, result)
            if result.cancelled:
                outcome.status, outcome.reason = "cancelled", "cancel requested"
                outcome.log_reason = outcome.reason
                return
            if result.done:
                return
    finally:
        if not job.options.dry_run:
            job.store.release_lease(lease)


def _dry_lease(job: StreamJob) -> Any:
    from datetime import UTC, datetime

    from orchestrator.state.types import Lease

    return Lease(job.sync, job.stream, "0", "dry-run", 0, datetime.now(UTC), 0.0)


def _absorb(outcome: StreamOutcome, result: PartitionResult) -> None:
    for k, v in result.counts.items():
        outcome.counts[k] = outcome.counts.get(k, 0) + v
    outcome.conflicts += result.conflicts
    outcome.preview += result.preview


def _failed(outcome: StreamOutcome, exc: Exception, sync_name: str) -> None:
    outcome.reason = one_line(exc)
    outcome.code = str(getattr(exc, "code", "") or type(exc).__name__)
    if isinstance(exc, BudgetExhaustedError):
        outcome.status, outcome.reason = "partial", BUDGET_REASON
        outcome.log_reason = BUDGET_REASON
        log.warning("stream.budget_exhausted", used=exc.used, limit=exc.limit)
        return
    outcome.status = "failed"
    outcome.config_problem = isinstance(exc, CONFIG_ERRORS)
    if isinstance(exc, StaleLeaseError):
        outcome.reason = outcome.log_reason = "the lease was taken over by another worker; stopped"
        log.error("stream.lease_lost")
        return
    outcome.log_reason = log_reason(exc, outcome.code)
    event = "auth.failed" if isinstance(exc, AuthenticationError) else "stream.failed"
    log.error(event, error_code=outcome.code, error_type=type(exc).__name__, reason=outcome.log_reason)
    if not isinstance(exc, ConnectorError | ConfigError | MappingSpecError):
        log.debug("stream.failed.traceback", exc_info=exc)  # a stack trace may quote values: debug level only


def log_reason(exc: Exception, code: str) -> str:
    """The failure as a log line may carry it: our own config and mapping errors say where and why and hold no
    record values; a vendor's or driver's message may quote values (Salesforce and PostgreSQL both do), so
    only its type and code are logged. The full sentence is kept in the run history for people."""
    if isinstance(exc, ConfigError | MappingSpecError):
        return one_line(exc)
    return f"{type(exc).__name__} {code}".strip()


def _close(connector: Connector) -> None:
    try:
        connector.close()
    except Exception:  # closing must never hide the stream's real outcome
        log.warning("connector.close_failed", connector=type(connector).__name__)


def stream_objects(sync: SyncConfig, only: str | None) -> list[ObjectConfig]:
    objs = [o for o in sync.objects if only is None or o.entity == only]
    if not objs:
        known = ", ".join(o.entity for o in sync.objects)
        raise ConfigError(f"the sync has no stream {only!r} (streams: {known})", key="--stream")
    return objs
