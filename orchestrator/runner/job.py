"""Everything one stream partition needs, resolved once: systems, connectors, mappers, options.

A ``StreamJob`` is built from the config for one (sync, stream, direction) and handed to the
pipeline; it holds no state that outlives the partition call, so a worker on another machine can
build the same job from the same config and state store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.base import Connector, ReadRange, StreamSpec
from mappings.canonical import CanonicalModel
from orchestrator.runner.conflicts import ConflictRules
from orchestrator.runner.killpoints import KillSwitch
from orchestrator.runner.observe import NullObserver, RunObserver
from orchestrator.runner.ports import Mapper
from orchestrator.runner.record_filter import RecordFilter
from orchestrator.state.store import StateStore


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How this run was asked for (CLI flags), and when it started."""

    run_id: str
    started_at: datetime
    dry_run: bool = False
    full_refresh: bool = False
    ids: tuple[str, ...] = ()  # only these records (native ids of the source, or canonical ids)


@dataclass(frozen=True, slots=True)
class Side:
    """One system of a sync as a stream sees it: its name, connector, mapper and time zone."""

    system: str
    connector: Connector
    mapper: Mapper
    mappers: Any  # the system's whole mapping set, to find the object of a referenced entity
    timezone: str | None = None
    stream_spec: StreamSpec | None = None  # as the connector discovered it (cursor field and its type)
    context_factory: Callable[..., Any] | None = None  # the mapping engine's MappingContext class

    @property
    def object(self) -> str:
        return str(self.mapper.spec.object)

    def object_of(self, entity: str) -> str | None:
        try:
            return str(self.mappers.for_entity(entity).spec.object)
        except KeyError:  # an entity this system does not map: nothing to look up there
            return None


@dataclass(slots=True)
class StreamJob:
    """One stream of one sync in one direction, with the services to run it."""

    sync: str
    stream: str  # the canonical entity
    source: Side
    target: Side
    store: StateStore
    options: RunOptions
    batch_size: int = 1000
    delete_policy: str = "ignore"
    two_way: bool = False
    conflicts: ConflictRules = field(default_factory=ConflictRules)
    observer: RunObserver = field(default_factory=NullObserver)
    kill: KillSwitch = field(default_factory=lambda: KillSwitch({}))
    canonical_model: type[CanonicalModel] = CanonicalModel
    # A partition's key range or time window (distributed executors); None reads the whole stream.
    read_range: ReadRange | None = None
    record_filter: RecordFilter | None = None  # the object's filter: records outside it are not moved
    create_in: tuple[str, ...] | None = None  # systems where records may be created (None: anywhere)
