"""Checks that need the whole config (and, optionally, this machine): names that must resolve.

Each problem carries the key path it is about, so the loader can point at the right line.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

import mappings
from connectors import registry as connector_registry
from mappings.errors import MappingSpecError
from orchestrator.config import secrets as sec
from orchestrator.config.models import RESOLUTION_STRATEGIES, ProjectConfig, ResolutionConfig

Path_ = tuple[str | int, ...]
SHIPPED_SPECS = Path(mappings.__file__).parent / "specs"


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path_
    message: str


SHIPPED_FOR_TYPE = {"sql": "erp"}
"""A connector type whose shipped specs live under another name: SQL systems start from the demo ERP's."""


def shipped_mappings(connector_type: str) -> Path | None:
    """The specs crmsync ships for a connector type, if it ships any."""
    candidate = SHIPPED_SPECS / SHIPPED_FOR_TYPE.get(connector_type, connector_type)
    return candidate if candidate.is_dir() else None


def check(config: ProjectConfig, *, check_environment: bool) -> list[Problem]:
    problems = _canonical(config)
    if problems:
        return problems  # entity checks below need a valid registry
    problems += _syncs(config) + _reconciliations(config)
    if check_environment:
        problems += _systems(config)
    return problems


def _canonical(config: ProjectConfig) -> list[Problem]:
    try:
        config.registry()
    except MappingSpecError as exc:
        parts = tuple((exc.key or "").split("."))
        return [Problem(("canonical", "extensions", *[p for p in parts if p]), exc.message)]
    return []


def _entity_problem(config: ProjectConfig, entity: str, path: Path_) -> list[Problem]:
    names = config.registry().names()
    if entity in names:
        return []
    return [Problem(path, f"unknown canonical entity {entity!r} (known: {', '.join(names)})")]


def _system_problem(config: ProjectConfig, name: str, path: Path_) -> list[Problem]:
    if name in config.systems:
        return []
    known = ", ".join(sorted(config.systems)) or "none defined"
    return [Problem(path, f"unknown system {name!r} (systems: {known})")]


def _strategy_problems(rules: ResolutionConfig, systems: tuple[str, str], path: Path_) -> list[Problem]:
    allowed = (*systems, *RESOLUTION_STRATEGIES)
    found = []
    for key, value in rules.strategies().items():
        if value not in allowed:
            where = (*path, *key.split(".", 1))
            found.append(Problem(where, f"{value!r} is not a rule here: use one of {', '.join(allowed)}"))
    return found


def _syncs(config: ProjectConfig) -> list[Problem]:
    found: list[Problem] = []
    for name, sync in config.syncs.items():
        base: Path_ = ("syncs", name)
        found += _system_problem(config, sync.source, (*base, "from"))
        found += _system_problem(config, sync.target, (*base, "to"))
        for i, obj in enumerate(sync.objects):
            found += _entity_problem(config, obj.entity, (*base, "objects", i))
            for system in obj.create_in or ():
                if system not in (sync.source, sync.target):
                    found.append(Problem((*base, "objects", i, "create_in"),
                                         f"{system!r} is not a system of this sync ({sync.source}, {sync.target})"))
            if obj.filter and obj.entity in config.registry().names():
                found += _filter_problems(config.registry().get(obj.entity), obj.filter,
                                          (*base, "objects", i, "filter"))
        if sync.conflict is not None:
            found += _strategy_problems(sync.conflict, (sync.source, sync.target), (*base, "conflict"))
            found += _field_problems(config, [o.entity for o in sync.objects], sync.conflict.fields,
                                     (*base, "conflict", "fields"))
    return found


def _filter_problems(model: type[BaseModel], spec: dict[str, Any], path: Path_) -> list[Problem]:
    """Each filter key must name a canonical field of the entity (dotted into groups: billing_address.city)."""
    found = []
    for name in spec:
        current: type[BaseModel] | None = model
        for part in name.split("."):
            if current is None or part not in current.model_fields:
                found.append(Problem((*path, name), f"{model.__name__} has no canonical field {name!r}"))
                break
            current = model_of(current.model_fields[part].annotation)
    return found


