"""From config to running parts: connectors (with observed retry policies) and mapping sets.

Connectors are built per stream partition, never shared between threads: a connector may hold a
session or a database connection that is not thread-safe, and each stream thread owning its own
keeps the runner free of locks around I/O.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors import registry
from connectors.base import Connector, StreamSpec
from connectors.retry import RetryEvent, RetryPolicy
from orchestrator.config.models import ProjectConfig, SyncConfig
from orchestrator.errors import ConfigError
from orchestrator.runner.job import Side
from orchestrator.runner.retrying import observed


class Services:
    """Loads each system's mapping set once per run, and builds connectors on demand."""

    def __init__(self, config: ProjectConfig, *, load_mappings: Callable[[Path, Any], Any] | None = None,
                 context_factory: Callable[..., Any] | None = None) -> None:
        self.config = config
        self._load_mappings = load_mappings
        self._context_factory = context_factory
        self._mappings: dict[str, Any] = {}
        self._specs: dict[tuple[str, str], StreamSpec | None] = {}

    def mappings(self, system: str) -> Any:
        if system not in self._mappings:
            directory = self.config.mapping_dir(system)
            if directory is None:
                raise ConfigError(f"system {system!r} has no mappings directory", key=f"systems.{system}.mappings")
            self._mappings[system] = self._loader()(directory, self.config.registry())
        return self._mappings[system]

    def connector(self, system: str, retry: RetryPolicy) -> Connector:
        cfg = self.config.system(system)
        return registry.create(cfg.connector, dict(cfg.settings), retry)

    def retry_policy(self, sync: SyncConfig, on_retry: Callable[[RetryEvent], None]) -> RetryPolicy:
        return observed(self.config.retry_policy(sync), on_retry)

    def side(self, system: str, entity: str, connector: Connector) -> Side:
        """``system`` as seen by the ``entity`` stream: the mapper for that entity and its stream spec."""
        mapping_set = self.mappings(system)
        try:
            mapper = mapping_set.for_entity(entity)
        except KeyError:
            raise ConfigError(f"system {system!r} has no mapping for entity {entity}",
                              key=f"systems.{system}.mappings") from None
        obj = str(mapper.spec.object)
        return Side(system=system, connector=connector, mapper=mapper, mappers=mapping_set,
                    timezone=self.config.system(system).timezone, stream_spec=self.stream_spec(system, obj, connector),
                    context_factory=self._context())

    def stream_spec(self, system: str, obj: str, connector: Connector) -> StreamSpec | None:
        """The discovered spec of ``obj`` (cached per run: discovery can cost API calls)."""
        if (system, obj) not in self._specs:
            specs = {s.name: s for s in connector.discover()}
            for name, spec in specs.items():
                self._specs[(system, name)] = spec
            self._specs.setdefault((system, obj), None)
        return self._specs[(system, obj)]

    def references(self, sync: SyncConfig) -> dict[str, set[str]]:
        """entity -> entities its source mapping looks up (the order streams must run in)."""
        found: dict[str, set[str]] = {}
        for obj in sync.objects:
            refs: set[str] = set()
            for system in {sync.source, sync.target} if sync.direction == "two_way" else {sync.source}:
                try:
                    refs |= set(self.mappings(system).for_entity(obj.entity).references.values())
                except KeyError:  # reported when the stream starts, with the system's name
                    continue
            found[obj.entity] = refs
        return found

    def _loader(self) -> Callable[[Path, Any], Any]:
        if self._load_mappings is None:
            engine = importlib.import_module("mappings")  # needed only once a sync really runs

            self._load_mappings = engine.MappingSet.load
        return self._load_mappings

    def _context(self) -> Callable[..., Any]:
        if self._context_factory is None:
            self._context_factory = importlib.import_module("mappings").MappingContext
        return self._context_factory
