"""Compile field plans into two straight-line Python functions per spec: to canonical and to native.

Per record, a mapping must do nothing but read, transform and write: at 100,000 records/s the
budget is 10 microseconds for all fields, validation included, which leaves no room for looping
over field descriptions. So each spec becomes generated source (the technique of attrs,
dataclasses and cattrs): one statement block per field, the transform steps bound as globals of
the generated function. ``Mapper.source`` shows the code for debugging.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from mappings.errors import Reason
from mappings.reasons import REQUIRED_MISSING
from mappings.spec.compile import CompiledSpec, FieldPlan
from mappings.transforms.base import FieldInfo, Step, TransformError
from mappings.transforms.picklist import Raw

ForwardFn = Callable[[Any, Any], tuple[Any, Any]]  # (model, BUILT) or (data for pydantic, reasons or None)
InverseFn = Callable[[Any, Any, bool], tuple[dict[str, Any], "list[Reason] | None"]]


def _fail(failed: list[Reason] | None, exc: TransformError, field: str) -> list[Reason]:
    reason = Reason(exc.code, field, exc.detail)
    if failed is None:
        return [reason]
    failed.append(reason)
    return failed


def _missing(failed: list[Reason] | None, field: str) -> list[Reason]:
    return _fail(failed, TransformError(REQUIRED_MISSING), field)


def _dig(record: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(record, dict):
            return None
        record = record.get(part)
    return record


def _put(out: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        nxt = out.get(part)
        if not isinstance(nxt, dict):
            nxt = out[part] = {}
        out = nxt
    out[path[-1]] = value


def _attr(model: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if model is None:
            return None
        model = getattr(model, part)
    return model


def _blank(value: Any) -> Any:
    return None if value == "" else value


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"TransformError": TransformError, "_fail": _fail, "_missing": _missing,
                                      "_dig": _dig, "_put": _put, "_attr": _attr, "_blank": _blank, "Raw": Raw}

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def add(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def steps(self, indent: int, steps: tuple[Step, ...]) -> None:
        for step in steps:
            if step.inline is not None and "\n" in step.inline:
                if not step.null_safe:
                    self.add(indent, "if v is not None:")
                for line in self._inline(step).splitlines():
                    self.add(indent + (0 if step.null_safe else 1), line)
                continue
            if step.inline is not None:
                call = self._inline(step)
            else:
                fn = self.bind("step", step.fn)
                call = f"{fn}(v, ctx)" if step.context else f"{fn}(v)"
            self.add(indent, f"v = {call}" if step.null_safe else f"if v is not None: v = {call}")

    def _inline(self, step: Step) -> str:
        text = step.inline or ""
        if "{fn}" in text:
            text = text.replace("{fn}", self.bind("step", step.fn))
        for name, value in step.names.items():
            text = text.replace("{" + name + "}", self.bind(name, value))
        return text

    def compile(self, name: str) -> tuple[Callable[..., Any], str]:
        text = "\n".join(self.lines) + "\n"
        namespace = dict(self.names)
        exec(compile(text, f"<mapping {name}>", "exec"), namespace)
        return namespace[name], text


BUILT: Any = object()
"""In place of the reasons: the forward function built the canonical model itself."""


class _Locals:
    """One local variable per canonical target path (``c0``, ``c1``...), in first-mapped order."""

    def __init__(self, compiled: CompiledSpec) -> None:
        self.names: dict[str, str] = {}
        self.infos: dict[str, FieldInfo] = {}
        for plan in compiled.fields:
            if plan.forward is None:
                continue
            infos = list(plan.canonicals)
            if plan.raw and plan.canonicals[0].raw_field:
                raw = plan.canonicals[0].raw_field
                infos.append(FieldInfo(raw, str, omit_none=True))
            for info in infos:
                if "." in info.path.partition(".")[2]:
                    raise ValueError(f"canonical path {info.path!r} is nested too deeply")
                self.names[info.path] = f"c{len(self.names)}"
                self.infos[info.path] = info

    def top(self) -> dict[str, str]:
        """Top-level plain fields: name -> local."""
        return {path: var for path, var in self.names.items() if "." not in path}

    def groups(self) -> dict[str, dict[str, str]]:
        """Top-level fields written component by component (addresses): name -> {component: local}."""
        found: dict[str, dict[str, str]] = {}
        for path, var in self.names.items():
            top, _, rest = path.partition(".")
            if rest:
                found.setdefault(top, {})[rest] = var
        return found


def forward_function(compiled: CompiledSpec, build: bool = True) -> tuple[ForwardFn, str]:
    """``to_canonical(record, ctx)``: ``(model, BUILT)``, or ``(data, reasons or None)`` for pydantic."""
    from mappings.engine import construct

    src = _Source()
    slots = _Locals(compiled)
    src.add(0, "def to_canonical(record, ctx):")
    src.add(1, "failed = None")
    src.add(1, "get = record.get")
    for plan in compiled.fields:
        if plan.forward is not None:
            _forward_field(src, plan, slots.names, compiled.spec.options.empty_as_null)
    try:
        if build:
            _emit_build(src, compiled, slots, construct)
    except construct.Unsupported:
        pass  # this model is always validated by pydantic
    src.add(1, "data = {}")
    for path, var in slots.top().items():
        _write(src, 1, f"data[{path!r}]", var, slots.infos[path])
    for top, components in slots.groups().items():
        src.add(1, "g = {}")
        for component, var in components.items():
            src.add(1, f"if {var} is not None: g[{component!r}] = {var}")
        src.add(1, f"if g: data[{top!r}] = g")
    src.add(1, "return data, failed")
    fn, text = src.compile("to_canonical")
    return fn, text


def _emit_build(src: _Source, compiled: CompiledSpec, slots: _Locals, construct: Any) -> None:
    """The model built in place when every value checks out, exactly as pydantic would build it."""
    model = compiled.model
    construct.check_model(model)
    lines = _Source()
    lines.names = src.names
    add, bind = lines.add, lines.bind
    add(1, "while failed is None:  # leave with break: pydantic decides")
    values: list[tuple[str, str, Any]] = []  # (field, source, default); the default is unset for locals
    always: list[str] = []
    optional: list[tuple[str, str]] = []
    top, groups = slots.top(), slots.groups()
    for name, info in model.model_fields.items():
        base, metadata, nullable = construct.split(info)
        default = None if info.default is PydanticUndefined else construct.default_source(info.default, src.names)
        if name in top:
            mapped, var = slots.infos[name], top[name]
            if construct.rewrites(base, metadata):  # a copy: the locals stay as mapped for pydantic if we break
                add(2, f"b{var[1:]} = {var}")
                var = f"b{var[1:]}"
            if mapped.omit_none and info.default is not PydanticUndefined:
                if default != "None":
                    raise construct.Unsupported(f"{name}: a null left out would take a default")
                add(2, f"if {var} is not None:")
                construct.emit_checks(add, bind, var, base, metadata, 3)
                optional.append((name, top[name]))
            else:  # required, or never left out: a null is pydantic's to report
                add(2, f"if {var} is None: break")
                construct.emit_checks(add, bind, var, base, metadata, 2)
                (optional.append((name, top[name])) if mapped.omit_none else always.append(name))
            values.append((name, var, PydanticUndefined))
        elif name in groups:
            var = f"n_{name}"
            _emit_group(lines, construct, var, base, groups[name])
            optional.append((name, var))
            values.append((name, var, PydanticUndefined))
        elif info.default is PydanticUndefined:
            raise construct.Unsupported(f"{name} is required and not mapped")
        else:
            values.append((name, str(default), info.default))
    _emit_fields_set(lines, 2, "fs", always, optional)
    construct.emit_instance(add, bind, 2, "o", model, _emit_values(lines, 2, values), "fs")
    add(2, "return o, _BUILT")
    src.names["_BUILT"] = BUILT
    src.lines.extend(lines.lines)


_TEMPLATE_FROM = 9  # fields; fewer: the dict literal is as cheap


def _emit_values(lines: _Source, indent: int, values: list[tuple[str, str, Any]]) -> str:
    """The instance ``__dict__``: a literal, or for many fields a copy of a template then the mapped values.

    CPython builds a large dict literal key by key; copying a dict of the same keys is one block copy,
    and replacing a value is cheaper than inserting it. The template holds the defaults (immutable:
    None, literals, enum members) in the model's field order, which the copy keeps.
    """
    if len(values) < _TEMPLATE_FROM:
        return "{" + ", ".join(f"{name!r}: {source}" for name, source, _ in values) + "}"
    template = {name: None if default is PydanticUndefined else default for name, _, default in values}
    lines.add(indent, f"dd = {lines.bind('template', template)}.copy()")
    for name, source, default in values:
        if default is PydanticUndefined:  # a local of the generated code
            lines.add(indent, f"dd[{name!r}] = {source}")
    return "dd"


def _emit_fields_set(lines: _Source, indent: int, target: str, always: list[str],
                     optional: list[tuple[str, str]]) -> None:
    """``target``: the names of the fields set (pydantic's own set), those of null values taken out.

    A copy of the full set and one discard per null costs less than a literal of conditional
    elements when most fields hold values, as they do in most records.
    """
    full = lines.bind("fields", {*always, *(name for name, _ in optional)})
    lines.add(indent, f"{target} = {full}.copy()")
    for name, var in optional:
        lines.add(indent, f"if {var} is None: {target}.discard({name!r})")


def _emit_group(lines: _Source, construct: Any, var: str, model: Any, components: dict[str, str]) -> None:
    """A nested model (an address) from its component locals; None when every component is."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise construct.Unsupported("components of a non-model field")
    construct.check_model(model)
    add, bind = lines.add, lines.bind
    test = " or ".join(f"{v} is not None" for v in components.values())
    add(2, f"{var} = None")
    add(2, f"if {test}:")
    values, parts = [], []
    for name, info in model.model_fields.items():
        base, metadata, nullable = construct.split(info)
        if name in components:
            local = components[name]
            if not nullable or info.default is not None:
                raise construct.Unsupported(f"{name}: a component that cannot be null")
            if construct.rewrites(base, metadata):
                add(3, f"b{local[1:]} = {local}")
                local = f"b{local[1:]}"
            add(3, f"if {local} is not None:")
            construct.emit_checks(add, bind, local, base, metadata, 4)
            values.append(f"{name!r}: {local}")
            parts.append((name, local))
        elif info.default is PydanticUndefined:
            raise construct.Unsupported(f"{name} is required and not mapped")
        else:
            values.append(f"{name!r}: {construct.default_source(info.default, lines.names)}")
    _emit_fields_set(lines, 3, "gs", [], parts)
    construct.emit_instance(add, bind, 3, var, model, "{" + ", ".join(values) + "}", "gs")


def _read_native(src: _Source, plan: FieldPlan, empty_as_null: bool) -> None:
    def read(name: str) -> str:
        if "." in name:
            return f"_dig(record, {tuple(name.split('.'))!r})"
        return f"get({name!r})"
    if not plan.natives:
        src.add(1, "v = None")
    elif len(plan.natives) == 1:
        src.add(1, f"v = {read(plan.natives[0])}")
        first = plan.forward[0] if plan.forward else None
        if empty_as_null and not (first is not None and first.blank_to_none):
            src.add(1, "if v == '': v = None")
    else:
        wrap = "_blank({})" if empty_as_null else "{}"
        src.add(1, "v = (" + ", ".join(wrap.format(read(n)) for n in plan.natives) + ",)")
        src.add(1, "if " + " and ".join(f"v[{i}] is None" for i in range(len(plan.natives))) + ": v = None")


def _forward_field(src: _Source, plan: FieldPlan, slots: dict[str, str], empty_as_null: bool) -> None:
    assert plan.forward is not None
    label = plan.canonicals[0].path
    src.add(1, f"# fields[{plan.index}]: {', '.join(t.path for t in plan.canonicals)} <- "
               f"{', '.join(plan.natives) or '(no native field)'}")
    _read_native(src, plan, empty_as_null)
    targets = [slots[t.path] for t in plan.canonicals]
    if plan.forward and not any(step.raises for step in plan.forward):
        src.steps(1, plan.forward)
        if plan.required and len(targets) == 1:
            src.add(1, f"if v is None: failed = _missing(failed, {label!r})")
    elif plan.forward:
        src.add(1, "try:")
        src.steps(2, plan.forward)
        src.add(1, "except TransformError as e:")
        src.add(2, "v = None")
        src.add(2, f"failed = _fail(failed, e, {label!r})")
        if plan.required and len(targets) == 1:
            src.add(1, "else:")
            src.add(2, f"if v is None: failed = _missing(failed, {label!r})")
    elif plan.required and len(targets) == 1:
        src.add(1, f"if v is None: failed = _missing(failed, {label!r})")
    if plan.raw:
        raw_target = slots[plan.canonicals[0].raw_field or ""]
        src.add(1, f"{raw_target} = None")
        src.add(1, "if type(v) is Raw:")
        src.add(2, f"{raw_target} = str(v)")
        src.add(2, "v = v.canonical")
    if len(targets) == 1:
        src.add(1, f"{targets[0]} = v")
        return
    src.add(1, f"if v is None: v = {(None,) * len(targets)!r}")
    src.add(1, ", ".join(targets) + " = v")
    if plan.required:
        for target, info in zip(targets, plan.canonicals, strict=True):
            src.add(1, f"if {target} is None: failed = _missing(failed, {info.path!r})")


def _write(src: _Source, indent: int, target: str, value: str, info: FieldInfo) -> None:
    """Nulls of optional (or required) fields are left out: pydantic applies the default, or says missing."""
    if info.omit_none:
        src.add(indent, f"if {value} is not None: {target} = {value}")
    else:
        src.add(indent, f"{target} = {value}")


def inverse_function(compiled: CompiledSpec) -> tuple[InverseFn, str]:
    """``to_native(model, ctx, include_read_only) -> (native dict, reasons or None)``."""
    src = _Source()
    src.add(0, "def to_native(model, ctx, include_read_only):")
    src.add(1, "out = {}")
    src.add(1, "failed = None")
    for plan in compiled.fields:
        if plan.inverse is not None:
            _inverse_field(src, plan)
    src.add(1, "return out, failed")
    fn, text = src.compile("to_native")
    return fn, text


def _read_canonical(path: str) -> str:
    parts = path.split(".")
    return f"model.{parts[0]}" if len(parts) == 1 else f"_attr(model, {tuple(parts)!r})"


def _inverse_field(src: _Source, plan: FieldPlan) -> None:
    assert plan.inverse is not None
    indent = 1
    src.add(1, f"# fields[{plan.index}]: {', '.join(plan.natives)} <- "
               f"{', '.join(t.path for t in plan.canonicals) or '(no canonical field)'}")
    if plan.read_only:
        src.add(1, "if include_read_only:")
        indent = 2
    if not plan.canonicals:
        src.add(indent, "v = None")
    elif len(plan.canonicals) == 1:
        info = plan.canonicals[0]
        src.add(indent, f"v = {_read_canonical(info.path)}")
        if info.enum is not None:
            src.add(indent, "if v is not None: v = v.value")
        if plan.raw and info.raw_field:
            src.add(indent, f"r = {_read_canonical(info.raw_field)}")
            src.add(indent, "if v is not None and r is not None: v = Raw(r, v)")
    else:
        src.add(indent, "v = (" + ", ".join(_read_canonical(t.path) for t in plan.canonicals) + ",)")
        src.add(indent, "if " + " and ".join(f"v[{i}] is None" for i in range(len(plan.canonicals)))
                + ": v = None")
    label = ",".join(plan.natives)
    if plan.inverse:
        src.add(indent, "try:")
        src.steps(indent + 1, plan.inverse)
        src.add(indent, "except TransformError as e:")
        src.add(indent + 1, "v = None")
        src.add(indent + 1, f"failed = _fail(failed, e, {label!r})")
    if len(plan.natives) > 1:
        src.add(indent, f"if v is None: v = {(None,) * len(plan.natives)!r}")
    for i, native in enumerate(plan.natives):
        value = "v" if len(plan.natives) == 1 else f"v[{i}]"
        if "." in native:
            src.add(indent, f"_put(out, {tuple(native.split('.'))!r}, {value})")
        else:
            src.add(indent, f"out[{native!r}] = {value}")
