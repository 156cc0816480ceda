"""Datetimes (canonical: aware, in UTC) and dates, from ISO text, Salesforce text or Python values.

Naive datetimes (many ERPs store local time without an offset) are read in a named zone: the
transform's ``timezone`` option, else the spec's, else the context's. Ambiguous local times (the
hour repeated when clocks go back) resolve to the first occurrence, as zoneinfo does with fold=0.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from mappings import reasons
from mappings.transforms.base import BuildEnv, Options, Step, TransformDef, TransformError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _zone(name: str | None) -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


class DatetimeOptions(Options):
    timezone: str | None = None  # zone of naive values; default: the spec's, then the context's
    native_format: Literal["iso", "salesforce", "naive", "aware"] = "iso"
    epoch: Literal["seconds", "milliseconds"] | None = None  # accept numbers as Unix time

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        _zone(value)
        return value


def _parse_datetime(value: Any, epoch_scale: float | None) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise TransformError(reasons.INVALID_DATE, "expected an ISO 8601 datetime") from exc
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if epoch_scale is not None and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return _EPOCH + timedelta(seconds=value / epoch_scale)
        except OverflowError as exc:
            raise TransformError(reasons.INVALID_DATE, "timestamp out of range") from exc
    raise TransformError(reasons.INVALID_DATE, "expected a datetime")


def _datetime(options: DatetimeOptions, env: BuildEnv) -> Step:
    fixed = _zone(options.timezone or env.timezone)
    scale = {"seconds": 1.0, "milliseconds": 1000.0, None: None}[options.epoch]
    parse = datetime.fromisoformat

    def to_utc(value: Any, zone: tzinfo | None) -> datetime:
        if type(value) is str:  # the common case first: ISO or Salesforce text
            try:
                parsed = parse(value)
            except ValueError:
                parsed = _parse_datetime(value, scale)
        else:
            parsed = _parse_datetime(value, scale)
        if parsed.tzinfo is UTC:
            return parsed
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            parsed = parsed.replace(tzinfo=zone)
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise TransformError(reasons.INVALID_DATE, "out of range") from exc

    if fixed is not None:
        def in_zone(value: Any) -> datetime:
            return to_utc(value, fixed)
        # The common case unrolled for the generated code: ISO text with a UTC offset. Anything else
        # goes to in_zone, which parses the same way and gives the same answer.
        inline = ("if type(v) is str:\n"
                  "    try: u = {parse}(v)\n"
                  "    except ValueError: u = None\n"
                  "    v = u if u is not None and u.tzinfo is {utc} else {fn}(v)\n"
                  "else: v = {fn}(v)")
        return Step(in_zone, inline=inline, names={"parse": parse, "utc": UTC})
    return Step(lambda value, ctx: to_utc(value, ctx.tzinfo), context=True)


def _datetime_inverse(options: DatetimeOptions, env: BuildEnv) -> Step:
    fixed = _zone(options.timezone or env.timezone)
    style = options.native_format
    if style == "aware":
        return Step(lambda value: value)
    if style == "iso":
        return Step(lambda value: value.isoformat())
    if style == "salesforce":
        def salesforce(value: datetime) -> str:
            utc = value.astimezone(UTC)
            return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"
        return Step(salesforce)
    if fixed is not None:
        return Step(lambda value: value.astimezone(fixed).replace(tzinfo=None))
    return Step(lambda value, ctx: value.astimezone(ctx.tzinfo).replace(tzinfo=None), context=True)


class DateOptions(Options):
    native_format: Literal["iso", "date"] = "iso"


def _date(options: DateOptions, env: BuildEnv) -> Step:
    def to_date(value: Any) -> Any:
        if type(value) is date:
            return value
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            text = value.strip()
            try:
                return date.fromisoformat(text[:10]) if len(text) > 10 and text[10] in "T " else (
                    date.fromisoformat(text))
            except ValueError as exc:
                raise TransformError(reasons.INVALID_DATE, "expected YYYY-MM-DD") from exc
        raise TransformError(reasons.INVALID_DATE, "expected a date")
    return Step(to_date)


def _date_inverse(options: DateOptions, env: BuildEnv) -> Step:
    if options.native_format == "date":
        return Step(lambda value: value)
    return Step(lambda value: value.isoformat())


DEFINITIONS = [
    TransformDef("datetime", _datetime, _datetime_inverse, DatetimeOptions, "timezone",
                 summary="ISO/Salesforce text, Python or Unix-time values to an aware UTC datetime; naive "
                         "values are read in `timezone`; native_format: iso | salesforce | naive | aware; "
                         "invalid_date"),
    TransformDef("date", _date, _date_inverse, DateOptions, "native_format",
                 summary="YYYY-MM-DD text or a date; native_format: iso | date; invalid_date"),
]
