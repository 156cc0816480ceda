"""Which canonical fields each side of a sync really holds, so a sync never writes what it never read.

A mapping covers part of the canonical entity: the ERP's customers table has no Industry, a
Salesforce Account has no ``active`` flag. The fields a source mapping does not read are simply
absent from its canonical records, so writing them would blank the target's values; comparing them
in a two-way sync would make every record look changed on the side that lacks them. Coverage is read
from the mapping spec once per mapper pair: a field counts when a native field feeds it (a constant
or a default with no native field says nothing about the system's data).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from orchestrator.runner.conflicts import META_FIELDS


def _fields(mapper: Any) -> list[Any] | None:
    """The spec's field mappings, or None for a mapper that does not describe itself (a test double)."""
    fields = getattr(getattr(mapper, "spec", None), "fields", None)
    return list(fields) if isinstance(fields, list | tuple) else None


def read_fields(mapper: Any) -> frozenset[str] | None:
    """Canonical paths (``billing_address.city``) the mapper fills from a native field; None: unknown."""
    return _cached(_read_fields, mapper)


@lru_cache(maxsize=256)
def _read_fields(mapper: Any) -> frozenset[str] | None:
    fields = _fields(mapper)
    if fields is None:
        return None
    return frozenset(path for f in fields if f.direction != "to_native" and f.native_paths
                     for path in f.canonical_paths)


def written_natives(source: Any, target: Any) -> frozenset[str] | None:
    """Top-level native fields of ``target`` worth writing from records ``source`` read; None: all of them."""
    return _cached(_written_natives, source, target)


@lru_cache(maxsize=256)  # mappers live for a run; the cache keeps the few pairs of a process
def _written_natives(source: Any, target: Any) -> frozenset[str] | None:
    """A native field is kept when one of its canonical fields is read by the source, or when it has
    no canonical field at all (a constant the target needs on every write).
    """
    provided, fields = read_fields(source), _fields(target)
    if provided is None or fields is None:
        return None
    keep: set[str] = set()
    for f in fields:
        if f.direction == "to_canonical" or not f.native_paths:
            continue
        if not f.canonical_paths or any(_covered(p, provided) for p in f.canonical_paths):
            keep.update(n.split(".", 1)[0] for n in f.native_paths)
    return frozenset(keep)


def shared_fields(one: Any, other: Any) -> frozenset[str] | None:
    """Canonical paths both mappings read: what a two-way sync compares; None: compare everything."""
    return _cached(_shared_fields, one, other)


@lru_cache(maxsize=256)
def _shared_fields(one: Any, other: Any) -> frozenset[str] | None:
    a, b = read_fields(one), read_fields(other)
    if a is None or b is None:
        return None
    return frozenset(p for p in a & b if p.split(".", 1)[0] not in META_FIELDS and not p.endswith("_raw"))


def _cached(fn: Any, *mappers: Any) -> frozenset[str] | None:
    """``fn`` through its cache; a mapper that cannot be hashed is simply computed each time."""
    try:
        result: frozenset[str] | None = fn(*mappers)
    except TypeError:
        result = fn.__wrapped__(*mappers)
    return result


def _covered(path: str, provided: frozenset[str]) -> bool:
    """``path`` or a parent or child of it is read (``billing_address`` vs ``billing_address.city``)."""
    if path in provided:
        return True
    prefix = path + "."
    return any(p.startswith(prefix) or path.startswith(p + ".") for p in provided)


def trim(record: dict[str, Any], keep: frozenset[str] | None) -> dict[str, Any]:
    """``record`` without the native fields outside ``keep`` (all of it when ``keep`` is None)."""
    if keep is None:
        return record
    return {k: v for k, v in record.items() if k in keep}


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested canonical values as dotted paths: ``{"billing_address.city": "Madrid"}``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        path = prefix + key
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def unflatten(values: Mapping[str, Any], into: dict[str, Any]) -> dict[str, Any]:
    """Dotted paths written back into a nested dict (a copy of ``into``; parents are created)."""
    out = _copy(into)
    for path, value in values.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return out


def _copy(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, Mapping) else v for k, v in values.items()}


def project(values: Mapping[str, Any], paths: frozenset[str] | None) -> dict[str, Any]:
    """Flattened ``values`` limited to ``paths`` (all of them when ``paths`` is None); a path naming a
    group (``billing_address``) keeps every field under it."""
    flat = flatten(values)
    if paths is None:
        return flat
    return {k: v for k, v in flat.items() if k in paths or ("." in k and _under(k, paths))}


def _under(path: str, paths: frozenset[str]) -> bool:
    parts = path.split(".")
    return any(".".join(parts[:n]) in paths for n in range(1, len(parts)))
