"""SOQL date literals (TODAY, LAST_N_DAYS:n, THIS_QUARTER ...) as half-open UTC date ranges ``[start, end)``.

The org's time zone is UTC and its fiscal year is the calendar year (a new org's defaults apart from the
zone), weeks start on Sunday (en_US locale). Semantics follow the SOQL reference: LAST_N_DAYS:n and
LAST_90_DAYS include today; NEXT_N_DAYS:n starts tomorrow; LAST_N_WEEKS/MONTHS/QUARTERS/YEARS:n cover
the n whole periods before the current one.
"""

from __future__ import annotations

from datetime import date, timedelta


def _months(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _period(today: date, unit: str, first: int, count: int) -> tuple[date, date]:
    """``count`` whole periods of ``unit`` starting ``first`` periods from the current one."""
    if unit == "DAY":
        start = today + timedelta(days=first)
        return start, start + timedelta(days=count)
    if unit == "WEEK":
        sunday = today - timedelta(days=(today.weekday() + 1) % 7)
        start = sunday + timedelta(weeks=first)
        return start, start + timedelta(weeks=count)
    size = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit]
    base = _months(today)
    base -= base % size
    first_month = base + first * size
    return _month_start(first_month), _month_start(first_month + count * size)


_NAMED: dict[str, tuple[str, int, int]] = {
    "YESTERDAY": ("DAY", -1, 1), "TODAY": ("DAY", 0, 1), "TOMORROW": ("DAY", 1, 1),
    "LAST_WEEK": ("WEEK", -1, 1), "THIS_WEEK": ("WEEK", 0, 1), "NEXT_WEEK": ("WEEK", 1, 1),
    "LAST_MONTH": ("MONTH", -1, 1), "THIS_MONTH": ("MONTH", 0, 1), "NEXT_MONTH": ("MONTH", 1, 1),
    "LAST_90_DAYS": ("DAY", -90, 91), "NEXT_90_DAYS": ("DAY", 1, 90),
    "LAST_QUARTER": ("QUARTER", -1, 1), "THIS_QUARTER": ("QUARTER", 0, 1), "NEXT_QUARTER": ("QUARTER", 1, 1),
    "LAST_YEAR": ("YEAR", -1, 1), "THIS_YEAR": ("YEAR", 0, 1), "NEXT_YEAR": ("YEAR", 1, 1),
    "LAST_FISCAL_QUARTER": ("QUARTER", -1, 1), "THIS_FISCAL_QUARTER": ("QUARTER", 0, 1),
    "NEXT_FISCAL_QUARTER": ("QUARTER", 1, 1), "LAST_FISCAL_YEAR": ("YEAR", -1, 1),
    "THIS_FISCAL_YEAR": ("YEAR", 0, 1), "NEXT_FISCAL_YEAR": ("YEAR", 1, 1),
}


NAMED_LITERALS = tuple(_NAMED)
N_LITERALS = tuple(f"{kind}_{unit}" for kind in ("LAST_N", "NEXT_N") for unit in
                   ("DAYS", "WEEKS", "MONTHS", "QUARTERS", "YEARS", "FISCAL_QUARTERS", "FISCAL_YEARS")) + tuple(
    f"N_{unit}_AGO" for unit in ("DAYS", "WEEKS", "MONTHS", "QUARTERS", "YEARS"))
_UNITS = {"DAYS": "DAY", "WEEKS": "WEEK", "MONTHS": "MONTH", "QUARTERS": "QUARTER", "YEARS": "YEAR"}


def date_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """The ``[start, end)`` dates a date literal covers on ``today``; KeyError for an unknown literal."""
    name = name.upper()
    if n is None:
        unit, first, count = _NAMED[name]
        return _period(today, unit, first, count)
    if name.startswith("N_") and name.endswith("_AGO"):
        return _period(today, _UNITS[name[2:-4]], -n, 1)
    kind, _, unit_text = name.rpartition("_")
    unit = _UNITS[unit_text]
    if kind == "LAST_N" and unit == "DAY":
        return _period(today, unit, -n, n + 1)  # includes today
    if kind in ("LAST_N", "LAST_N_FISCAL"):
        return _period(today, unit, -n, n)
    if kind in ("NEXT_N", "NEXT_N_FISCAL"):
        return _period(today, unit, 1, n)
    raise KeyError(name)
