"""Canonical models built by the generated mapping code itself, identical to pydantic's validation.

pydantic-core spends about as long validating a mapped contact as the mapping spends producing it.
The generated code already holds every value in a local of a known shape, so it checks each one
the way pydantic would for that shape (exact type, length and bound constraints, enum membership,
the very same ``AfterValidator`` functions, nested models, defaults for what is absent) and creates
the instance as pydantic does (``__dict__``, fields set, no extra, no private). Whatever it does not
replicate it declines: a whole model (validators, aliases, private attributes, default factories,
other constraints or types) at compile time, one record (any value of another type, any failing
check) at run time, and then the record goes through pydantic's validator, which also explains the
errors. So a built model equals a validated one, fields set included;
``tests/unit/test_mapping_construct.py`` checks it on generated records of every shipped spec.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo as PydanticField
from pydantic.functional_validators import AfterValidator
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticUndefined


class Unsupported(Exception):
    """The model uses something the generated builder does not replicate: always validate it."""


_CONFIG = {  # model_config keys the builder relies on, and the values it supports
    "extra": ("forbid",), "strict": (None, False), "str_strip_whitespace": (None, False),
    "str_to_lower": (None, False), "str_to_upper": (None, False), "str_min_length": (None, 0),
    "str_max_length": (None,), "validate_default": (None, False), "revalidate_instances": (None, "never"),
    "use_enum_values": (None, False), "coerce_numbers_to_str": (None, False),
}


def check_model(model: type[BaseModel]) -> None:
    """Unsupported unless every field and setting of ``model`` is one the builder replicates."""
    decorators = model.__pydantic_decorators__
    if (decorators.validators or decorators.field_validators or decorators.root_validators
            or decorators.model_validators):
        raise Unsupported("validators")
    if model.__private_attributes__ or model.__pydantic_post_init__:
        raise Unsupported("private attributes or post-init")
    for key, allowed in _CONFIG.items():
        if model.model_config.get(key) not in allowed:
            raise Unsupported(f"config {key}")
    for name, info in model.model_fields.items():
        if info.alias or info.validation_alias or info.default_factory is not None:
            raise Unsupported(f"{name}: alias or default factory")
        if info.default is not PydanticUndefined:
            default_source(info.default, {})


def split(info: PydanticField) -> tuple[Any, list[Any], bool]:
    """(base type, constraints and validators, nullable) of a model field."""
    annotation, metadata, nullable = info.annotation, list(info.metadata), False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            args = get_args(annotation)
            annotation, metadata = args[0], [*args[1:], *metadata]
        elif origin is Union or origin is UnionType:
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1 or len(get_args(annotation)) != 2:
                raise Unsupported(f"union {annotation!r}")
            nullable, annotation = True, members[0]
        else:
            return annotation, metadata, nullable


def default_source(default: Any, names: dict[str, Any]) -> str:
    """Python source for a field default: literals inline, enum members bound as names."""
    if default is None or type(default) in (bool, int, str):
        return repr(default)
    if isinstance(default, Enum):
        name = f"_d{len(names)}"
        names[name] = default
        return name
    raise Unsupported(f"default {default!r}")


Emit = Callable[[int, str], None]
Bind = Callable[[str, Any], str]


def _memos() -> dict[Any, Any]:
    """Validators whose answer for a value in a memo is the value itself, and that memo.

    ``types._email(v)`` is ``normalise_email(v)``, which returns ``v`` unchanged when the email fast
    path remembers it as a normal form; ``types._phone(v)`` returns ``v`` when ``is_e164(v)``, which
    holds for every remembered E.164 form. The memos are cleared in place, never replaced.
    ``types._country(v)`` is ``v`` for every ISO alpha-2 code (checked here, once).
    """
    from mappings.canonical import types
    from mappings.fastpath import email as fast_email
    from mappings.fastpath import phone as fast_phone

    return {types._email: fast_email._FIXED, types._phone: fast_phone._CANONICAL, types._country: _alpha2()}


_ALPHA2: dict[str, None] = {}


def _alpha2() -> dict[str, None]:
    """ISO 3166-1 alpha-2 codes that ``types._country`` returns unchanged (all of them)."""
    if not _ALPHA2:
        import pycountry

        from mappings.canonical import types
        for country in pycountry.countries:
            code = country.alpha_2
            if types._country(code) == code:
                _ALPHA2[code] = None
    return _ALPHA2


def rewrites(base: Any, metadata: list[Any]) -> bool:
    """True when the checks of this shape replace the value (validators, enums, nested models)."""
    return any(isinstance(m, AfterValidator) for m in metadata) or (
        isinstance(base, type) and issubclass(base, Enum | BaseModel))


def emit_checks(add: Emit, bind: Bind, var: str, base: Any, metadata: list[Any], indent: int,
                fail: str = "break") -> None:
    """Statements that turn ``var`` into what pydantic would store, or ``fail`` (decline)."""
    lengths = [m for m in metadata if isinstance(m, annotated_types.MinLen | annotated_types.MaxLen)]
    bounds = [m for m in metadata if isinstance(m, annotated_types.Ge | annotated_types.Le | annotated_types.Gt
                                                | annotated_types.Lt)]
    afters = [m for m in metadata if isinstance(m, AfterValidator)]
    rest = [m for m in metadata if m not in (*lengths, *bounds, *afters) and not isinstance(m, WithJsonSchema)]
    if rest or (lengths or afters) and base is not str or bounds and base is not int:
        raise Unsupported(f"metadata {metadata!r}")
    if base is str:
        add(indent, f"if type({var}) is not str: {fail}")
        for length in lengths:
            if isinstance(length, annotated_types.MinLen):
                add(indent, f"if len({var}) < {length.min_length}: {fail}")
            else:
                add(indent, f"if len({var}) > {length.max_length}: {fail}")
        memos = _memos()
        for after in afters:
            if after.func.__code__.co_argcount != 1:
                raise Unsupported("validator taking info")
            inner = indent
            if after.func in memos:
                add(indent, f"if {var} not in {bind('memo', memos[after.func])}:")
                inner = indent + 1
            add(inner, f"try: {var} = {bind('after', after.func)}({var})")
            add(inner, f"except ValueError: {fail}")
    elif base is bool:
        add(indent, f"if type({var}) is not bool: {fail}")
    elif base is int:
        add(indent, f"if type({var}) is not int: {fail}")
        for bound in bounds:
            op, attr = {annotated_types.Ge: ("<", "ge"), annotated_types.Le: (">", "le"),
                        annotated_types.Gt: ("<=", "gt"), annotated_types.Lt: (">=", "lt")}[type(bound)]
            add(indent, f"if {var} {op} {getattr(bound, attr)!r}: {fail}")
    elif base is Decimal:
        add(indent, f"if type({var}) is not {bind('Decimal', Decimal)} or not {var}.is_finite(): {fail}")
    elif base is date:
        add(indent, f"if type({var}) is not {bind('date', date)}: {fail}")
    elif base is AwareDatetime:  # UTC's offset is never None: no call for the common zone
        add(indent, f"if type({var}) is not {bind('datetime', datetime)} or {var}.tzinfo is not "
                    f"{bind('utc', UTC)} and ({var}.tzinfo is None or {var}.utcoffset() is None): {fail}")
    elif base is datetime:
        add(indent, f"if type({var}) is not {bind('datetime', datetime)}: {fail}")
    elif isinstance(base, type) and issubclass(base, Enum):
        members = bind("members", dict(base._value2member_map_))
        add(indent, f"if type({var}) is not {bind('enum', base)}:")
        add(indent + 1, f"if type({var}) is not str or {var} not in {members}: {fail}")
        add(indent + 1, f"{var} = {members}[{var}]")
    elif isinstance(base, type) and issubclass(base, BaseModel):
        make = bind("build", dict_builder(base))
        add(indent, f"if type({var}) is dict: {var} = {make}({var})")
        add(indent, f"elif type({var}) is not {bind('model', base)}: {fail}")
        add(indent, f"if {var} is None: {fail}")
    else:
        raise Unsupported(f"type {base!r}")


_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def _slot_setters(model: type[BaseModel]) -> tuple[Any, ...] | None:
    """The ``__set__`` of BaseModel's four instance slots, if ``model`` resolves each name to them."""
    setters = []
    for name in _SLOTS:
        descriptor = BaseModel.__dict__[name]
        if inspect.getattr_static(model, name, None) is not descriptor:
            return None
        setters.append(descriptor.__set__)
    return tuple(setters)


