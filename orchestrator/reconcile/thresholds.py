"""Thresholds: when findings should page someone (exit code 4).

``thresholds: {missing: 10, field_mismatch: 0.01, total: 500}``: an integer is a count of findings, a
float a share of the records examined (both systems, all entities). Passing means strictly more than
the limit; no thresholds (the default) never fails.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.reconcile.result import Breach, ReconcileResult


def check(limits: Mapping[str, int | float], result: ReconcileResult) -> list[Breach]:
    breaches = []
    examined = max(result.records_examined, 1)
    for code, limit in sorted(limits.items()):
        count = result.total if code == "total" else result.counts.get(code, 0)
        if isinstance(limit, float):
            share = count / examined
            if share > limit:
                breaches.append(Breach(code, float(limit), share, True))
        elif count > limit:
            breaches.append(Breach(code, float(limit), float(count), False))
    return breaches
