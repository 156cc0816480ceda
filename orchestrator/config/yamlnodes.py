"""crmsync.yaml to plain Python, remembering the line of every key, resolving secrets on the way.

PyYAML composes the node tree (with marks); we build the values ourselves so that every key path
has a line for error messages, duplicate keys are caught (PyYAML silently keeps the last), keys
stay strings (YAML 1.1 would read ``on:`` as True), and ``${ENV}``/``!file`` are resolved where
they appear, with secret fields held to the no-literal rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.config import secrets as sec

Path_ = tuple[str | int, ...]
FILE_TAG = "!file"
_SCALARS = yaml.constructor.SafeConstructor()


class NodeError(Exception):
    """A problem at one node: the loader turns it into a ConfigError with file and line."""

    def __init__(self, path: Path_, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(message)


@dataclass
class Document:
    """The plain data of crmsync.yaml and what the loader learned while building it."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)


@dataclass
class _Ctx:
    base_dir: Path
    environ: Mapping[str, str]
    secret_names_for: Callable[[str], set[str]]  # connector type -> its SecretStr field names
    doc: Document


def build(node: yaml.Node | None, base_dir: Path, environ: Mapping[str, str],
          secret_names_for: Callable[[str], set[str]]) -> Document:
    doc = Document(data=None)
    if node is None:
        return doc
    ctx = _Ctx(base_dir, environ, secret_names_for, doc)
    doc.lines[()] = node.start_mark.line + 1
    doc.data = _value(node, (), ctx, secret=False, secret_keys=set())
    return doc


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _value(node: yaml.Node, path: Path_, ctx: _Ctx, *, secret: bool, secret_keys: set[str]) -> Any:
    if isinstance(node, yaml.MappingNode):
        if secret and _is_file_ref(node):
            return _file_ref(node, path, ctx)
        return _mapping(node, path, ctx, secret_keys)
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, child in enumerate(node.value):
            ctx.doc.lines[(*path, i)] = _line(child)
            items.append(_value(child, (*path, i), ctx, secret=secret, secret_keys=secret_keys))
        return items
    return _scalar(node, path, ctx, secret=secret)


def _mapping(node: yaml.MappingNode, path: Path_, ctx: _Ctx, secret_keys: set[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    child_secret_keys = secret_keys | _connector_secrets(node, path, ctx)
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise NodeError(path, _line(key_node), "keys must be plain names")
        key = str(key_node.value)
        if key == "<<":
            raise NodeError(path, _line(key_node), "YAML merge keys (<<) are not supported; repeat the keys")
        if key in result:
            raise NodeError((*path, key), _line(key_node), "duplicate key")
        ctx.doc.lines[(*path, key)] = _line(key_node)
        in_settings = len(path) >= 3 and path[0] == "systems" and path[2] == "settings"
        secret = in_settings and (sec.is_secret_name(key) or key in child_secret_keys)
        result[key] = _value(value_node, (*path, key), ctx, secret=secret, secret_keys=child_secret_keys)
    return result


def _connector_secrets(node: yaml.MappingNode, path: Path_, ctx: _Ctx) -> set[str]:
    """At ``systems.NAME``, the SecretStr fields of the named connector type (if it is installed)."""
    if len(path) != 2 or path[0] != "systems":
        return set()
    for key_node, value_node in node.value:
        if key_node.value == "connector" and isinstance(value_node, yaml.ScalarNode):
            return ctx.secret_names_for(str(value_node.value))
    return set()


def _scalar(node: yaml.Node, path: Path_, ctx: _Ctx, *, secret: bool) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    if node.tag == FILE_TAG:
        return _read_file(str(node.value), path, _line(node), ctx)
    if node.tag.startswith("!"):
        raise NodeError(path, _line(node), f"unknown tag {node.tag} (only !file is supported)")
    value = _SCALARS.construct_object(node)
    if not isinstance(value, str):
        if secret and value is not None:
            raise _inline_secret(path, _line(node))
        return value
    return _string(value, path, _line(node), ctx, secret=secret)


def _string(raw: str, path: Path_, line: int, ctx: _Ctx, *, secret: bool) -> str:
    try:
        result = sec.substitute(raw, ctx.environ)
    except sec.MissingEnv as exc:
        raise NodeError(path, line, f"environment variable {exc.name} is not set") from None
    # A URL in a secret field (a database URL) is fine as long as its password is not literal.
    if secret and raw and not result.from_env and "://" not in raw:
        raise _inline_secret(path, line)
    raw_password = sec.url_password(raw)
    if raw_password and "${" not in raw_password:
        raise NodeError(path, line, "the URL holds a literal password; put it in an environment variable, "
                        "e.g. postgresql://user:${DB_PASSWORD}@host/db, or the whole URL in ${DB_URL}")
    password = sec.url_password(result.value)
    if password:
        ctx.doc.secrets.append(password)
    if secret and result.value:
        ctx.doc.secrets.append(result.value)
    return result.value


def _inline_secret(path: Path_, line: int) -> NodeError:
    return NodeError(path, line, "secrets must not be written in the config; use ${ENV_VAR}, "
                                 "!file PATH or {file: PATH}")


def _is_file_ref(node: yaml.MappingNode) -> bool:
    return len(node.value) == 1 and isinstance(node.value[0][0], yaml.ScalarNode) and node.value[0][0].value == "file"


def _file_ref(node: yaml.MappingNode, path: Path_, ctx: _Ctx) -> str:
    value_node = node.value[0][1]
    if not isinstance(value_node, yaml.ScalarNode):
        raise NodeError((*path, "file"), _line(value_node), "file must be a path")
    return _read_file(str(value_node.value), path, _line(value_node), ctx)


def _read_file(raw: str, path: Path_, line: int, ctx: _Ctx) -> str:
    name = _string(raw, path, line, ctx, secret=False)
    target = Path(name).expanduser()
    target = target if target.is_absolute() else ctx.base_dir / target
    try:
        content = sec.read_secret_file(target)
    except OSError as exc:
        raise NodeError(path, line, f"cannot read secret file {target}: {exc.strerror or exc}") from None
    ctx.doc.secrets.append(content)
    return content
