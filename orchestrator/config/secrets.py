"""Secrets in crmsync.yaml: ``${ENV_VAR}`` substitution, ``!file path`` and ``{file: path}``.

A field that holds a secret (by its name, or because the connector's config model declares it
``SecretStr``) must get its value from the environment or a file: a literal there is an error, so
no token ever lands in a repository. Every resolved secret is registered with the log masker.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretBytes, SecretStr

_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_NAME = re.compile(r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credentials?|"
                          r"session[_-]?id|signing[_-]?key)$", re.IGNORECASE)
_NOT_SECRET = re.compile(r"(_file|_path|_env|_url|_endpoint|_type|_header|_name)$", re.IGNORECASE)


class MissingEnv(Exception):
    """A ``${VAR}`` whose variable is not set (and has no ``:-default``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"environment variable {name} is not set")


@dataclass(slots=True)
class Substituted:
    """A string after ``${...}`` substitution, and the variables it came from."""

    value: str
    variables: list[str] = field(default_factory=list)

    @property
    def from_env(self) -> bool:
        return bool(self.variables)


def substitute(text: str, environ: Mapping[str, str] | None = None) -> Substituted:
    """Replace ``${VAR}`` and ``${VAR:-default}``; ``$$`` is a literal dollar sign."""
    env = os.environ if environ is None else environ
    used: list[str] = []

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            used.append(name)
            return env[name]
        if default is not None:
            return default
        raise MissingEnv(name)

    return Substituted(_ENV.sub(one, text), used)


def is_secret_name(name: str) -> bool:
    """Whether a settings key holds a secret by its name (``password``, ``client_secret``, ``api_key``...)."""
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET.search(name)


def url_password(value: str) -> str | None:
    """The password inside a URL such as ``postgresql://user:pw@host/db``, if any."""
    if "://" not in value:
        return None
    try:
        return urlsplit(value).password
    except ValueError:
        return None


def read_secret_file(path: Path) -> str:
    """A secret file's content without the trailing newline editors add."""
    return path.read_text(encoding="utf-8").rstrip("\r\n")


def secret_fields(model: type[BaseModel]) -> set[str]:
    """Names of fields declared SecretStr/SecretBytes anywhere in a config model (nested models, unions)."""
    found: set[str] = set()
    _walk(model, (SecretStr, SecretBytes), found, set())
    return found


def path_fields(model: type[BaseModel]) -> set[str]:
    """Names of fields declared ``Path`` anywhere in a config model: resolved relative to the config file."""
    found: set[str] = set()
    _walk(model, (Path,), found, set())
    return found


def _walk(model: type[BaseModel], kinds: tuple[type, ...], found: set[str], seen: set[type]) -> None:
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        for kind in _flatten(info.annotation):
            if kind in kinds:
                found.add(name)
                if info.alias:
                    found.add(info.alias)
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                _walk(kind, kinds, found, seen)


def _flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is None:
        return [annotation]
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict, set, frozenset):
        return [kind for arg in typing.get_args(annotation) for kind in _flatten(arg)]
    return [annotation]
