"""The project config (crmsync.yaml): pydantic models, the loader with file:line errors, secrets."""

from orchestrator.config.loader import load_config
from orchestrator.config.models import (
    CanonicalConfig,
    ExecutorConfig,
    ObjectConfig,
    ProjectConfig,
    ReconciliationConfig,
    ResolutionConfig,
    RetryConfig,
    StateConfig,
    SyncConfig,
    SystemConfig,
)

DEFAULT_CONFIG = "crmsync.yaml"

__all__ = [
    "DEFAULT_CONFIG", "CanonicalConfig", "ExecutorConfig", "ObjectConfig", "ProjectConfig", "ReconciliationConfig",
    "ResolutionConfig", "RetryConfig", "StateConfig", "SyncConfig", "SystemConfig", "load_config",
]
