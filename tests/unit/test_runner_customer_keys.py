"""``crmsync customer``'s narrow key ranges: exact for whole numbers and text, valid Ids for Salesforce."""

from __future__ import annotations

from connectors.base import KeyRange
from connectors.salesforce.objects import id_for, is_valid_id
from orchestrator.commands.customer_cmd import single_key_range


def test_whole_numbers_and_text_get_the_narrowest_range() -> None:
    assert single_key_range("106") == KeyRange(start="106", end="107")
    assert single_key_range("C000123") == KeyRange(start="C000123", end="C000123\x00")
    assert single_key_range("007") == KeyRange(start="007", end="007\x00")  # not ["007", "8"): all of 0-7


def test_salesforce_ids_end_at_the_next_valid_fifteen_character_base() -> None:
    for n in (1, 9, 35, 61, 62 * 62 - 1):
        sf_id = id_for("001", n)
        found = single_key_range(sf_id)
        assert found.start == sf_id and isinstance(found.end, str) and len(found.end) == 15
        assert is_valid_id(found.end) and found.end > sf_id[:15]
        assert id_for("001", n + 1)[:15] >= found.end  # the next record's Id is outside the range
