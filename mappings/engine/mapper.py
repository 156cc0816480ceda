"""The mapper of one spec: native <-> canonical, with every rejected field explained."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mappings import reasons
from mappings.canonical import CanonicalModel, CanonicalRegistry
from mappings.context import MappingContext
from mappings.engine.codegen import BUILT, forward_function, inverse_function
from mappings.errors import Reason, RecordRejection
from mappings.spec.compile import CompiledSpec, load_spec
from mappings.spec.model import MappingSpec
from mappings.transforms.base import TransformError, TransformRegistry

_PYDANTIC_CODES = {
    "missing": reasons.REQUIRED_MISSING,
    "string_too_long": reasons.TOO_LONG,
    "too_long": reasons.TOO_LONG,
    "enum": reasons.UNKNOWN_PICKLIST_VALUE,
    "int_parsing": reasons.INVALID_NUMBER, "int_from_float": reasons.INVALID_NUMBER, "int_type": reasons.INVALID_NUMBER,
    "decimal_parsing": reasons.INVALID_NUMBER, "decimal_type": reasons.INVALID_NUMBER,
    "finite_number": reasons.INVALID_NUMBER,
}


def reason_from_pydantic(error: Mapping[str, Any]) -> Reason:
    """One pydantic error as a Reason: stable code and field path, never the input value."""
    field = ".".join(str(p) for p in error["loc"])
    kind: str = error["type"]
    code = _PYDANTIC_CODES.get(kind)
    if code is None:
        if kind == "value_error":
            message = str(error.get("ctx", {}).get("error", ""))
            code = message if message in reasons.ALL else reasons.INVALID_VALUE
        elif kind == "string_too_short":
            code = reasons.REQUIRED_MISSING if error.get("ctx", {}).get("min_length") == 1 else reasons.INVALID_VALUE
        elif kind.startswith(("date", "datetime", "timezone")):
            code = reasons.INVALID_DATE
        else:
            code = reasons.INVALID_VALUE
    return Reason(code, field, kind)


class Mapper:
    """Maps one native object of one system to one canonical entity and back; compiled once per spec."""

    def __init__(self, compiled: CompiledSpec, *, build: bool = True) -> None:
        """``build=False`` leaves every model to pydantic's validator (the reference the builder matches)."""
        self.spec: MappingSpec = compiled.spec
        self.file = compiled.file
        self.model: type[BaseModel] = compiled.model
        self._forward, forward_source = forward_function(compiled, build=build)
        self._inverse, inverse_source = inverse_function(compiled)
        self.source = forward_source + "\n" + inverse_source
        self._validate = self.model.__pydantic_validator__.validate_python
        self.reference_targets: dict[str, tuple[str, ...]] = {
            plan.canonicals[0].path: plan.references for plan in compiled.fields
            if plan.references and plan.canonicals}
        self.references: dict[str, str] = {k: v[0] for k, v in self.reference_targets.items()}
        self._key = self._key_function(compiled)

    @classmethod
    def load(cls, path: Path | str, registry: CanonicalRegistry | None = None,
             transforms: TransformRegistry | None = None) -> Mapper:
        """Load and compile one spec file (MappingSpecError naming file, line and key)."""
        return cls(load_spec(Path(path), registry or CanonicalRegistry(), transforms or TransformRegistry.builtin()))

    def __repr__(self) -> str:
        return f"Mapper({self.spec.system_type}:{self.spec.object} -> {self.spec.entity})"

    # --- keys -------------------------------------------------------------------------------

    def _key_function(self, compiled: CompiledSpec) -> Callable[[Mapping[str, Any]], str]:
        fields, steps = compiled.spec.key_fields, compiled.key_steps
        if len(fields) == 1 and not steps:
            name = fields[0]

            def simple(record: Mapping[str, Any]) -> str:
                value = record.get(name)
                if value is None or value == "":
                    raise RecordRejection([Reason(reasons.REQUIRED_MISSING, name, "key")])
                return value if type(value) is str else str(value)
            return simple

        def composite(record: Mapping[str, Any]) -> str:
            values = tuple(record.get(f) for f in fields)
            if any(v is None or v == "" for v in values):
                raise RecordRejection([Reason(reasons.REQUIRED_MISSING, ",".join(fields), "key")])
            value: Any = values if len(values) > 1 else values[0]
            try:
                for step in steps:
                    value = step.fn(value, MappingContext()) if step.context else step.fn(value)
            except TransformError as exc:
                raise RecordRejection([Reason(exc.code, ",".join(fields), "key")]) from None
            return "|".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
        return composite

    def native_key(self, record: Mapping[str, Any]) -> str:
        """The record's native key as text (RecordRejection when it has none)."""
        return self._key(record)

    def _key_or_none(self, record: Mapping[str, Any]) -> str | None:
        try:
            return self._key(record)
        except RecordRejection:
            return None

    # --- native -> canonical ----------------------------------------------------------------

    def to_canonical(self, record: Mapping[str, Any], ctx: MappingContext) -> CanonicalModel:
        """The canonical model of one native record; RecordRejection with every failing field."""
        data, failed = self._forward(record, ctx)
        if failed is BUILT:
            return data
        try:
            model = self._validate(data)
        except ValidationError as exc:
            raise RecordRejection(self._merge(failed, exc), key=self._key_or_none(record)) from None
        if failed:
            raise RecordRejection(failed, key=self._key_or_none(record))
        return model

    @staticmethod
    def _merge(failed: list[Reason] | None, exc: ValidationError) -> list[Reason]:
        found = list(failed or [])
        seen = {r.field for r in found}
        for error in exc.errors(include_url=False, include_input=False):
            reason = reason_from_pydantic(error)
            if not any(reason.field == f or reason.field.startswith(f + ".") for f in seen):
                found.append(reason)
                seen.add(reason.field)
        return found

    def map_batch(self, records: Iterable[Mapping[str, Any]], ctx: MappingContext
                  ) -> tuple[list[tuple[int, CanonicalModel]], list[tuple[int, RecordRejection]]]:
        """Map many records: (index, canonical) for the good, (index, rejection) for the bad; none dropped.

        Mapping creates no reference cycles (rejections are kept without their tracebacks), so the
        cyclic garbage collector is paused for the batch: its full-heap passes, triggered by the
        many small objects a batch allocates, otherwise cost as much as the mapping itself.
        """
        good: list[tuple[int, CanonicalModel]] = []
        bad: list[tuple[int, RecordRejection]] = []
        forward, validate, to_canonical = self._forward, self._validate, self.to_canonical
        collecting = gc.isenabled()
        gc.disable()
        try:
            for index, record in enumerate(records):
                data, failed = forward(record, ctx)
                if failed is BUILT:  # the generated code built the model
                    good.append((index, data))
                    continue
                if failed is None:  # to_canonical's common case, without its frame
                    try:
                        good.append((index, validate(data)))
                        continue
                    except ValidationError:
                        pass
                try:
                    good.append((index, to_canonical(record, ctx)))
                except RecordRejection as rejection:
                    bad.append((index, rejection.with_traceback(None)))
        finally:
            if collecting:
                gc.enable()
        return good, bad

    # --- canonical -> native ----------------------------------------------------------------

    def to_native(self, canonical: BaseModel, ctx: MappingContext, *, include_read_only: bool = False
                  ) -> dict[str, Any]:
        """The native record of a canonical model; fields marked read_only only when asked for."""
        if not isinstance(canonical, self.model) and getattr(canonical, "entity", None) != self.spec.entity:
            raise TypeError(f"{self!r} maps {self.spec.entity}, not {type(canonical).__name__}")
        out, failed = self._inverse(canonical, ctx, include_read_only)
        if failed:
            raise RecordRejection(failed, key=getattr(canonical, "id", None))
        return out

    def selects(self, canonical: BaseModel) -> bool:
        """True when the record matches the spec's ``select`` (which of several specs writes it)."""
        for path, expected in self.spec.select.items():
            value: Any = canonical
            for part in path.split("."):
                value = getattr(value, part, None)
            if value != expected:
                return False
        return True
