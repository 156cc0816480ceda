"""Countries (ISO 3166-1 alpha-2 in canonical) and currencies (ISO 4217)."""

from __future__ import annotations

from typing import Any, Literal

import pycountry

from mappings import reasons, validation
from mappings.transforms.base import BuildEnv, Options, Step, TransformDef, TransformError


def _country(options: Any, env: BuildEnv) -> Step:
    lookup = validation.country_code

    def country(value: Any) -> Any:
        found = lookup(value) if isinstance(value, str) else None
        if found is None:
            raise TransformError(reasons.INVALID_COUNTRY, "expected an ISO 3166 code or country name")
        return found
    # Known codes and names through the (cached) look-up directly; anything else through country().
    inline = "u = {code}(v) if type(v) is str else None\nv = u if u is not None else {fn}(v)"
    return Step(country, inline=inline, names={"code": lookup})


class CountryOptions(Options):
    native_format: Literal["alpha2", "alpha3", "name"] = "alpha2"


def _country_inverse(options: CountryOptions, env: BuildEnv) -> Step:
    if options.native_format == "alpha2":
        return Step(lambda value: value)
    attribute = "alpha_3" if options.native_format == "alpha3" else "name"

    def write(value: Any) -> Any:
        found = pycountry.countries.get(alpha_2=value)
        if found is None:
            raise TransformError(reasons.INVALID_COUNTRY)
        return getattr(found, attribute)
    return Step(write)


def _currency(options: Any, env: BuildEnv) -> Step:
    def currency(value: Any) -> Any:
        found = validation.currency_code(value) if isinstance(value, str) else None
        if found is None:
            raise TransformError(reasons.INVALID_CURRENCY, "expected an ISO 4217 code")
        return found
    return Step(currency)


DEFINITIONS = [
    TransformDef("country", lambda o, env: _country(o, env), _country_inverse, CountryOptions, "native_format",
                 summary="code or name to ISO 3166 alpha-2; native_format: alpha2 | alpha3 | name on write; "
                         "invalid_country"),
    TransformDef("currency", _currency, "identity", summary="ISO 4217 code, upper-cased; invalid_currency"),
]
