"""The JSON report: the run's summary plus every finding (masked by default), written as a stream.

Findings are copied from the run's JSON Lines file one at a time, so the report of a run with a
million findings never sits in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from orchestrator.reconcile.result import ReconcileResult, read_findings
from orchestrator.reports.masking import mask_finding
from orchestrator.state.types import TrendPoint

SCHEMA = "crmsync.reconcile.report/1"


def header(result: ReconcileResult, trend: Sequence[TrendPoint] = ()) -> dict[str, Any]:
    return {
        "schema": SCHEMA, "job": result.job, "run_id": result.run_id, "left": result.left, "right": result.right,
        "entities": result.entities, "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat() if result.finished_at else None,
        "records": result.records, "matched": result.matched, "counts": result.counts, "total": result.total,
        "by_entity": result.by_entity, "by_severity": result.by_severity, "delta": result.delta,
        "new_by_code": result.new_by_code, "resolved_by_code": result.resolved_by_code,
        "coverage": result.coverage.to_json() if result.coverage else None,
        "thresholds": {"breached": [{"code": b.code, "limit": b.limit, "measured": b.measured, "share": b.share}
                                    for b in result.breaches]},
        "trend": [{"run_id": p.run_id, "at": p.at.isoformat(), "new": p.new, "persisting": p.persisting,
                   "resolved": p.resolved, "open": p.open, "by_code": p.by_code} for p in trend],
        "timings": {k: round(v, 3) for k, v in result.timings.items()}, "notes": result.notes,
    }


def write(result: ReconcileResult, path: Path, *, trend: Sequence[TrendPoint] = (),
          show_personal: bool = False) -> Path:
    """Write the report to ``path``; ``findings`` is the last key and is streamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = orjson.dumps(header(result, trend) | {"personal_data": "shown" if show_personal else "masked"})
    with path.open("wb") as out:
        out.write(head[:-1] + b',"findings":[')
        first = True
        if result.findings_path is not None and result.findings_path.exists():
            for data in read_findings(result.findings_path):
                out.write((b"" if first else b",\n") + orjson.dumps(mask_finding(data, show_personal)))
                first = False
        out.write(b"]}\n")
    return path
