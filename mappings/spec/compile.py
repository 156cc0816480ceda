"""Spec checking and compilation: YAML -> validated spec -> field plans of built transform steps.

Every error is one ``MappingSpecError`` naming file, line and key, raised before any record is
mapped: unknown keys, unknown transforms and options, unknown canonical fields, duplicate targets,
chains without an inverse, arity mismatches.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mappings.canonical import CanonicalRegistry
from mappings.errors import MappingSpecError
from mappings.spec import yamlmarks
from mappings.spec.model import FieldMapping, MappingSpec, TransformItem
from mappings.spec.targets import resolve
from mappings.spec.yamlmarks import Located
from mappings.spec.yamlmarks import Path as KeyPath
from mappings.transforms.base import BuildEnv, FieldInfo, Step, TransformDef, TransformRegistry
from mappings.transforms.picklist import ValueMapOptions


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field mapping with its transforms built, ready for code generation."""

    index: int
    natives: tuple[str, ...]
    canonicals: tuple[FieldInfo, ...]
    forward: tuple[Step, ...] | None  # None: this field is not read into canonical
    inverse: tuple[Step, ...] | None  # None: this field is not written to native
    required: bool
    read_only: bool
    raw: bool  # the forward chain may carry a native picklist value into ``<field>_raw``
    references: tuple[str, ...]  # entities a reference transform resolves to


@dataclass(frozen=True, slots=True)
class CompiledSpec:
    spec: MappingSpec
    model: type[BaseModel]
    fields: tuple[FieldPlan, ...]
    key_steps: tuple[Step, ...]
    file: str


