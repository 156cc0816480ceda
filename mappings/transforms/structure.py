"""Shape transforms: defaults, constants, first non-null, names and text split or joined."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mappings.transforms.base import BuildEnv, Options, Step, TransformDef


class ValueOptions(Options):
    value: Any


def _literal(value: Any) -> str | None:
    """``value`` as Python source when it is a plain literal (so generated code can inline it)."""
    return repr(value) if value is None or type(value) in (bool, int, str) else None


def _default(options: ValueOptions, env: BuildEnv) -> Step:
    fallback, literal = options.value, _literal(options.value)
    inline = f"({literal} if v is None else v)" if literal is not None else None
    return Step(lambda value: fallback if value is None else value, null_safe=True, inline=inline)


def _constant(options: ValueOptions, env: BuildEnv) -> Step:
    fixed = options.value
    return Step(lambda value: fixed, null_safe=True, inline=_literal(fixed))


def _arity(env: BuildEnv) -> int:
    return len(env.native) if env.direction == "to_canonical" else len(env.canonical)


def _coalesce(options: Any, env: BuildEnv) -> Step:
    def coalesce(values: Any) -> Any:
        if not isinstance(values, tuple):
            return values
        return next((v for v in values if v is not None), None)
    return Step(coalesce, null_safe=True, inputs=max(2, _arity(env)))


class NameOptions(Options):
    order: Literal["first_last", "last_first"] = "first_last"  # "Ana García" or "García, Ana"


def _split_name(options: NameOptions, env: BuildEnv) -> Step:
    """One full name into (first, last): the last word is the family name, or what precedes a comma."""
    last_first = options.order == "last_first"

    def split_name(value: Any) -> Any:
        text = " ".join(str(value).split())
        if "," in text:
            last, _, first = (part.strip() for part in text.partition(","))
        elif last_first:
            last, _, first = text.partition(" ")
        else:
            first, _, last = text.rpartition(" ")
        return (first or None, last or None)
    return Step(split_name, outputs=2)


def _join_name(options: NameOptions, env: BuildEnv) -> Step:
    last_first = options.order == "last_first"

    def join_name(value: Any) -> Any:
        first, last = value
        if first is None and last is None:
            return None
        if first is None or last is None:
            return first or last
        return f"{last}, {first}" if last_first else f"{first} {last}"
    return Step(join_name, inputs=2)


class SplitOptions(Options):
    separator: str = Field(min_length=1)
    parts: int = Field(default=2, ge=2)


def _split(options: SplitOptions, env: BuildEnv) -> Step:
    sep, parts = options.separator, options.parts

    def split(value: Any) -> Any:
        pieces = [p.strip() or None for p in str(value).split(sep, parts - 1)]
        return tuple(pieces + [None] * (parts - len(pieces)))
    return Step(split, outputs=parts)


def _join(options: SplitOptions, env: BuildEnv) -> Step:
    sep, parts = options.separator, options.parts

    def join(value: Any) -> Any:
        if all(v is None for v in value):
            return None
        return sep.join("" if v is None else str(v) for v in value).rstrip(sep) or None
    return Step(join, inputs=parts)


DEFINITIONS = [
    TransformDef("default", _default, "identity", ValueOptions, "value", summary="a value for null"),
    TransformDef("constant", _constant, None, ValueOptions, "value",
                 summary="always this value (one way; a field without a native side)"),
    TransformDef("coalesce", _coalesce, None, summary="first non-null of several native fields (one way)"),
    TransformDef("split_name", _split_name, _join_name, NameOptions, "order",
                 summary="one full name into [first, last] (last word, or 'Last, First')"),
    TransformDef("join_name", _join_name, _split_name, NameOptions, "order",
                 summary="[first, last] into one full name"),
    TransformDef("split", _split, _join, SplitOptions, "separator", summary="text into `parts` pieces"),
    TransformDef("join", _join, _split, SplitOptions, "separator", summary="several values into one text"),
]
