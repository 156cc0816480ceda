"""Text transforms: trimming, case, blanks, length limits, templates, numbers as text, URL domains."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field

from mappings import reasons
from mappings.transforms.base import BuildEnv, Options, Step, TransformDef, TransformError


def _trim(options: Any, env: BuildEnv) -> Step:
    def trim(value: Any) -> Any:
        if type(value) is str:
            return value.strip() or None  # a blank string is no value
        return value
    return Step(trim, inline="(v.strip() or None) if type(v) is str else v", raises=False, blank_to_none=True)


def _case(method: str) -> Any:
    def factory(options: Any, env: BuildEnv) -> Step:
        convert = getattr(str, method)

        def change_case(value: Any) -> Any:
            if not isinstance(value, str):
                raise TransformError(reasons.INVALID_VALUE, "expected text")
            return convert(value)
        return Step(change_case)
    return factory


def _normalize_space(options: Any, env: BuildEnv) -> Step:
    def normalize_space(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return " ".join(value.split()) or None
    return Step(normalize_space)


class NullIfOptions(Options):
    values: list[Any] = Field(min_length=1)


def _null_if(options: NullIfOptions, env: BuildEnv) -> Step:
    blanks = frozenset(v for v in options.values if v is not None)

    def null_if(value: Any) -> Any:
        try:
            return None if value in blanks else value
        except TypeError:  # unhashable values are never in the list
            return value
    return Step(null_if)


class MaxLengthOptions(Options):
    length: int = Field(gt=0)
    on_overflow: Literal["reject", "truncate"] = "reject"


def _max_length(options: MaxLengthOptions, env: BuildEnv) -> Step:
    limit, truncate = options.length, options.on_overflow == "truncate"

    def max_length(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            if truncate:
                return value[:limit]
            raise TransformError(reasons.TOO_LONG, f"longer than {limit} characters")
        return value
    return Step(max_length)


class TemplateOptions(Options):
    template: str = Field(min_length=1)


def _template(options: TemplateOptions, env: BuildEnv) -> Step:
    count = max(1, len(env.native)) if env.direction == "to_canonical" else max(1, len(env.canonical))
    try:
        options.template.format(*([""] * count))
    except (IndexError, KeyError, ValueError) as exc:
        raise ValueError(f"template must use positional fields {{0}}..{{{count - 1}}}") from exc
    template = options.template

    def fill(value: Any) -> Any:
        parts = value if isinstance(value, tuple) else (value,)
        if all(p is None for p in parts):
            return None
        return template.format(*("" if p is None else p for p in parts))
    return Step(fill, inputs=count)


class StringOptions(Options):
    native_type: Literal["string", "integer"] = "string"


def _string(options: StringOptions, env: BuildEnv) -> Step:
    def to_text(value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            raise TransformError(reasons.INVALID_VALUE, "expected text or a number")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, Decimal | float):
            if value != value or value in (float("inf"), float("-inf")):
                raise TransformError(reasons.INVALID_NUMBER)
            return str(int(value)) if value == int(value) else str(value)
        raise TransformError(reasons.INVALID_VALUE, "expected text or a number")
    return Step(to_text)


def _string_inverse(options: StringOptions, env: BuildEnv) -> Step:
    if options.native_type == "string":
        return Step(lambda value: value)

    def to_integer(value: Any) -> Any:
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise TransformError(reasons.INVALID_NUMBER, "expected digits") from exc
    return Step(to_integer)


def _url_domain(options: Any, env: BuildEnv) -> Step:
    def domain(value: Any) -> Any:
        if not isinstance(value, str):
            raise TransformError(reasons.INVALID_VALUE, "expected a URL")
        text = value.strip()
        host = urlsplit(text if "//" in text else "//" + text).hostname
        if not host or "." not in host:
            raise TransformError(reasons.INVALID_VALUE, "expected a URL with a host name")
        return host.removeprefix("www.")
    return Step(domain)


DEFINITIONS = [
    TransformDef("trim", _trim, "identity", summary="strip surrounding white space; blank becomes null"),
    TransformDef("lower", _case("lower"), "identity", summary="lower-case text"),
    TransformDef("upper", _case("upper"), "identity", summary="upper-case text"),
    TransformDef("title", _case("title"), "identity", summary="Title-Case text"),
    TransformDef("normalize_space", _normalize_space, "identity",
                 summary="collapse runs of white space into one space"),
    TransformDef("null_if", _null_if, "identity", NullIfOptions, "values",
                 summary="treat placeholder values ('N/A', '-', 0) as null"),
    TransformDef("max_length", _max_length, "identity", MaxLengthOptions, "length",
                 summary="reject (too_long) or truncate text longer than `length`"),
    TransformDef("template", _template, None, TemplateOptions, "template",
                 summary="format one or more values into text: 'Order {0}' (one way)"),
    TransformDef("string", _string, _string_inverse, StringOptions, "native_type",
                 summary="numbers as text (ERP integer keys); native_type: integer writes them back as numbers"),
    TransformDef("url_domain", _url_domain, None, summary="host name of a URL without 'www.' (one way)"),
]
