"""The transform library, one transform at a time, through the registry as specs use it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from mappings import MappingContext, TransformError, TransformRegistry
from mappings.transforms.base import BuildEnv, FieldInfo, Step
from mappings.transforms.ids import salesforce_id18
from mappings.transforms.picklist import Raw

REGISTRY = TransformRegistry.builtin()
CTX = MappingContext(timezone="Europe/Madrid")


def build(name: str, options: Any = None, *, inverse: bool = False, native: tuple[str, ...] = ("x",),
          canonical: tuple[FieldInfo, ...] = (FieldInfo("f", str),), timezone: str | None = None,
          region: str | None = None) -> Step:
    definition = REGISTRY.get(name)
    env = BuildEnv("Contact", "to_native" if inverse else "to_canonical", canonical, native, timezone, region)
    factory = definition.inverse if inverse else definition.forward
    assert callable(factory)
    return factory(definition.parse_options(options), env)


def run(step: Step, value: Any, ctx: MappingContext = CTX) -> Any:
    return step.fn(value, ctx) if step.context else step.fn(value)


def code_of(step: Step, value: Any, ctx: MappingContext = CTX) -> str:
    with pytest.raises(TransformError) as caught:
        run(step, value, ctx)
    return caught.value.code


def test_text() -> None:
    assert run(build("trim"), "  a b ") == "a b"
    assert run(build("trim"), "   ") is None
    assert run(build("trim"), 5) == 5
    assert run(build("upper"), "es12") == "ES12"
    assert code_of(build("lower"), 5) == "invalid_value"
    assert run(build("normalize_space"), " a \t b ") == "a b"
    assert run(build("null_if", ["N/A", "-"]), "N/A") is None
    assert run(build("null_if", ["N/A"]), "x") == "x"
    assert code_of(build("max_length", 3), "abcd") == "too_long"
    assert run(build("max_length", {"length": 3, "on_overflow": "truncate"}), "abcd") == "abc"
    assert run(build("template", "Order {0}"), "SO-1") == "Order SO-1"
    assert run(build("url_domain"), "https://www.Acme.es/contact") == "acme.es"
    assert code_of(build("url_domain"), "nohost") == "invalid_value"
    assert run(build("string"), 42) == "42"
    assert run(build("string", "integer", inverse=True), "42") == 42
    assert code_of(build("string"), True) == "invalid_value"


def test_email_and_phone() -> None:
    assert run(build("email"), " John.Doe@Example.COM ") == "John.Doe@example.com"
    assert code_of(build("email"), "john@@example.com") == "invalid_email"
    assert run(build("phone", "ES"), "912 34 56 78") == "+34912345678"
    assert run(build("phone", region="US"), "(415) 555-0132") == "+14155550132"  # the spec's phone_region
    assert run(build("phone"), "+44 20 7946 0958") == "+442079460958"
    assert code_of(build("phone"), "912 34 56 78") == "unparseable_phone"  # national without a region
    assert code_of(build("phone", "ES"), "12") == "unparseable_phone"
    assert run(build("phone", {"region": "ES", "native_format": "national"}, inverse=True),
               "+34912345678") == "912 34 56 78"
    assert run(build("phone", {"region": "ES", "native_format": "national"}, inverse=True),
               "+442079460958") == "+44 20 7946 0958"  # foreign numbers stay international
    assert run(build("phone", {"native_format": "international"}, inverse=True), "+34912345678") == "+34 912 34 56 78"


def test_countries_and_currencies() -> None:
    for text in ("ES", "es", "ESP", "Spain", " spain "):
        assert run(build("country"), text) == "ES"
    assert code_of(build("country"), "Atlantis") == "invalid_country"
    assert run(build("country", "alpha3", inverse=True), "DE") == "DEU"
    assert run(build("country", "name", inverse=True), "DE") == "Germany"
    assert run(build("currency"), "eur") == "EUR"
    assert code_of(build("currency"), "EURO") == "invalid_currency"


def test_datetimes() -> None:
    salesforce = run(build("datetime"), "2024-05-01T10:00:00.000+0000")
    assert salesforce == datetime(2024, 5, 1, 10, tzinfo=UTC) and salesforce.tzinfo is UTC
    assert run(build("datetime"), "2024-05-01T12:00:00+02:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    # naive local times: the transform's zone, else the spec's, else the context's
    assert run(build("datetime", "Europe/Madrid"), datetime(2024, 1, 15, 9, 0)) == datetime(2024, 1, 15, 8, tzinfo=UTC)
    assert run(build("datetime", timezone="Europe/Madrid"), "2024-07-15 09:00:00") == datetime(2024, 7, 15, 7,
                                                                                               tzinfo=UTC)
    assert run(build("datetime"), "2024-07-15T09:00:00", CTX) == datetime(2024, 7, 15, 7, tzinfo=UTC)
    assert run(build("datetime"), "2024-07-15T09:00:00", MappingContext()) == datetime(2024, 7, 15, 9, tzinfo=UTC)
    assert run(build("datetime", {"epoch": "milliseconds"}), 1714557600000) == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert code_of(build("datetime"), "yesterday") == "invalid_date"
    assert code_of(build("datetime"), 12) == "invalid_date"
    moment = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert run(build("datetime", {"native_format": "salesforce"}, inverse=True), moment) == \
        "2024-05-01T10:00:00.123+0000"
    assert run(build("datetime", {"native_format": "naive", "timezone": "Europe/Madrid"}, inverse=True),
               moment) == datetime(2024, 5, 1, 12, 0, 0, 123456)
    assert run(build("datetime", {"native_format": "iso"}, inverse=True), moment) == "2024-05-01T10:00:00.123456+00:00"


def test_dates() -> None:
    assert run(build("date"), "2024-02-29") == date(2024, 2, 29)
    assert run(build("date"), "2024-02-29T00:00:00.000+0000") == date(2024, 2, 29)
    assert run(build("date"), datetime(2024, 2, 29, 13, 0)) == date(2024, 2, 29)
    assert code_of(build("date"), "2023-02-29") == "invalid_date"
    assert run(build("date", inverse=True), date(2024, 2, 29)) == "2024-02-29"
    assert run(build("date", "date", inverse=True), date(2024, 2, 29)) == date(2024, 2, 29)


def test_numbers_and_money() -> None:
    assert run(build("decimal", 2), "1234.5") == Decimal("1234.50")
    assert run(build("decimal"), 0.1) == Decimal("0.1")
    assert run(build("decimal", {"scale": 0, "rounding": "half_even"}), "2.5") == Decimal("2")
    for bad in ("abc", "NaN", "Infinity", True, "1_000"):
        assert code_of(build("decimal"), bad) == "invalid_number"
    assert run(build("decimal", {"native_type": "float"}, inverse=True), Decimal("1.5")) == 1.5
    assert run(build("integer"), 10.0) == 10 and run(build("integer"), "12") == 12
    assert code_of(build("integer"), 10.5) == "invalid_number"
    money = build("money", {"scale": 2}, native=("amount", "currency"))
    assert run(money, ("1234.5", "eur")) == {"amount": Decimal("1234.50"), "currency": "EUR"}
    assert run(money, (None, "EUR")) is None
    assert code_of(money, ("1", "XXX1")) == "invalid_currency"
    assert code_of(money, ("one", "EUR")) == "invalid_number"
    assert run(build("money", "EUR"), 5) == {"amount": Decimal(5), "currency": "EUR"}


def test_booleans() -> None:
    default = build("boolean")
    assert [run(default, v) for v in (True, "true", "Y", 1, "0", False, "no")] == [True, True, True, True, False,
                                                                                   False, False]
    assert code_of(default, "maybe") == "invalid_value"
    flags = build("boolean", {"true_values": ["Y"], "false_values": ["N"]})
    assert run(flags, "y") is True and run(flags, "N") is False
    assert code_of(flags, True) == "invalid_value"  # only what the table lists
    write = build("boolean", {"native_true": "Y", "native_false": "N"}, inverse=True)
    assert (run(write, True), run(write, False)) == ("Y", "N")


def test_value_maps() -> None:
    from mappings.canonical.entities import OpportunityStage

    stage = (FieldInfo("stage", OpportunityStage, OpportunityStage, "stage_raw"),)
    options = {"map": {"Qualification": "qualification", "Needs Analysis": "qualification", "Closed Won": "closed_won"},
               "on_unknown": "other"}
    forward = build("value_map", options, canonical=stage)
    assert run(forward, "Closed Won") == "closed_won"
    needs = run(forward, "Needs Analysis")  # not the first native of its value: carried raw
    assert isinstance(needs, Raw) and (str(needs), needs.canonical) == ("Needs Analysis", "qualification")
    unknown = run(forward, "Lost to budget")
    assert isinstance(unknown, Raw) and unknown.canonical == "other"
    back = build("value_map", options, canonical=stage, inverse=True)
    assert run(back, "qualification") == "Qualification"
    assert run(back, Raw("Needs Analysis", "qualification")) == "Needs Analysis"
    assert run(back, Raw("Needs Analysis", "closed_won")) == "Closed Won"  # the raw value is stale
    assert run(back, Raw("Lost to budget", "other")) == "Lost to budget"
    assert code_of(back, "other") == "unknown_picklist_value"
    strict = build("value_map", {"map": {"A": True, "I": False}})
    assert code_of(strict, "B") == "unknown_picklist_value"
    assert run(build("value_map", {"map": {"a": 1}, "on_unknown": "keep"}), "zz") == "zz"
    assert run(build("value_map", {"map": {"Retail": "R"}, "ignore_case": True}), " RETAIL ") == "R"


def test_structure() -> None:
    assert run(build("default", 0), None) == 0 and run(build("default", 0), 5) == 5
    assert run(build("constant", "task"), "anything") == "task"
    assert run(build("coalesce", native=("a", "b", "c")), (None, "x", "y")) == "x"
    split = build("split_name", canonical=(FieldInfo("first_name", str), FieldInfo("last_name", str)))
    assert run(split, "Ana María García") == ("Ana María", "García")
    assert run(split, "García, Ana") == ("Ana", "García")
    assert run(split, "Cher") == (None, "Cher")
    assert run(build("split_name", "last_first"), "García Ana") == ("Ana", "García")
    join = build("join_name", native=("f", "l"))
    assert run(join, ("Ana", "García")) == "Ana García" and run(join, (None, "García")) == "García"
    assert run(build("split", {"separator": "|", "parts": 3}), "a|b") == ("a", "b", None)
    assert run(build("join", {"separator": "|", "parts": 2}), ("a", None)) == "a"


def test_salesforce_ids() -> None:
    assert salesforce_id18("001A0000006Vm9r") == "001A0000006Vm9rIAC"  # Salesforce's documented example
    assert salesforce_id18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    assert salesforce_id18("001A0000006Vm9rIAD") is None  # wrong checksum
    assert salesforce_id18("001a0000006vm9r") != salesforce_id18("001A0000006Vm9r")  # case matters
    assert code_of(build("sf_id"), "001") == "invalid_value"
    assert run(build("sf_id", 15, inverse=True), "001A0000006Vm9rIAC") == "001A0000006Vm9r"


def test_references() -> None:
    table = {("Contact", "003A"): "c-1", ("Lead", "00QB"): "l-1"}
    ctx = MappingContext(lookup=lambda e, n: table.get((e, n)),
                         reverse_lookup=lambda e, c: {v: k[1] for k, v in table.items()}.get(c))
    who = build("reference", {"entity": ["Contact", "Lead"], "prefixes": {"003": "Contact", "00Q": "Lead"}})
    assert run(who, "003A", ctx) == "c-1" and run(who, "00QB", ctx) == "l-1"
    assert code_of(who, "003Z", ctx) == "unresolved_reference"
    assert run(build("reference", {"entity": "Contact", "on_missing": "null"}), "003Z", ctx) is None
    assert run(build("reference", {"entity": "Contact", "on_missing": "keep"}), "003Z", ctx) == "003Z"
    assert run(build("reference", {"entity": ["Contact", "Lead"]}, inverse=True), "l-1", ctx) == "00QB"
    assert code_of(build("reference", "Contact"), "003A", MappingContext()) == "unresolved_reference"


def test_project_transforms_without_forking(tmp_path: Any) -> None:
    registry = TransformRegistry.builtin()

    def vat(value: Any) -> Any:
        text = str(value).replace(" ", "").upper()
        if not text[:2].isalpha():
            raise ValueError("no country prefix")
        return text
    registry.register_function("eu_vat", vat)
    step = registry.get("eu_vat").forward(registry.get("eu_vat").parse_options(None), BuildEnv("Account",
                                                                                            "to_canonical"))
    assert step.fn("es b123") == "ESB123"
    with pytest.raises(TransformError) as caught:
        step.fn("123")
    assert caught.value.code == "invalid_value"
    with pytest.raises(ValueError, match="already registered"):
        registry.register_function("trim", str.strip)
    registry.load("tests.unit.test_mapping_transforms:_plugin")
    assert "shout" in registry
    assert "shout" not in TransformRegistry.builtin()  # registries are explicit, never global


def _plugin(registry: TransformRegistry) -> None:
    registry.register_function("shout", lambda v: str(v).upper() + "!")
