"""Building the mapping engine's context for one side of a stream, and finding a batch's references.

The context class is wired in by services.py (``Side.context_factory``), so the runner depends on
the ``Mapper`` protocol only and tests can drive it with any mapper of that shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any


def make_context(side: Any, *, lookup: Callable[[str, str], str | None] | None = None,
                 reverse_lookup: Callable[[str, str], str | None] | None = None) -> Any:
    """A mapping context for ``side``: its system name and time zone, plus the given lookups."""
    factory = side.context_factory or SimpleNamespace
    return factory(system=side.system, lookup=lookup or _none, reverse_lookup=reverse_lookup or _none,
                   timezone=side.timezone or "UTC")


def _none(entity: str, key: str) -> str | None:
    return None


def native_reference_ids(mapper: Any, records: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """entity -> native ids the batch's records reference, read from the mapping's reference fields.

    Used to prefetch the cross-reference in one query per entity; a mapping that does not say
    which native field holds a reference simply gets its lookups answered one by one.
    """
    fields = native_references(mapper)
    found: dict[str, list[str]] = defaultdict(list)
    for native_field, entity in fields.items():
        found[entity].extend(str(r[native_field]) for r in records if r.get(native_field) not in (None, ""))
    return found


def native_references(mapper: Any) -> Mapping[str, str]:
    """native field -> referenced entity: the mapper's own table, else read from its spec's reference fields."""
    given: Mapping[str, str] | None = getattr(mapper, "native_references", None)
    if given is not None:
        return given
    refs: Mapping[str, str] = getattr(mapper, "references", None) or {}
    fields = getattr(getattr(mapper, "spec", None), "fields", None) or ()
    return {f.native_paths[0]: refs[f.canonical_paths[0]] for f in fields
            if len(f.native_paths) == 1 and f.canonical_paths and f.canonical_paths[0] in refs}
