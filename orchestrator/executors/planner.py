"""The planner: a sync run becomes partitions in the state store and the first slice of each.

Streams that look up other streams of the run (contacts reference accounts) are registered as
``waiting`` and released when their parents end, exactly the order the local runner keeps. Key
layouts are sticky: a stream is cut like its last partitioned run when the count is unchanged,
so each partition resumes from its own cursor; otherwise the source is sampled once (one read).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from connectors.base import Connector, Cursor
from orchestrator.config.models import ObjectConfig, ProjectConfig, SyncConfig
from orchestrator.errors import ConfigError
from orchestrator.executors.base import RunRequest, SliceTask
from orchestrator.executors.splits import key_ranges, partition_id, sample_split_points, time_windows
from orchestrator.runner.services import Services
from orchestrator.runner.streams import stream_objects
from orchestrator.state.partitions import NewPartition, PartitionBook, last_layout
from orchestrator.state.store import StateStore

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class PlannedRun:
    """A run as planned: its id and the slices to publish now (streams without parents)."""

    run_id: str
    sync: str
    tasks: list[SliceTask] = field(default_factory=list)
    partitions: int = 0


def plan_run(config: ProjectConfig, store: StateStore, services: Services, sync_name: str, request: RunRequest,
             *, executor: str) -> PlannedRun:
    """Record a new run and its partitions; return the slices to publish first."""
    sync = config.sync(sync_name)
    objects = stream_objects(sync, request.stream)
    layouts = {o.entity: _layout(config, store, services, sync_name, sync, o, request) for o in objects}
    names = set(layouts)
    parents = {s: sorted(p & names - {s}) for s, p in services.references(sync).items() if s in names}
    params = {"executor": executor, "partitions": request.partitions, "by": request.by, "stream": request.stream,
              "full_refresh": request.full_refresh, "parents": parents,
              "layout": {s: len(b) for s, b in layouts.items()}}
    run_id = store.start_run(sync_name, "sync", params)
    for obj in objects:
        if request.full_refresh or (obj.mode or sync.mode) == "full":
            store.reset_cursor(sync_name, obj.entity)
    parts = [NewPartition(stream, partition_id(kind, i, b), kind, b, i)
             for stream, (kind, bounds) in layouts.items() for i, b in enumerate(bounds)]
    waiting = {s for s, p in parents.items() if p}
    PartitionBook(store).register(run_id, sync_name, parts, waiting=waiting)
    for stream in layouts:
        store.plan_partitions(run_id, sync_name, stream, {p.partition: p.bounds for p in parts if p.stream == stream})
    tasks = [SliceTask(run_id, sync_name, p.stream, p.partition) for p in parts if p.stream not in waiting]
    log.info("run.planned", run_id=run_id, sync=sync_name, executor=executor, partitions=len(parts),
             streams={s: len(b) for s, (_, b) in layouts.items()}, waiting=sorted(waiting))
    return PlannedRun(run_id, sync_name, tasks, len(parts))


Layout = tuple[str, list[dict[str, Any] | None]]


def _layout(config: ProjectConfig, store: StateStore, services: Services, sync_name: str, sync: SyncConfig,
            obj: ObjectConfig, request: RunRequest) -> Layout:
    if sync.direction == "two_way" or request.single:
        return "all", [None]  # two-way streams compare both sides in one pass: never split
    if request.by == "time":
        return "time", list(_time_layout(store, sync_name, obj, request))
    if request.split_points:
        return "key", list(key_ranges(request.split_points))
    previous = last_layout(store, sync_name, obj.entity, "key")
    if len(previous) == request.partitions:
        log.info("plan.layout_reused", stream=obj.entity, partitions=len(previous))
        return "key", previous
    return "key", list(key_ranges(_sampled_points(config, services, sync, obj, request.partitions)))


def _time_layout(store: StateStore, sync_name: str, obj: ObjectConfig, request: RunRequest) -> list[dict[str, Any]]:
    lower = request.since
    if lower is None and not request.full_refresh:
        lower = _cursor_time(store.get_cursor(sync_name, obj.entity, "0"))
    if lower is None:
        raise ConfigError(f"stream {obj.entity} has no cursor to start time windows from; give --since",
                          key="--since")
    lower = lower if lower.tzinfo else lower.replace(tzinfo=UTC)
    return time_windows(lower, datetime.now(UTC), request.partitions)


def _cursor_time(checkpoint: Mapping[str, Any] | None) -> datetime | None:
    cursor = Cursor.from_json((checkpoint or {}).get("source"))
    value = cursor.value if cursor is not None else None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime) else None


def _sampled_points(config: ProjectConfig, services: Services, sync: SyncConfig, obj: ObjectConfig,
                    partitions: int) -> list[Any]:
    """One read of the source (every record, no cursor) sampling its primary keys."""
    connector = services.connector(sync.source, config.retry_policy(sync))
    try:
        side = services.side(sync.source, obj.entity, connector)
        spec = side.stream_spec
        if spec is None or not spec.primary_key:
            raise ConfigError(f"cannot split {obj.entity}: the source does not say its primary key; "
                              "give --split-points", key="--partitions")
        points = sample_split_points(_records(connector, side.object), spec.primary_key[0], partitions)
    finally:
        connector.close()
    log.info("plan.sampled", stream=obj.entity, partitions=len(points) + 1)
    return points


def _records(connector: Connector, obj: str) -> Iterator[dict[str, Any]]:
    for batch in connector.read(obj):
        yield from batch.records
