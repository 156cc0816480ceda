"""``load_config(path)``: read crmsync.yaml, validate it once, and say exactly where it is wrong.

Every error is one ConfigError rendered ``file:line: key.path: message``; the first error in the
file (by line) is reported, so fixing errors top to bottom works.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from connectors import registry as connector_registry
from orchestrator.config import references, yamlnodes
from orchestrator.config import secrets as sec
from orchestrator.config.models import ProjectConfig
from orchestrator.errors import ConfigError
from orchestrator.logging import MASKER, SecretMasker

Path_ = yamlnodes.Path_


def load_config(path: Path | str, *, environ: Mapping[str, str] | None = None, check_environment: bool = True,
                sections: Collection[str] | None = None, masker: SecretMasker = MASKER) -> ProjectConfig:
    """Load and validate a project config.

    ``environ`` replaces ``os.environ`` for ``${VAR}`` (tests). ``check_environment`` also checks
    what depends on this machine: connector types installed, mapping directories present, each
    system's settings valid for its connector. ``sections`` reads only those top-level sections
    (e.g. ``{"state"}`` for ops commands, which then need no CRM credentials in the environment).
    Resolved secrets are registered with ``masker``.
    """
    file = Path(path)
    display = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror or exc}", file=display) from None
    doc = _document(text, file, display, os.environ if environ is None else environ, sections)
    if not isinstance(doc.data, dict):
        raise ConfigError("the config must be a mapping with at least `version: 1`", file=display, line=1)
    try:
        config = ProjectConfig.model_validate(doc.data)
    except ValidationError as exc:
        raise _first_error(exc, doc, display) from None
    config._path = file.resolve()
    _resolve_paths(config)
    problems = references.check(config, check_environment=check_environment)
    if problems:
        first = min(problems, key=lambda p: _line_of(p.path, doc))
        raise _error(first.path, first.message, doc, display)
    masker.add(doc.secrets)
    return config


def _secret_names_for(connector_type: str) -> set[str]:
    item = connector_registry.available().get(connector_type)
    if item is None:
        return set()
    try:
        model = getattr(item.load(), "config_model", None)
    except Exception:  # a broken plugin is reported later, by the reference check
        return set()
    return sec.secret_fields(model) if isinstance(model, type) and issubclass(model, BaseModel) else set()


def _document(text: str, file: Path, display: str, environ: Mapping[str, str],
              sections: Collection[str] | None) -> yamlnodes.Document:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # An unclosed bracket or quote is found lines later; where it was opened is the useful line.
        opened = exc.context_mark is not None and any(w in (exc.context or "") for w in ("flow", "quoted"))
        mark = exc.context_mark if opened else (exc.problem_mark or exc.context_mark)
        line = mark.line + 1 if mark else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ConfigError(f"YAML syntax error: {problem}", file=display, line=line,
                          key=_key_near(text, line)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}".splitlines()[0], file=display) from None
    try:
        if sections is not None and isinstance(node, yaml.MappingNode):
            keep = {"version", *sections}
            node.value = [(k, v) for k, v in node.value if getattr(k, "value", None) in keep]
        return yamlnodes.build(node, file.parent, environ, _secret_names_for)
    except yamlnodes.NodeError as exc:
        raise ConfigError(exc.message, file=display, line=exc.line, key=render_path(exc.path) or None) from None


def _key_near(text: str, line: int | None) -> str | None:
    """The nearest ``key:`` at or above a syntax error, to point at what the user was writing."""
    lines = text.splitlines()
    for i in range(min(line or 0, len(lines)) - 1, -1, -1):
        match = re.match(r"^\s*-?\s*([A-Za-z_][\w.-]*)\s*:", lines[i])
        if match:
            return match.group(1)
    return None


def render_path(path: Path_) -> str:
    """``systems.erp.settings.url`` / ``syncs.x.objects[0].entity``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(path: Path_, doc: yamlnodes.Document) -> int:
    for end in range(len(path), -1, -1):
        if path[:end] in doc.lines:
            return doc.lines[path[:end]]
    return 1


def _error(path: Path_, message: str, doc: yamlnodes.Document, display: str) -> ConfigError:
    return ConfigError(message, file=display, line=_line_of(path, doc), key=render_path(path) or None)


def _data_path(loc: tuple[Any, ...], data: Any) -> Path_:
    """Keep the parts of a pydantic loc that index the data (drops union tags like 'int' or 'ObjectConfig')."""
    path: list[str | int] = []
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        elif isinstance(data, dict) and not path[-1:] == [part]:
            path.append(part)  # a missing or unknown key: keep it, it is what the message is about
            data = None
            continue
        else:
            continue
        path.append(part)
    return tuple(path)


def _first_error(exc: ValidationError, doc: yamlnodes.Document, display: str) -> ConfigError:
    errors = []
    for err in exc.errors():
        path = _data_path(tuple(err["loc"]), doc.data)
        errors.append((_line_of(path, doc), path, _message(err, path)))
    line, path, message = min(errors, key=lambda e: e[0])
    return ConfigError(message, file=display, line=line, key=render_path(path) or None)


def _message(err: Any, path: Path_) -> str:
    kind, msg = err["type"], str(err["msg"])
    if kind == "extra_forbidden":
        return _unknown_key(path)
    if kind == "missing":
        return "this required key is missing"
    if kind == "literal_error" and path == ("version",):
        return "unsupported config version (this crmsync reads version: 1)"
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _unknown_key(path: Path_) -> str:
    known = _known_keys(path[:-1])
    key = str(path[-1])
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else (f" (known: {', '.join(known)})" if known else "")
    return f"unknown key {key!r}{hint}"


def _known_keys(path: Path_) -> list[str]:
    """The keys the model at ``path`` accepts (for typo suggestions)."""
    model: Any = ProjectConfig
    for part in path:
        model = references.child_type(model, part)
        if model is None:
            return []
    model = references.model_of(model)
    if model is None:
        return []
    return sorted(info.alias or name for name, info in model.model_fields.items())


def _resolve_paths(config: ProjectConfig) -> None:
    """Paths in the config are relative to the config file's directory, not to the working directory."""
    base = config.base_dir
    config.state.url = _sqlite_url(config.state.url, base)
    for rec in config.reconciliations.values():
        if not rec.report_dir.is_absolute():
            rec.report_dir = base / rec.report_dir
    for system in config.systems.values():
        if system.mappings is not None and not system.mappings.is_absolute():
            system.mappings = base / system.mappings


def _sqlite_url(url: str, base: Path) -> str:
    prefix = re.match(r"^sqlite(\+\w+)?:///", url)
    if not prefix:
        return url
    database = url[prefix.end():]
    if not database or database == ":memory:" or database.startswith("/"):
        return url
    return prefix.group(0) + str((base / database).resolve())
