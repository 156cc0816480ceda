"""What a worker process needs from the project: its state store and a slice runtime (no celery here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.config.models import ProjectConfig
from orchestrator.executors.base import ExecutionSettings, Publisher
from orchestrator.executors.slices import SliceRuntime
from orchestrator.runner.services import Services
from orchestrator.state.store import StateStore


@dataclass(frozen=True, slots=True)
class ProjectContext:
    """A loaded crmsync.yaml and how slices are worked: opens stores and builds runtimes on demand.

    Nothing is opened when it is made, so a worker's parent process can hold one and fork
    children that each open their own connections.
    """

    config: ProjectConfig
    execution: ExecutionSettings
    services: Callable[[ProjectConfig], Services] = Services

    def open_store(self) -> StateStore:
        return self.config.open_state()

    def runtime(self, publisher: Publisher) -> SliceRuntime:
        return SliceRuntime(self.config, self.open_store(), self.services(self.config), self.execution, publisher)
