"""Link-only entities: match records of both systems and record the match, writing nothing.

Record owners are the usual case: ERP employees and Salesforce users are the same people, and
accounts on either side reference them, but a sync must never create users. A link-only entity is
read on both sides, matched on the configured canonical fields (case-insensitive, trimmed), and
each match goes into the ID cross-reference so references resolve. Unmatched records are counted
and left alone; reconciliation reports them. Users are a small table, so the target's keys are
held in memory while the source streams by.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import structlog

from orchestrator.runner.job import Side, StreamJob
from orchestrator.runner.mapping_ctx import make_context

log = structlog.get_logger(__name__)
FLUSH = 500


def link_stream(job: StreamJob, counts: dict[str, int], match_on: Sequence[str]) -> None:
    """Match the job's entity across both systems on ``match_on`` and link the pairs."""
    index: dict[tuple[str, ...], str] = {}
    for native_key, canonical in _canonical(job.target):
        key = match_key(canonical, match_on)
        if key is not None:
            index.setdefault(key, native_key)
    pairs: list[tuple[str, str]] = []
    for native_key, canonical in _canonical(job.source):
        counts["read"] = counts.get("read", 0) + 1
        target_key = index.get(match_key(canonical, match_on) or ())
        if target_key is None:
            counts["unmatched"] = counts.get("unmatched", 0) + 1
            continue
        pairs.append((native_key, target_key))
        if len(pairs) >= FLUSH:
            _record(job, pairs, counts)
    _record(job, pairs, counts)
    log.info("stream.linked", linked=counts.get("linked", 0), unmatched=counts.get("unmatched", 0))


def match_key(canonical: Any, fields: Sequence[str]) -> tuple[str, ...] | None:
    """The normalised values of ``fields``; None when any is empty (an empty value matches nothing)."""
    values = []
    for name in fields:
        value = getattr(canonical, name, None)
        text = "" if value is None else str(value).strip().casefold()
        if not text:
            return None
        values.append(text)
    return tuple(values)


def _canonical(side: Side) -> Iterator[tuple[str, Any]]:
    context = make_context(side)
    for batch in side.connector.read(side.object):
        good, _ = side.mapper.map_batch(batch.records, context)
        for index, canonical in good:
            yield side.mapper.native_key(batch.records[index]), canonical


def _record(job: StreamJob, pairs: list[tuple[str, str]], counts: dict[str, int]) -> None:
    if not pairs or job.options.dry_run:
        pairs.clear()
        return
    source, target, entity = job.source, job.target, job.stream
    canonical = job.store.ensure_canonical_ids(source.system, source.object, entity, [s for s, _ in pairs])
    for source_key, target_key in pairs:
        job.store.link(target.system, target.object, target_key, canonical[source_key], entity)
    counts["linked"] = counts.get("linked", 0) + len(pairs)
    pairs.clear()