def load_spec(path: Path, canonical: CanonicalRegistry, transforms: TransformRegistry) -> CompiledSpec:
    """Read, validate and compile one spec file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingSpecError(f"cannot read mapping file ({exc.__class__.__name__})", file=str(path)) from None
    return compile_text(text, str(path), canonical, transforms)


def compile_text(text: str, file: str, canonical: CanonicalRegistry, transforms: TransformRegistry) -> CompiledSpec:
    located = yamlmarks.load(text, file)
    if not isinstance(located.data, dict):
        raise MappingSpecError("a mapping spec is a YAML mapping (system_type, object, entity, key, fields)",
                               file=file, line=1)
    try:
        spec = MappingSpec.model_validate(located.data)
    except ValidationError as exc:
        raise _pydantic_error(exc, located, ()) from None
    return _Compiler(spec, located, canonical, transforms).compile()


def _pydantic_error(exc: ValidationError, located: Located, prefix: KeyPath) -> MappingSpecError:
    """The first pydantic error, located at the YAML line of its key."""
    error = exc.errors(include_url=False)[0]
    path = _data_path(located, prefix, tuple(error["loc"]))
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        message = "missing required key"
    elif kind == "extra_forbidden":
        message = "unknown key"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return located.error(path, message)


def _data_path(located: Located, prefix: KeyPath, loc: tuple[Any, ...]) -> KeyPath:
    """Drop the union-member tags pydantic puts in ``loc`` (``str``, ``list[str]``) that are not keys."""
    path: list[str | int] = list(prefix)
    node: Any = located.data
    for part in prefix:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and "[" not in part and part not in (
                "str", "int", "float", "bool", "dict", "list"):
            path.append(part)  # a missing or unknown key: name it
            break
        else:
            continue
    return tuple(path)


class _Compiler:
    def __init__(self, spec: MappingSpec, located: Located, canonical: CanonicalRegistry,
                 transforms: TransformRegistry) -> None:
        self.spec, self.located, self.transforms = spec, located, transforms
        try:
            self.model = canonical.get(spec.entity)
        except MappingSpecError as exc:
            raise located.error(("entity",), exc.message) from None
        self._validate_options()

    def fail(self, path: KeyPath, message: str) -> MappingSpecError:
        return self.located.error(path, message)

    def _validate_options(self) -> None:
        from mappings.transforms.contact import PhoneOptions
        from mappings.transforms.temporal import DatetimeOptions

        opts = self.spec.options
        try:
            DatetimeOptions(timezone=opts.timezone)
        except ValidationError as exc:
            raise self.fail(("options", "timezone"), exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        try:
            self.phone_region = PhoneOptions(region=opts.phone_region).region  # upper-cased
        except ValidationError as exc:
            raise self.fail(("options", "phone_region"),
                            exc.errors()[0]["msg"].removeprefix("Value error, ")) from None

    def compile(self) -> CompiledSpec:
        plans = tuple(self._field(i, f) for i, f in enumerate(self.spec.fields))
        self._check_targets(plans)
        key_env = BuildEnv(self.spec.entity, "to_canonical", (), self.spec.key_fields,
                           self.spec.options.timezone, self.phone_region)
        key_steps = self._chain(("key_transforms",), self.spec.key_transforms, key_env)
        for name in self.spec.select:
            self._target(("select", name), name)
        return CompiledSpec(self.spec, self.model, plans, key_steps, self.located.file)

    def _target(self, path: KeyPath, name: str) -> FieldInfo:
        try:
            return resolve(self.model, name)
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None

    def _field(self, index: int, field: FieldMapping) -> FieldPlan:
        at: KeyPath = ("fields", index)
        if not field.canonical_paths and not field.native_paths:
            raise self.fail(at, "a field needs `canonical:`, `native:` or both")
        many = isinstance(field.canonical, list)
        targets = tuple(self._target((*at, "canonical", i) if many else (*at, "canonical"), p)
                        for i, p in enumerate(field.canonical_paths))
        reads = field.direction != "to_native" and bool(field.canonical_paths)
        writes = field.direction != "to_canonical" and bool(field.native_paths)
        if field.direction == "to_native" and field.inverse is None and field.transforms:
            raise self.fail((*at, "inverse"), "a to_native field takes its transforms from `inverse:`")
        env = BuildEnv(self.spec.entity, "to_canonical", targets, field.native_paths,
                       self.spec.options.timezone, self.phone_region)
        forward = self._chain((*at, "transforms"), field.transforms, env) if reads else None
        if forward is not None:
            self._check_arity((*at, "transforms"), forward, len(field.native_paths), len(targets), "native")
        inverse = self._inverse(at, field, targets) if writes else None
        defs = [self._definition((*at, "transforms", i), item)[0] for i, item in enumerate(field.transforms)]
        refs = tuple(e for d, item in zip(defs, field.transforms, strict=True) if d.references
                     for e in d.references(d.parse_options(self._options(item))))
        raw = bool(targets and targets[0].raw_field and any(
            d.name == "value_map" and _on_unknown(self._options(item)) == "other"
            for d, item in zip(defs, field.transforms, strict=True)))
        if raw and forward and field.transforms and _name(field.transforms[-1]) != "value_map":
            raise self.fail((*at, "transforms"), "value_map with on_unknown: other must be the last transform")
        return FieldPlan(index, field.native_paths, targets, forward, inverse, field.required, field.read_only,
                         raw, refs)

    def _inverse(self, at: KeyPath, field: FieldMapping, targets: tuple[FieldInfo, ...]) -> tuple[Step, ...]:
        env = BuildEnv(self.spec.entity, "to_native", targets, field.native_paths,
                       self.spec.options.timezone, self.phone_region)
        if field.inverse is not None:
            steps = self._chain((*at, "inverse"), field.inverse, env)
        else:
            built: list[Step] = []
            for i in range(len(field.transforms) - 1, -1, -1):
                item_path = (*at, "transforms", i)
                definition, raw = self._definition(item_path, field.transforms[i])
                if definition.inverse == "identity":
                    continue
                if definition.inverse is None:
                    raise self.fail(item_path, f"transform {definition.name!r} has no inverse: give `inverse:` "
                                               "or set `direction: to_canonical`")
                built.append(self._build(item_path, definition, raw, env, definition.inverse))
            steps = tuple(built)
        self._check_arity((*at, "inverse"), steps, len(targets), len(field.native_paths), "canonical")
        return steps

    def _check_arity(self, at: KeyPath, steps: tuple[Step, ...], inputs: int, outputs: int, side: str) -> None:
        if not steps and inputs == outputs:
            return  # values pass through, one for one
        given = steps[0].inputs if steps else 1
        if inputs > 1 and given != inputs:
            raise self.fail(at, f"{inputs} {side} fields need a first transform that takes {inputs} values "
                                "(join_name, coalesce, money, template, join)")
        if inputs <= 1 and given > 1:
            raise self.fail(at, f"the first transform takes {given} values but the field has {max(inputs, 1)}")
        produced = steps[-1].outputs if steps else (inputs or 1)
        if steps and any(s.outputs > 1 for s in steps[:-1]):
            raise self.fail(at, "a transform that yields several values must come last")
        if outputs > 1 and produced != outputs:
            raise self.fail(at, f"{outputs} target fields need a last transform that yields {outputs} values "
                                "(split_name, split, money)")
        if outputs <= 1 and produced > 1:
            raise self.fail(at, f"the last transform yields {produced} values but the field has one target")

    def _options(self, item: TransformItem) -> Any:
        return next(iter(item.values())) if isinstance(item, dict) else None

    def _definition(self, at: KeyPath, item: TransformItem) -> tuple[TransformDef, Any]:
        if isinstance(item, dict):
            if len(item) != 1:
                raise self.fail(at, "a transform is a name or a one-key mapping {name: options}")
            name, raw = next(iter(item.items()))
        else:
            name, raw = item, None
        if name not in self.transforms:
            close = difflib.get_close_matches(str(name), self.transforms.names(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.fail(at, f"unknown transform {name!r}{hint}")
        return self.transforms.get(name), raw

    def _chain(self, at: KeyPath, items: list[TransformItem], env: BuildEnv) -> tuple[Step, ...]:
        steps = []
        for i, item in enumerate(items):
            definition, raw = self._definition((*at, i), item)
            steps.append(self._build((*at, i), definition, raw, env, definition.forward))
        return tuple(steps)

    def _build(self, at: KeyPath, definition: TransformDef, raw: Any, env: BuildEnv, factory: Any) -> Step:
        name_at: KeyPath = (*at, definition.name) if isinstance(raw, dict) or raw is not None else at
        try:
            options = definition.parse_options(raw)
        except ValidationError as exc:
            if isinstance(raw, dict):
                raise _pydantic_error(exc, self.located, name_at) from None
            raise self.fail(name_at, exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        except ValueError as exc:
            raise self.fail(name_at, str(exc)) from None
        try:
            return factory(options, env)
        except ValueError as exc:
            raise self.fail(name_at, str(exc)) from None

    def _check_targets(self, plans: tuple[FieldPlan, ...]) -> None:
        seen: dict[str, int] = {}
        written: dict[str, int] = {}
        for plan in plans:
            at: KeyPath = ("fields", plan.index)
            if plan.forward is not None:
                names = [t.path for t in plan.canonicals] + ([plan.canonicals[0].raw_field] if plan.raw else [])
                for name in names:
                    assert name is not None
                    clash = next((p for p in seen if p == name or p.startswith(name + ".")
                                  or name.startswith(p + ".")), None)
                    if clash is not None:
                        raise self.fail((*at, "canonical"), f"canonical field {name!r} is already mapped by "
                                                            f"fields[{seen[clash]}]")
                    seen[name] = plan.index
            if plan.inverse is not None:
                for native in plan.natives:
                    if native in written:
                        raise self.fail((*at, "native"), f"native field {native!r} is already written by "
                                                         f"fields[{written[native]}]; set `direction: "
                                                         "to_canonical` on one of them")
                    written[native] = plan.index


def _name(item: TransformItem) -> str:
    return next(iter(item)) if isinstance(item, dict) else item


def _on_unknown(raw: Any) -> str | None:
    if isinstance(raw, dict):
        try:
            return ValueMapOptions.model_validate(raw).on_unknown
        except ValidationError:
            return None
    return None
