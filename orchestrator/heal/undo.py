"""``heal --undo RUN``: put back what a heal run changed, newest change first.

An update is reversed by writing the journalled before-values; a create by deleting what it created;
a delete by writing the journalled record again (its writable fields, rendered through the mapping
so system fields are left out). Every reversal goes through the same write path and is journalled
in the undo run, and the original entries are marked undone so an undo never runs twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orchestrator.heal import journal
from orchestrator.heal.apply import ApplyReport
from orchestrator.heal.writer import RunnerWriter, Upsert
from orchestrator.reconcile.sides import SideSpec


def undo_run(store: Any, sides: Mapping[str, SideSpec], job: str, heal_run_id: str, run_id: str,
             started_at: datetime) -> ApplyReport:
    writer = RunnerWriter(store, sides, job, run_id, started_at)
    report = ApplyReport(run_id)
    done: list[int] = []
    redo: list[journal.Entry] = []
    for seq, entry in enumerate(journal.entries(store, heal_run_id), 1):
        if entry.action == "update":
            result = writer.upsert(entry.system, entry.entity, [Upsert(str(entry.native_key), entry.canonical_id,
                                                                       _with_key(entry))])[0]
        elif entry.action == "create":
            result = writer.delete(entry.system, entry.entity, [str(entry.native_key)])[0]
        else:
            result = writer.upsert(entry.system, entry.entity, [Upsert(str(entry.native_key), entry.canonical_id,
                                                                       _writable(sides, entry))])[0]
        if result.ok:
            report.applied += 1
            if entry.id is not None:
                done.append(entry.id)
        else:
            report.failed += 1
            report.errors.append(f"undo {entry.action} {entry.system}:{entry.native_key}: {result.error}")
        redo.append(journal.Entry(run_id, entry.plan_id, seq, f"undo_{entry.action}", entry.system, entry.object,
                                  entry.entity, result.key or entry.native_key, entry.canonical_id, entry.after,
                                  entry.before, "applied" if result.ok else "failed", result.error))
    journal.write(store, redo)
    journal.mark_undone(store, done)
    return report


def _with_key(entry: journal.Entry) -> dict[str, Any]:
    """The before-values plus the key field(s) the update was addressed by."""
    before = dict(entry.before or {})
    for name, value in (entry.after or {}).items():
        if name not in before:
            before[name] = value  # the key field: written unchanged
    return before


def _writable(sides: Mapping[str, SideSpec], entry: journal.Entry) -> dict[str, Any]:
    """A deleted record's journalled row, reduced to what the system lets a client write: by the
    discovered schema where there is one (a Salesforce Id or system stamp comes back new), else by
    what the mapping writes."""
    row = dict(entry.before or {})
    spec = sides[entry.system].stream_specs().get(entry.object)
    if spec is not None and spec.fields:
        return {k: v for k, v in row.items() if (f := spec.field(k)) is not None and f.writable}
    mappers = sides[entry.system].mappers(entry.entity)
    if len(mappers) != 1:
        return row
    mapper = mappers[0]
    writable = {name for f in getattr(mapper.spec, "fields", ()) if not getattr(f, "read_only", False)
                and getattr(f, "direction", "both") != "to_canonical" for name in f.native_paths}
    writable.update(mapper.spec.key_fields)
    return {k: v for k, v in row.items() if k in writable} or row
