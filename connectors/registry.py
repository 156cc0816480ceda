"""Finds connectors through the ``crmsync.connectors`` entry-point group, built-ins included.

Built-in connectors are registered in pyproject.toml exactly as a third-party package would
register its own, so there is one way in and nothing is registered at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, cast

from pydantic import ValidationError

from connectors.base import Connector, ConnectorFactory
from connectors.errors import ConfigurationError
from connectors.retry import RetryPolicy

GROUP = "crmsync.connectors"


@dataclass(frozen=True, slots=True)
class RegisteredConnector:
    """An entry point, named by connector type, and the distribution that provides it."""

    type_name: str
    target: str
    distribution: str | None
    entry_point: EntryPoint

    def load(self) -> ConnectorFactory:
        return cast(ConnectorFactory, self.entry_point.load())


def available() -> dict[str, RegisteredConnector]:
    """Every connector type installed in this environment, by type name."""
    found: dict[str, RegisteredConnector] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist is not None else None
        found.setdefault(ep.name, RegisteredConnector(ep.name, ep.value, dist, ep))
    return dict(sorted(found.items()))


def get(type_name: str) -> ConnectorFactory:
    """The connector class registered as ``type_name``; a ConfigurationError names what exists."""
    registered = available()
    if type_name not in registered:
        known = ", ".join(registered) or "none"
        raise ConfigurationError(f"unknown connector type {type_name!r} (installed: {known})")
    return registered[type_name].load()


def create(type_name: str, settings: dict[str, Any], retry: RetryPolicy) -> Connector:
    """Validate ``settings`` against the connector's config model and construct it."""
    factory = get(type_name)
    try:
        config = factory.config_model.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(settings)"
        raise ConfigurationError(f"{type_name} settings: {where}: {first['msg']}") from exc
    return factory(config, retry)
