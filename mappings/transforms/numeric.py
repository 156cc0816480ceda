"""Numbers (Decimal, never float, so 1234.5 == 1234.50), integers, money and flags."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import Field, field_validator

from mappings import reasons, validation
from mappings.transforms.base import BuildEnv, Options, Step, TransformDef, TransformError

NativeNumber = Literal["decimal", "float", "string", "integer"]
_ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def to_decimal(value: Any) -> Decimal:
    """A finite Decimal from a number or numeric text; floats go through their shortest repr."""
    if isinstance(value, bool):
        raise TransformError(reasons.INVALID_NUMBER, "expected a number")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            number = Decimal(value.strip().replace("_", "x"))  # Decimal() accepts 1_000; exports never mean it
        else:
            raise TransformError(reasons.INVALID_NUMBER, "expected a number")
    except InvalidOperation as exc:
        raise TransformError(reasons.INVALID_NUMBER, "expected a number") from exc
    if not number.is_finite():
        raise TransformError(reasons.INVALID_NUMBER, "expected a finite number")
    return number


def _quantizer(scale: int | None, rounding: str) -> Any:
    if scale is None:
        return to_decimal
    exponent, mode = Decimal(1).scaleb(-scale), _ROUNDING[rounding]

    def quantize(value: Any) -> Decimal:
        try:
            return to_decimal(value).quantize(exponent, rounding=mode)
        except InvalidOperation as exc:
            raise TransformError(reasons.INVALID_NUMBER, "too many digits") from exc
    return quantize


def _writer(native_type: NativeNumber) -> Any:
    if native_type == "decimal":
        return lambda value: value
    if native_type == "float":
        return float
    if native_type == "string":
        return str

    def integer(value: Decimal) -> int:
        if value != value.to_integral_value():
            raise TransformError(reasons.INVALID_NUMBER, "not a whole number")
        return int(value)
    return integer


class DecimalOptions(Options):
    scale: int | None = Field(default=None, ge=0, le=18)  # digits after the point (rounded)
    rounding: Literal["half_up", "half_even"] = "half_up"
    native_type: NativeNumber = "decimal"


def _decimal(options: DecimalOptions, env: BuildEnv) -> Step:
    return Step(_quantizer(options.scale, options.rounding))


def _decimal_inverse(options: DecimalOptions, env: BuildEnv) -> Step:
    return Step(_writer(options.native_type))


class IntegerOptions(Options):
    native_type: Literal["integer", "string"] = "integer"


def _integer(options: IntegerOptions, env: BuildEnv) -> Step:
    def integer(value: Any) -> int:
        if type(value) is int:
            return value
        number = to_decimal(value)
        if number != number.to_integral_value():
            raise TransformError(reasons.INVALID_NUMBER, "not a whole number")
        return int(number)
    return Step(integer)


def _integer_inverse(options: IntegerOptions, env: BuildEnv) -> Step:
    return Step(str if options.native_type == "string" else (lambda value: value))


class MoneyOptions(Options):
    currency: str | None = None  # the currency when the record has no currency field (or it is null)
    scale: int | None = Field(default=None, ge=0, le=18)
    rounding: Literal["half_up", "half_even"] = "half_up"
    native_type: NativeNumber = "decimal"

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        if value is not None and validation.currency_code(value) is None:
            raise ValueError(f"unknown currency {value!r} (expected an ISO 4217 code)")
        return None if value is None else validation.currency_code(value)


def _money(options: MoneyOptions, env: BuildEnv) -> Step:
    """Native amount, or (amount, currency), to the canonical Money shape {amount, currency}."""
    amount_of, default = _quantizer(options.scale, options.rounding), options.currency
    inputs = len(env.native) if env.native else 1
    if inputs not in (1, 2):
        raise ValueError("money takes an amount field, or an amount and a currency field")
    if inputs == 1 and default is None:
        raise ValueError("money needs `currency:` when the record has no currency field")

    def money(value: Any) -> Any:
        amount, currency = value if inputs == 2 else (value, None)
        if amount is None:
            return None
        code = validation.currency_code(currency) if isinstance(currency, str) else None
        if code is None:
            if currency is not None or default is None:
                raise TransformError(reasons.INVALID_CURRENCY, "expected an ISO 4217 code")
            code = default
        return {"amount": amount_of(amount), "currency": code}
    return Step(money, inputs=inputs)


def _money_inverse(options: MoneyOptions, env: BuildEnv) -> Step:
    write, outputs = _writer(options.native_type), len(env.native) if env.native else 1

    def money(value: Any) -> Any:
        amount = write(value.amount)
        return (amount, value.currency) if outputs == 2 else amount
    return Step(money, outputs=outputs)


_TRUE = (True, 1, "1", "true", "t", "yes", "y", "x")
_FALSE = (False, 0, "0", "false", "f", "no", "n", "")


class BooleanOptions(Options):
    # YAML reads bare true/false/yes/no keys as booleans, hence *_values names.
    true_values: list[Any] = Field(default_factory=lambda: list(_TRUE))  # text compared without case
    false_values: list[Any] = Field(default_factory=lambda: list(_FALSE))
    native_true: Any = True
    native_false: Any = False


def _key(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _boolean(options: BooleanOptions, env: BuildEnv) -> Step:
    table: dict[Any, bool] = {}
    for flag, values in ((True, options.true_values), (False, options.false_values)):
        for value in values:
            table[(type(_key(value)) is str, _key(value))] = flag

    def boolean(value: Any) -> bool:
        if type(value) is bool:  # avoid True == 1 surprises: bools map only through the table's bools
            found = table.get((False, value))
        else:
            key = _key(value)
            try:
                found = table.get((type(key) is str, key))
            except TypeError:
                found = None
        if found is None:
            raise TransformError(reasons.INVALID_VALUE, "expected a yes/no flag")
        return found
    bools_map_to_themselves = table.get((False, True)) is True and table.get((False, False)) is False
    return Step(boolean, inline="(v if type(v) is bool else {fn}(v))" if bools_map_to_themselves else None)


def _boolean_inverse(options: BooleanOptions, env: BuildEnv) -> Step:
    yes, no = options.native_true, options.native_false
    return Step(lambda value: yes if value else no)


DEFINITIONS = [
    TransformDef("decimal", _decimal, _decimal_inverse, DecimalOptions, "scale",
                 summary="exact Decimal (floats via their shortest text), optional `scale` rounding; "
                         "native_type: decimal | float | string | integer; invalid_number"),
    TransformDef("integer", _integer, _integer_inverse, IntegerOptions, "native_type",
                 summary="whole numbers from numbers or text (10.0 ok, 10.5 rejected); invalid_number"),
    TransformDef("money", _money, _money_inverse, MoneyOptions, "currency",
                 summary="amount (+ currency field, or `currency:`) to {amount, currency}; "
                         "invalid_number, invalid_currency"),
    TransformDef("boolean", _boolean, _boolean_inverse, BooleanOptions,
                 summary="flags ('Y'/'N', 1/0, 'true') to true/false; native_true/native_false on write; "
                         "invalid_value"),
]
