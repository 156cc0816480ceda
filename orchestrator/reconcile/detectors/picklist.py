"""picklist_drift: values in use that the value map or the system's own describe does not define.

Two sources (reference #5, #8): a canonical enum that fell back to ``other`` with the original kept in
``<field>_raw`` (the value map has no entry for it), and a native picklist value outside the values
the system's describe lists for that field (renamed labels, translated labels stored as values,
values removed from a restricted picklist).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from orchestrator.reconcile.codes import FindingCode
from orchestrator.reconcile.context import EntityContext
from orchestrator.reconcile.finding import Finding, jsonable
from orchestrator.reconcile.records import CRecord

OTHER = "other"
PICKLIST_PREFIX = "picklist:"
"""``CRecord.native`` keys holding native picklist values, as ``picklist:<native field>``."""


def check(record: CRecord, ctx: EntityContext, domains: Mapping[str, frozenset[str]] | None = None
          ) -> Iterator[Finding]:
    """``domains``: native picklist field -> values the system's describe defines."""
    if record.deleted:
        return
    reported = set()
    for path in _raw_paths(record.values):
        value = record.values.get(path)
        if value in (None, ""):
            continue
        base = path.removesuffix("_raw")
        if jsonable(record.values.get(base)) == OTHER:
            reported.add(str(value))
            yield _finding(record, ctx, base, str(value), "not in the value map")
    for name, value in record.native.items():
        if not name.startswith(PICKLIST_PREFIX) or value in (None, "") or domains is None:
            continue
        if str(value) in reported:  # the same value already reported through the value map
            continue
        field = name.removeprefix(PICKLIST_PREFIX)
        allowed = domains.get(field)
        if allowed is not None and str(value) not in allowed:
            yield _finding(record, ctx, field, str(value), f"not a value of {record.system}'s picklist")


_RAW: dict[frozenset[str], tuple[str, ...]] = {}


def _raw_paths(values: Mapping[str, object]) -> tuple[str, ...]:
    """The ``*_raw`` paths among a record's fields (remembered per field set: records of an entity share it)."""
    keys = frozenset(values)
    found = _RAW.get(keys)
    if found is None:
        found = _RAW[keys] = tuple(k for k in keys if k.endswith("_raw"))
    return found


def _finding(record: CRecord, ctx: EntityContext, field: str, value: str, why: str) -> Finding:
    return Finding(
        code=FindingCode.PICKLIST_DRIFT, entity=ctx.entity, records=(record.ref,), fields=(field,),
        values={field: {record.system: value}}, subject=value,
        message=f"{field} holds a value {why}",
    )