def emit_instance(add: Emit, bind: Bind, indent: int, target: str, model: type[BaseModel], values: str,
                  fields_set: str) -> None:
    """``target = <model instance>`` as pydantic creates it after validation.

    The slots are written through their descriptors when the model has BaseModel's own (always, short
    of a metaclass trick): a third cheaper than ``object.__setattr__`` by name, which looks each up.
    """
    cls = bind("cls", model)
    setters = _slot_setters(model) if model.__new__ is object.__new__ else None
    if setters is None:
        setter = bind("set", object.__setattr__)
        add(indent, f"{target} = {cls}.__new__({cls})")
        for name, value in zip(_SLOTS, (values, fields_set, "None", "None"), strict=True):
            add(indent, f"{setter}({target}, {name!r}, {value})")
        return
    add(indent, f"{target} = {bind('new', object.__new__)}({cls})")
    for name, setter, value in zip(_SLOTS, setters, (values, fields_set, "None", "None"), strict=True):
        add(indent, f"{bind('set' + name.strip('_').split('_')[-1], setter)}({target}, {value})")


_DICT_BUILDERS: dict[type[BaseModel], Callable[[dict[str, Any]], Any]] = {}


def dict_builder(model: type[BaseModel]) -> Callable[[dict[str, Any]], Any]:
    """A builder of ``model`` from a dict (nested values such as Money): the instance or None (decline)."""
    found = _DICT_BUILDERS.get(model)
    if found is not None:
        return found
    check_model(model)
    lines: list[str] = ["def build(d):", "    if not d.keys() <= _names: return None"]
    names: dict[str, Any] = {"_names": frozenset(model.model_fields), "_M": object()}

    def add(indent: int, text: str) -> None:
        lines.append("    " * indent + text)

    def bind(prefix: str, value: Any) -> str:
        name = f"_{prefix}{len(names)}"
        names[name] = value
        return name

    values = []
    for i, (name, info) in enumerate(model.model_fields.items()):
        base, metadata, nullable = split(info)
        var = f"f{i}"
        values.append(f"{name!r}: {var}")
        add(1, f"{var} = d.get({name!r}, _M)")
        if info.default is PydanticUndefined:
            add(1, f"if {var} is _M: return None")
        else:
            add(1, f"if {var} is _M: {var} = {default_source(info.default, names)}")
            add(1, f"elif {var} is None: {'pass' if nullable else 'return None'}")
            add(1, "else:")
            emit_checks(add, bind, var, base, metadata, 2, fail="return None")
            continue
        add(1, f"if {var} is None: {'pass' if nullable else 'return None'}")
        add(1, "else:")
        emit_checks(add, bind, var, base, metadata, 2, fail="return None")
    emit_instance(add, bind, 1, "o", model, "{" + ", ".join(values) + "}", "set(d)")
    add(1, "return o")
    exec(compile("\n".join(lines) + "\n", f"<builder {model.__name__}>", "exec"), names)
    found = _DICT_BUILDERS[model] = names["build"]
    return found
