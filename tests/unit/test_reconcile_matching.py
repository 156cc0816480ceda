"""Matching cascade (xref, external ids, natural keys) and the spilling partitions under it."""

from __future__ import annotations

from pathlib import Path

from orchestrator.reconcile.keys import cascade, domain_key, name_key, natural_rules
from orchestrator.reconcile.matching import Matcher, Unmatched
from orchestrator.reconcile.records import CRecord, Pair
from orchestrator.reconcile.spill import BucketStore


def rec(system: str, key: str, cid: str | None = None, **values: object) -> CRecord:
    return CRecord(system, "Account", key, dict(values), canonical_id=cid)


def run(matcher: Matcher, left: list[CRecord], right: list[CRecord]) -> tuple[dict[str, str], set[str]]:
    for r in left:
        matcher.add("left", r)
    for r in right:
        matcher.add("right", r)
    pairs, alone = {}, set()
    for item in matcher.run():
        if isinstance(item, Pair):
            pairs[item.left.key] = f"{item.right.key}/{item.rule}"
        else:
            assert isinstance(item, Unmatched)
            alone.add(f"{item.side}:{item.record.key}")
    return pairs, alone


def test_cascade_order_xref_then_external_then_natural() -> None:
    matcher = Matcher("Account", cascade("Account", {"Account": ["domain", "name"]}), buckets=4)
    left = [rec("erp", "C1", "k1", name="A"), rec("erp", "C2", account_number="0002", name="B"),
            rec("erp", "C3", name="Acme GmbH", website="https://www.acme.de"), rec("erp", "C4", name="Lonely")]
    right = [rec("sf", "S1", "k1", name="A changed"), rec("sf", "S2", account_number=" 0002", name="B"),
             rec("sf", "S3", name="ACME", domain="acme.de"), rec("sf", "S9", name="Other")]
    pairs, alone = run(matcher, left, right)
    assert pairs == {"C1": "S1/xref", "C2": "S2/external_id:account_number", "C3": "S3/natural:domain+name"}
    assert alone == {"left:C4", "right:S9"}


def test_conflicting_external_ids_never_match_by_natural_key() -> None:
    matcher = Matcher("Account", cascade("Account"), buckets=2)
    left = [rec("erp", "C1", account_number="1", name="Acme", domain="acme.de")]
    right = [rec("sf", "S1", account_number="2", name="Acme", domain="acme.de")]
    pairs, alone = run(matcher, left, right)
    assert pairs == {} and alone == {"left:C1", "right:S1"}


def test_duplicate_keys_pair_once_and_leave_the_rest() -> None:
    matcher = Matcher("Contact", cascade("Contact"), buckets=2)
    left = [CRecord("erp", "Contact", "1", {"email": "a@x.io"})]
    right = [CRecord("sf", "Contact", k, {"email": "A@x.io"}) for k in ("S1", "S2")]
    pairs, alone = run(matcher, left, right)
    assert pairs == {"1": "S1/natural:email"} and alone == {"right:S2"}


def test_matching_spills_to_disk_and_stays_correct(tmp_path: Path) -> None:
    matcher = Matcher("Account", cascade("Account"), buckets=8, max_in_memory=50, workdir=tmp_path)
    left = [rec("erp", f"C{i}", account_number=str(i)) for i in range(500)]
    right = [rec("sf", f"S{i}", account_number=str(i)) for i in range(10, 510)]
    pairs, alone = run(matcher, left, right)
    assert len(pairs) == 490 and all(pairs[f"C{i}"] == f"S{i}/external_id:account_number" for i in range(10, 500))
    assert alone == {f"left:C{i}" for i in range(10)} | {f"right:S{i}" for i in range(500, 510)}
    assert not list(tmp_path.iterdir())  # temporary partitions removed


def test_bucket_store_keeps_insertion_order_across_spills(tmp_path: Path) -> None:
    with BucketStore(buckets=3, max_in_memory=7, workdir=tmp_path) as store:
        for i in range(100):
            store.add(str(i % 5), i)
        assert store.spilled
        seen = sorted(x for bucket in store for x in bucket)
        assert seen == list(range(100))
        for bucket in store:
            by_key: dict[int, list[int]] = {}
            for x in bucket:
                by_key.setdefault(x % 5, []).append(x)
            assert all(v == sorted(v) for v in by_key.values())


def test_natural_key_components() -> None:
    assert name_key("Müller & Söhne GmbH") == name_key("MULLER AND SOHNE") == "muller and sohne"
    assert domain_key("https://www.Acme.de/contact") == domain_key("info@acme.de") == "acme.de"
    assert natural_rules("Account", {"Account": ["domain", "name"]}) == (("domain", "name"),)
    assert natural_rules("Contact", {"Contact": [["email"], ["last_name", "phone"]]}) == (
        ("email",), ("last_name", "phone"))
