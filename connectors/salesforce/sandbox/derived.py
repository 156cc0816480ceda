"""Fields the org computes on every write: person Name, formulas, Opportunity stage flags, Task/Event flags.

A real org recomputes these server-side, so a client writing LastName or StageName sees Name or
IsClosed change. The formulas come from objects.FORMULAS (the same evaluators reconciliation uses).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from connectors.salesforce.objects import FORMULAS, OPPORTUNITY_STAGES

Record = dict[str, Any]


def _person_name(rec: Record) -> None:
    rec["Name"] = " ".join(p for p in (rec.get("FirstName"), rec.get("LastName")) if p) or None


def _opportunity(rec: Record) -> None:
    stage = OPPORTUNITY_STAGES.get(rec.get("StageName") or "")
    if stage is None:
        return
    probability, closed, won, forecast = stage
    rec["IsClosed"], rec["IsWon"] = int(closed), int(won)
    if rec.get("ForecastCategoryName") is None:
        rec["ForecastCategoryName"] = forecast
    rec["ForecastCategory"] = {"Commit": "Forecast", "Best Case": "BestCase"}.get(
        rec["ForecastCategoryName"], rec["ForecastCategoryName"])
    if rec.get("Probability") is None:
        rec["Probability"] = float(probability)
    close = rec.get("CloseDate")
    if close:
        d = date.fromisoformat(close)
        quarter = (d.month - 1) // 3 + 1
        rec["FiscalYear"], rec["FiscalQuarter"], rec["Fiscal"] = d.year, quarter, f"{d.year} {quarter}"


def _task(rec: Record) -> None:
    rec["IsClosed"] = int(rec.get("Status") == "Completed")
    rec["IsHighPriority"] = int(rec.get("Priority") == "High")


def _event(rec: Record) -> None:
    end = rec.get("EndDateTime")
    if end:
        rec["EndDate"] = end[:10]
    start = rec.get("ActivityDateTime") or rec.get("StartDateTime")
    if start and not rec.get("ActivityDate"):
        rec["ActivityDate"] = start[:10]


_BY_OBJECT: dict[str, Callable[[Record], None]] = {"Opportunity": _opportunity, "Task": _task, "Event": _event}


def derive(object_name: str, rec: Record, fields: set[str]) -> None:
    """Recompute in place the derived fields of ``rec`` (a full stored record) that the object has."""
    if {"FirstName", "LastName", "Name"} <= fields and object_name in ("Contact", "Lead", "User"):
        _person_name(rec)
    special = _BY_OBJECT.get(object_name)
    if special is not None:
        special(rec)
    for (obj, name), formula in FORMULAS.items():
        if obj == object_name and name in fields:
            rec[name] = formula(rec)
