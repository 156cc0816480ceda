"""YAML with line numbers: plain Python data plus a table from each key's path to its line.

PyYAML's composer keeps a mark on every node; converting nodes ourselves (instead of
``yaml.safe_load``) lets every later error, including pydantic's, name the line of the offending
key. Duplicate keys, which PyYAML silently overwrites, are errors here.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from mappings.errors import MappingSpecError

Path = tuple[str | int, ...]
_KEY = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.]*)\s*:")
_MERGE = "tag:yaml.org,2002:merge"


def render_path(path: Path) -> str:
    """``('fields', 2, 'native')`` -> ``fields[2].native``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class Located:
    """Parsed YAML and the line of every key and sequence item (1-based)."""

    def __init__(self, data: Any, lines: dict[Path, int], file: str) -> None:
        self.data, self.lines, self.file = data, lines, file

    def line(self, path: Path) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None

    def error(self, path: Path, message: str) -> MappingSpecError:
        return MappingSpecError(message, file=self.file, line=self.line(path), key=render_path(path) or None)


def _nearest_key(text: str, line: int) -> str | None:
    rows = text.splitlines()
    for row in reversed(rows[:line]):
        found = _KEY.match(row)
        if found:
            return found.group(1)
    return None


def load(text: str, file: str) -> Located:
    """Parse ``text``; a syntax error becomes a MappingSpecError naming the line and the nearest key."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        key = _nearest_key(text, line) if line is not None else None
        raise MappingSpecError(f"YAML syntax error: {problem}", file=file, line=line, key=key) from None
    except yaml.YAMLError as exc:
        raise MappingSpecError(f"YAML error: {' '.join(str(exc).split())}", file=file) from None
    lines: dict[Path, int] = {}
    located = Located(None, lines, file)
    located.data = _convert(node, (), lines, located, yaml.constructor.SafeConstructor()) if node else None
    return located


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int], located: Located,
             constructor: yaml.constructor.SafeConstructor) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged = _convert(value_node, path, lines, located, constructor)
                for item in merged if isinstance(merged, list) else [merged]:
                    if isinstance(item, dict):
                        for k, v in item.items():
                            result.setdefault(k, v)
                continue
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise MappingSpecError("keys must be plain values", file=located.file,
                                       line=key_node.start_mark.line + 1, key=render_path(path) or None)
            if key in result:
                raise MappingSpecError(f"duplicate key {key!r}", file=located.file,
                                       line=key_node.start_mark.line + 1, key=render_path((*path, str(key))))
            child = (*path, key if isinstance(key, str) else str(key))
            lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, child, lines, located, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, located, constructor) for i, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)
