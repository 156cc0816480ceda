"""The shipped Opportunity spec maps every stage of a standard org's picklist and writes each back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.salesforce.objects import OPPORTUNITY_STAGES
from mappings import MappingContext, MappingSet

SPECS = Path(__file__).resolve().parents[2] / "mappings" / "specs" / "salesforce"
CTX = MappingContext(system="salesforce", lookup=lambda entity, native: None)


@pytest.fixture(scope="module")
def mapper() -> Any:
    return MappingSet.load(SPECS).for_object("Opportunity")


@pytest.mark.parametrize("stage", OPPORTUNITY_STAGES)
def test_every_org_stage_maps_to_a_known_stage_and_back(mapper: Any, stage: str) -> None:
    good, bad = mapper.map_batch([{"Id": "006000000000001AAA", "Name": "Deal", "StageName": stage,
                                   "CloseDate": "2024-01-01"}], CTX)
    assert not bad
    model = good[0][1]
    assert model.stage != "other"
    assert mapper.to_native(model, CTX)["StageName"] == stage


@pytest.mark.parametrize(("canonical", "native"), [("qualification", "Qualification"),
                                                   ("proposal", "Proposal/Price Quote")])
def test_a_stage_from_another_system_is_written_as_its_primary_native_value(
        mapper: Any, canonical: str, native: str) -> None:
    good, _ = mapper.map_batch([{"Id": "006000000000001AAA", "Name": "Deal", "StageName": native,
                                 "CloseDate": "2024-01-01"}], CTX)
    model = good[0][1]
    model = model.model_copy(update={"stage": type(model.stage)(canonical), "stage_raw": None})
    assert mapper.to_native(model, CTX)["StageName"] == native
