"""Tombstones (records deleted at the source) applied by the sync's delete policy.

``ignore`` counts them and leaves the target alone. ``hard`` deletes the target record through
the connector. ``soft`` marks it deleted: the target mapping's rendering of ``is_deleted`` (a flag
column, say) is written by upsert; a target mapping that cannot express deletion falls back to
the connector's own delete, which for Salesforce is the Recycle Bin (itself a soft delete).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from orchestrator.runner import pipeline
from orchestrator.runner.job import StreamJob
from orchestrator.runner.mapping_ctx import make_context

log = structlog.get_logger(__name__)


def apply_tombstones(job: StreamJob, tombstones: Sequence[str], outcome: pipeline.Outcome) -> None:
    if not tombstones:
        return
    outcome.add("tombstones", len(tombstones))
    if job.delete_policy == "ignore":
        return
    source, target = job.source, job.target
    cids = job.store.canonical_ids(source.system, source.object, tombstones)
    natives = job.store.native_ids(target.system, job.stream, list(cids.values()), object=target.object)
    keys = [natives[c] for c in cids.values() if c in natives]
    if not keys:
        return
    if job.options.dry_run:
        outcome.add("would_delete", len(keys))
        return
    marks = soft_delete_records(job, keys) if job.delete_policy == "soft" else None
    if marks:
        result = target.connector.write(target.object, marks, upsert_key=pipeline.upsert_key(target))
        failed = [r for r in result.results if r.error is not None]
    else:
        result = target.connector.write(target.object, [], deletes=keys)
        failed = [r for r in result.deleted if r.error is not None and r.error.code != "not_found"]
    outcome.add("deleted", len(keys) - len(failed))
    if failed:
        outcome.add("delete_failed", len(failed))
        codes = sorted({str(r.error.code) for r in failed if r.error})
        log.warning("sync.delete.failed", count=len(failed), codes=codes)


def soft_delete_records(job: StreamJob, keys: Sequence[str]) -> list[dict[str, Any]] | None:
    """Partial native records marking ``keys`` deleted, or None when the target mapping has no deletion marker.

    The marker is found by rendering an empty canonical record twice, deleted and not: the native
    fields that differ are how this target says "deleted".
    """
    target = job.target
    model = job.canonical_model
    ctx = make_context(target)
    try:
        alive = target.mapper.to_native(model.model_construct(is_deleted=False), ctx)
        dead = target.mapper.to_native(model.model_construct(is_deleted=True), ctx)
    except Exception:  # a mapping that needs real values to render: no generic marker
        return None
    marker = {k: v for k, v in dead.items() if alive.get(k) != v}
    key_field = pipeline.upsert_key(target) or getattr(target.mapper.spec, "key", None)
    if not marker or not key_field:
        return None
    return [{str(key_field): key, **marker} for key in keys]
