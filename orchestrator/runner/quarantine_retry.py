"""``quarantine retry``: kept payloads re-run through the CURRENT mapping and the target write.

Each quarantined record kept the source record it came from; after a mapping fix it goes through
the same pipeline as a sync batch (map, ids, references, target mapping, upsert) and is committed
the same way, under the stream's lease. Records that land are marked resolved; the others stay
open with one more attempt counted. Read-stage records (a broken CSV line) cannot be re-mapped
from their raw text and stay as they are: fix the source and sync again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from connectors.base import Batch, Connector
from orchestrator.config.models import ProjectConfig
from orchestrator.errors import ConfigError
from orchestrator.runner import pipeline
from orchestrator.runner.checkpoint import PartitionResult, commit
from orchestrator.runner.job import RunOptions
from orchestrator.runner.killpoints import KillSwitch
from orchestrator.runner.observe import NullObserver
from orchestrator.runner.services import Services
from orchestrator.runner.streams import LEASE_TTL_S, build_job, owner_id
from orchestrator.state.store import StateStore
from orchestrator.state.types import QuarantineRecord

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class RetryReport:
    resolved: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # read-stage records: nothing to re-map


def retry_quarantine(config: ProjectConfig, store: StateStore, *, ids: Sequence[int] | None = None,
                     sync: str | None = None, reason: str | None = None, services: Services | None = None,
                     batch_size: int = 500) -> RetryReport:
    """Retry open quarantine records (all, of one sync, by id, or of one reason code)."""
    services = services or Services(config)
    report = RetryReport()
    groups: dict[tuple[str, str], list[QuarantineRecord]] = defaultdict(list)
    for chunk in store.iter_quarantine(sync=sync, ids=list(ids) if ids else None, status="open",
                                       batch_size=batch_size):
        for item in chunk:
            if reason is not None and reason not in {r.code for r in item.reasons}:
                continue
            if item.stage == "read" or not item.payload:
                report.skipped.append(item.id)
                continue
            groups[(item.sync, item.stream)].append(item)
    for (sync_name, stream), items in groups.items():
        for at in range(0, len(items), batch_size):
            _retry_group(config, store, services, sync_name, stream, items[at:at + batch_size], report)
    return report


def _retry_group(config: ProjectConfig, store: StateStore, services: Services, sync_name: str, stream: str,
                 items: list[QuarantineRecord], report: RetryReport) -> None:
    sync = config.sync(sync_name)
    obj = next((o for o in sync.objects if o.entity == stream), None)
    if obj is None:
        raise ConfigError(f"sync {sync_name!r} no longer has stream {stream!r}", key=f"syncs.{sync_name}.objects")
    run_id = store.start_run(sync_name, "retry", {"stream": stream, "quarantine_ids": [i.id for i in items]})
    options = RunOptions(run_id, datetime.now(UTC))
    opened: list[Connector] = []
    status = "failed"
    with structlog.contextvars.bound_contextvars(run_id=run_id, sync=sync_name, stream=stream):
        try:
            job = build_job(config, store, services, sync_name, obj, options, NullObserver(), KillSwitch({}), opened)
            lease = store.acquire_lease(sync_name, stream, "0", owner_id() + ":" + uuid.uuid4().hex[:6], LEASE_TTL_S)
            if lease is None:
                raise ConfigError("a sync run holds this stream's lease; retry when it has finished",
                                  key=f"syncs.{sync_name}")
            try:
                outcome = pipeline.Outcome()
                pipeline.map_source(job, Batch(records=[dict(i.payload or {}) for i in items]), outcome)
                pipeline.write_target(job, pipeline.to_target(job, outcome.rows, outcome), outcome)
                commit(job, lease, outcome, None, PartitionResult(done=True))
            finally:
                store.release_lease(lease)
            landed = set(outcome.resolved_keys)
            ok = [i.id for i in items if i.native_key in landed]
            bad = [i.id for i in items if i.native_key not in landed]
            store.mark_quarantine(ok, "resolved")
            store.bump_attempts(bad)
            report.resolved += ok
            report.failed += bad
            status = "succeeded" if not bad else "partial"
            log.info("quarantine.retried", resolved=len(ok), failed=len(bad))
        finally:
            for connector in opened:
                connector.close()
            store.finish_run(run_id, status, {"resolved": len(report.resolved), "failed": len(report.failed)})
