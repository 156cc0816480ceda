"""Models built by the generated code equal what pydantic's validator makes of the same record.

Every shipped spec maps generated native records twice: with the in-place builder and with
``build=False`` (pydantic validates every model). Both must accept or reject the same records, with
the same reasons, equal models, the same fields set at every level and the same value types.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from mappings import Mapper, MappingContext, RecordRejection
from mappings.canonical import CanonicalRegistry
from mappings.engine.codegen import BUILT
from mappings.spec.compile import load_spec
from mappings.transforms.base import TransformRegistry
from orchestrator.commands.mappings_cmd import SHIPPED

SPECS = sorted(SHIPPED.rglob("*.yaml"))
CTX = MappingContext(lookup=lambda entity, native: None if native.endswith("9") else f"{entity}:{native}",
                     reverse_lookup=lambda entity, canonical: canonical.partition(":")[2] or None,
                     timezone="Europe/Madrid", on_missing_reference=None)

VALUES = st.one_of(
    st.none(), st.just(""), st.sampled_from([
        " Ana ", "García", "ana@acme.es", "ANA@ACME.ES", "bad@@mail", "912 345 678", "+34 612 34 56 78", "12",
        "Spain", "ES", "xx", "EUR", "eur", "EURO", "2024-05-01", "2024-05-01T10:00:00.000+0000", "2024-13-45",
        "Y", "N", "A", "I", "B", "RETAIL", "MINING", "OPEN", "SHIP", "HOLD", "Closed Won", "Needs Analysis", "Nope",
        "Open - Not Contacted", "Customer - Channel", "001A0000006Vm9rIAC", "003A0000006Vm9r", "005xyz",
        "https://www.acme.es", "100245", "E07", "Ana María García", "true", "false", "1234.5", "abc"]),
    st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**6, max_value=10**6),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1),
                 timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))])),
)


def natives(mapper: Mapper) -> list[str]:
    names = {n for f in mapper.spec.fields for n in f.native_paths} | set(mapper.spec.key_fields)
    return sorted(n.split(".")[0] for n in names)


def pair(path: Path) -> tuple[Mapper, Mapper]:
    compiled = load_spec(path, CanonicalRegistry(), TransformRegistry.builtin())
    return Mapper(compiled), Mapper(compiled, build=False)


def fields_sets(model: Any) -> Any:
    """The fields set and value types of a model, nested models included."""
    if not isinstance(model, BaseModel):
        return type(model)
    return (type(model), frozenset(model.model_fields_set),
            tuple((name, fields_sets(getattr(model, name))) for name in type(model).model_fields))


def outcome(mapper: Mapper, record: dict[str, Any]) -> Any:
    try:
        model = mapper.to_canonical(record, CTX)
    except RecordRejection as rejection:
        return ("rejected", sorted((r.field, r.code) for r in rejection.reasons))
    return ("ok", model, fields_sets(model))


@pytest.mark.parametrize("path", SPECS, ids=[f"{p.parent.name}/{p.stem}" for p in SPECS])
def test_builder_is_pydantic(path: Path) -> None:
    built, validated = pair(path)
    names = natives(built)

    @settings(derandomize=True, database=None, max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.fixed_dictionaries({}, optional={n: VALUES for n in names}))
    def check(record: dict[str, Any]) -> None:
        assert outcome(built, record) == outcome(validated, record)
    check()


def test_the_builder_is_used_for_clean_records() -> None:
    built, _ = pair(SHIPPED / "salesforce" / "contact.yaml")
    record = {"Id": "003A0000006Vm9rIAC", "LastName": "Ruiz", "Email": "a@acme.es", "MailingCountry": "Spain",
              "AccountId": "001A0000006Vm9rIAC", "CreatedDate": "2024-05-01T10:00:00.000+0000", "IsDeleted": False,
              "HasOptedOutOfEmail": False, "Birthdate": "1980-01-02"}
    model, marker = built._forward(record, CTX)
    assert marker is BUILT
    assert model.mailing_address.country == "ES" and model.model_fields_set >= {"last_name", "mailing_address"}
    assert model.model_dump()["created_at"] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert isinstance(model.model_dump()["birthdate"], date) and not isinstance(model.email, Decimal)
