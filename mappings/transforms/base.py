"""The transform protocol and registry: named value functions with typed options, built once per spec.

A transform definition is a factory: given its validated options and what the spec knows about
the field (``BuildEnv``), it returns a ``Step``, a plain function the engine calls per record. All
parsing of options, zone look-ups and regex compilation happen in the factory, never per record.
A project adds its own transforms to a registry in Python (``register`` / ``register_function``)
and names them in its specs, without forking crmsync.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mappings import reasons


class TransformError(Exception):
    """A value a transform cannot accept: a stable reason code, never the value."""

    __slots__ = ("code", "detail")

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(code)


class NoOptions(BaseModel):
    """Options of a transform that takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Options(BaseModel):
    """Base for transform options: unknown keys are spec errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Step:
    """One compiled transform: ``fn(value)`` or, with ``context``, ``fn(value, ctx)``.

    ``null_safe`` steps are called with None too (default, constant, coalesce); the others are
    skipped for None. ``inputs``/``outputs`` above one mean tuples: several native fields into one
    canonical field (join names, money) or one into several (split a name).
    """

    fn: Callable[..., Any]
    context: bool = False
    null_safe: bool = False
    inputs: int = 1
    outputs: int = 1
    # The same operation written for the generated code (hot built-ins only): an expression of ``v``,
    # or statements (several lines) that set ``v``; ``{fn}`` stands for ``fn``, ``{name}`` for
    # ``names[name]``, ``ctx`` is the mapping context.
    inline: str | None = None
    names: Mapping[str, Any] = field(default_factory=dict)
    raises: bool = True  # False: never raises TransformError (the generated code needs no try)
    blank_to_none: bool = False  # True: turns "" into None itself (no separate empty-as-null check)


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What the spec knows about a canonical target, for factories that depend on it."""

    path: str
    annotation: Any  # the field's type with Optional/Annotated peeled off
    enum: type | None = None  # the Enum class for picklist fields
    raw_field: str | None = None  # sibling ``<name>_raw`` field when the model has one
    omit_none: bool = False  # null means "not given": nullable, or required without a default


@dataclass(frozen=True, slots=True)
class BuildEnv:
    """The spec-level facts a transform factory may use."""

    entity: str
    direction: Literal["to_canonical", "to_native"]
    canonical: tuple[FieldInfo, ...] = ()
    native: tuple[str, ...] = ()
    timezone: str | None = None  # the spec's zone for naive datetimes (None: the context's)
    phone_region: str | None = None  # the spec's default region for national phone numbers


Factory = Callable[[Any, BuildEnv], Step]


@dataclass(frozen=True, slots=True)
class TransformDef:
    """A named transform: its forward factory, its inverse, its options model."""

    name: str
    forward: Factory
    inverse: Factory | Literal["identity"] | None = None  # None: no inverse, a spec must give one
    options: type[BaseModel] = NoOptions
    shorthand: str | None = None  # the option a scalar fills: ``default: 0`` means ``{value: 0}``
    summary: str = ""
    references: Callable[[Any], tuple[str, ...]] | None = field(default=None)  # entities it resolves to

    def parse_options(self, raw: Any) -> BaseModel:
        """Validate the spec's options (a mapping, a scalar for the shorthand, or nothing)."""
        if raw is None:
            raw = {}
        elif not isinstance(raw, dict):
            if self.shorthand is None:
                raise ValueError(f"transform {self.name!r} takes options as a mapping")
            raw = {self.shorthand: raw}
        return self.options.model_validate(raw)


def _simple_factory(fn: Callable[[Any], Any], code: str) -> Factory:
    def factory(options: Any, env: BuildEnv) -> Step:
        def step(value: Any) -> Any:
            try:
                return fn(value)
            except (TypeError, ValueError) as exc:
                raise TransformError(code) from exc
        return Step(step)
    return factory


class TransformRegistry:
    """Name -> TransformDef. ``TransformRegistry.builtin()`` holds the library; projects add theirs."""

    def __init__(self, definitions: Iterable[TransformDef] = ()) -> None:
        self._defs: dict[str, TransformDef] = {}
        for definition in definitions:
            self.add(definition)

    @classmethod
    def builtin(cls) -> TransformRegistry:
        """A new registry holding every built-in transform."""
        from mappings.transforms.library import BUILTINS

        return cls(BUILTINS)

    def add(self, definition: TransformDef) -> None:
        if definition.name in self._defs:
            raise ValueError(f"transform {definition.name!r} is already registered")
        self._defs[definition.name] = definition

    def register(self, name: str, forward: Factory, *, inverse: Factory | Literal["identity"] | None = None,
                 options: type[BaseModel] = NoOptions, shorthand: str | None = None, summary: str = "") -> None:
        """Add a transform built by a factory (``forward(options, env) -> Step``)."""
        self.add(TransformDef(name, forward, inverse, options, shorthand, summary))

    def register_function(self, name: str, fn: Callable[[Any], Any], *,
                          inverse: Callable[[Any], Any] | Literal["identity"] | None = "identity",
                          code: str = reasons.INVALID_VALUE, summary: str = "") -> None:
        """Add a plain value function; a ValueError or TypeError it raises rejects the field with ``code``."""
        back: Factory | Literal["identity"] | None
        back = inverse if inverse is None or inverse == "identity" else _simple_factory(inverse, code)
        self.add(TransformDef(name, _simple_factory(fn, code), back, NoOptions, None, summary))

    def load(self, target: str) -> None:
        """Call ``package.module:function(registry)``: how a project's config adds its transforms."""
        module_name, _, attr = target.partition(":")
        if not attr:
            raise ValueError(f"expected 'module:function', got {target!r}")
        getattr(importlib.import_module(module_name), attr)(self)

    def get(self, name: str) -> TransformDef:
        return self._defs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._defs

    def names(self) -> list[str]:
        return sorted(self._defs)

    def definitions(self) -> list[TransformDef]:
        return [self._defs[n] for n in self.names()]