def _job_settings_problems(settings: dict[str, Any], path: Path_) -> list[Problem]:
    """A reconciliation's inline settings, checked as the job will read them (first mistake only)."""
    from orchestrator.reconcile.run import JobSettings  # the reconcile layer: imported only when used

    try:
        JobSettings.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        return [Problem((*path, *first["loc"]), first["msg"])]
    return []


def _field_problems(config: ProjectConfig, entities: list[str], fields: dict[str, Any], path: Path_) -> list[Problem]:
    known: set[str] = set()
    for entity in entities:
        if entity in config.registry().names():
            known |= set(config.registry().get(entity).model_fields)
    return [Problem((*path, f), f"no entity of this job has a field {f!r}") for f in fields if known and f not in known]


def _reconciliations(config: ProjectConfig) -> list[Problem]:
    found: list[Problem] = []
    for name, rec in config.reconciliations.items():
        base: Path_ = ("reconciliations", name)
        found += _system_problem(config, rec.left, (*base, "left"))
        found += _system_problem(config, rec.right, (*base, "right"))
        for i, entity in enumerate(rec.entities):
            found += _entity_problem(config, entity, (*base, "entities", i))
        for entity, keys in rec.match.items():
            found += _field_problems(config, [entity], dict.fromkeys(keys), (*base, "match", entity))
        if rec.survivorship is not None:
            found += _strategy_problems(rec.survivorship, (rec.left, rec.right), (*base, "survivorship"))
        if rec.settings is not None:
            found += _job_settings_problems(rec.settings, (*base, "settings"))
    return found


def _systems(config: ProjectConfig) -> list[Problem]:
    found: list[Problem] = []
    installed = connector_registry.available()
    for name, system in config.systems.items():
        base: Path_ = ("systems", name)
        if system.connector not in installed:
            known = ", ".join(installed) or "none"
            found.append(Problem((*base, "connector"),
                                 f"connector type {system.connector!r} is not installed (installed: {known})"))
            continue
        if system.mappings is not None and not system.mappings.is_dir():
            found.append(Problem((*base, "mappings"), f"mapping directory {system.mappings} does not exist"))
        if system.mappings is None:
            system.mappings = shipped_mappings(system.connector)
        found += _settings(system.connector, system.settings, base, config.base_dir)
    return found


def _settings(connector_type: str, settings: dict[str, Any], base: Path_, base_dir: Path) -> list[Problem]:
    """Validate a system's settings against its connector's config model, before any connection."""
    try:
        model = getattr(connector_registry.get(connector_type), "config_model", None)
    except Exception as exc:  # a plugin that fails to import: say so, at the connector key
        return [Problem((*base, "connector"), f"connector type {connector_type!r} cannot be loaded: {exc}")]
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    _resolve_paths(settings, sec.path_fields(model), base_dir)
    try:
        model.model_validate(settings)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if isinstance(p, int) or p in _flat_keys(settings))
        message = "unknown setting" if err["type"] == "extra_forbidden" else str(err["msg"])
        if err["type"] == "missing":
            message = "this required setting is missing"
            loc = tuple(err["loc"])
        return [Problem((*base, "settings", *loc), f"{connector_type}: {message.removeprefix('Value error, ')}")]
    return []


def _resolve_paths(settings: dict[str, Any], names: set[str], base_dir: Path) -> None:
    """Relative paths in settings (key files, CA bundles) are relative to the config file, in place."""
    for key, value in settings.items():
        if isinstance(value, dict):
            _resolve_paths(value, names, base_dir)
        elif key in names and isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            settings[key] = str(base_dir / value)


def _flat_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _flat_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _flat_keys(v)}
    return set()


def child_type(annotation: Any, part: str | int) -> Any:
    """The type one step down ``annotation`` (a model field, a dict value, a list item), or None."""
    model = model_of(annotation)
    if model is not None:
        for name, info in model.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    return None


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``X``, ``X | None``), if there is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_of(arg) if arg is not type(None) else None
        if found is not None:
            return found
    return None
