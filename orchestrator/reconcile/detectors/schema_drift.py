"""schema_drift: what changed in a system's discovered schema since the previous run (reference #13).

Each run snapshots ``discover()`` of both systems; this diff reports streams and fields that appeared
or disappeared, and fields whose type, length, nullability, picklist values or formula flag changed.
New custom fields are the classic case: mappings miss them until someone notices.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from connectors.base import StreamSpec
from orchestrator.reconcile.codes import FindingCode, Severity
from orchestrator.reconcile.finding import Finding, RecordRef

Snapshot = dict[str, dict[str, dict[str, Any]]]
"""stream -> field -> {type, length, nullable, picklist, formula, reference_to, external_id}."""

_REMOVALS = {"stream_removed", "field_removed", "type_changed"}


def snapshot(specs: Iterable[StreamSpec]) -> Snapshot:
    """A JSON-safe picture of what a system offers, for storing per run."""
    out: Snapshot = {}
    for spec in specs:
        out[spec.name] = {f.name: {
            "type": f.type, "length": f.length, "nullable": f.nullable, "formula": f.formula,
            "picklist": sorted(f.picklist_values) if f.picklist_values is not None else None,
            "reference_to": list(f.reference_to), "external_id": f.external_id,
        } for f in spec.fields}
    return out


def diff(system: str, before: Snapshot, after: Snapshot,
         entities: Mapping[str, str] | None = None) -> Iterator[Finding]:
    """Findings for every change from ``before`` to ``after``; ``entities`` names the entity of a stream."""
    entities = entities or {}
    for stream in sorted(set(before) | set(after)):
        entity = entities.get(stream, stream)
        if stream not in after:
            yield _finding(system, stream, entity, "", "stream_removed", True, None)
        elif stream not in before:
            yield _finding(system, stream, entity, "", "stream_added", None, True)
        else:
            yield from _fields(system, stream, entity, before[stream], after[stream])


def _fields(system: str, stream: str, entity: str, before: Mapping[str, Any],
            after: Mapping[str, Any]) -> Iterator[Finding]:
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old is None:
            yield _finding(system, stream, entity, name, "field_added", None, new.get("type") if new else None)
        elif new is None:
            yield _finding(system, stream, entity, name, "field_removed", old.get("type"), None)
        else:
            for prop in ("type", "length", "nullable", "formula", "picklist", "reference_to", "external_id"):
                if old.get(prop) != new.get(prop):
                    yield _finding(system, stream, entity, name, f"{prop}_changed", old.get(prop), new.get(prop))


def _finding(system: str, stream: str, entity: str, field: str, change: str, old: Any, new: Any) -> Finding:
    target = f"{stream}.{field}" if field else stream
    return Finding(
        code=FindingCode.SCHEMA_DRIFT, entity=entity, records=(RecordRef(system, stream),),
        fields=(field,) if field else (), subject=change,
        values={field or stream: {"before": old, "after": new}},
        severity=Severity.ERROR if change in _REMOVALS else Severity.WARNING,
        message=f"{system}: {target} {change.replace('_', ' ')}",
        detail={"stream": stream, "change": change},
    )
