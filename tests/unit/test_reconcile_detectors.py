"""Record and pair detectors on canonical records: each code fires on its defect and only there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import FieldSpec, StreamSpec
from connectors.salesforce.objects import id_for
from mappings.canonical import Account
from orchestrator.reconcile.context import EntityContext, Owners
from orchestrator.reconcile.detectors import (
    deleted,
    divergence,
    formula,
    inactive_owner,
    invalid,
    missing,
    orphans,
    picklist,
    queue_owner,
    schema_drift,
    value_checks,
)
from orchestrator.reconcile.fieldkinds import field_kinds
from orchestrator.reconcile.normalise import Normalisers
from orchestrator.reconcile.records import CRecord, Pair, Rejection

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=3)


class History:
    def __init__(self, at: datetime | None = None, values: Mapping[str, Any] | None = None) -> None:
        self.at, self.values = at, values

    def last_sync_at(self, entity: str) -> datetime | None:
        return self.at

    def last_values(self, entity: str, canonical_id: str) -> Mapping[str, Any] | None:
        return self.values


def ctx(**kw: Any) -> EntityContext:
    kinds = field_kinds(Account)
    base: dict[str, Any] = dict(job="j", entity="Account", left="erp", right="sf", normalisers=Normalisers(kinds),
                                compared=tuple(kinds), now=NOW, lag=timedelta(minutes=30))
    return EntityContext(**{**base, **kw})


def rec(system: str, key: str, at: datetime = LONG_AGO, **values: Any) -> CRecord:
    values.setdefault("name", "Acme")
    return CRecord(system, "Account", key, values, canonical_id="c1", updated_at=at)


def codes(findings: Any) -> list[str]:
    return [f.code.value for f in findings]


def test_formatting_only_pair_gives_nothing() -> None:
    left = rec("erp", "C1", phone="+34 912 34 56 78", **{"billing_address.country": "Spain",
                                                          "annual_revenue.amount": "1234.5"})
    right = rec("sf", "S1", phone="+34912345678", **{"billing_address.country": "ES",
                                                     "annual_revenue.amount": 1234.50})
    assert codes(divergence.check(Pair(left, right, "xref"), ctx())) == []


def test_mismatch_without_history_is_field_mismatch_per_field() -> None:
    found = list(divergence.check(Pair(rec("erp", "C1", phone="+34912345678", industry="Retail"),
                                       rec("sf", "S1", phone="+34912345679", industry="Retail"), "xref"), ctx()))
    assert codes(found) == ["field_mismatch"] and found[0].fields == ("phone",)
    assert found[0].values == {"phone": {"erp": "+34912345678", "sf": "+34912345679"}}


def test_change_inside_the_lag_is_in_flight() -> None:
    fresh = rec("sf", "S1", at=NOW - timedelta(minutes=5), industry="Energy")
    assert codes(divergence.check(Pair(rec("erp", "C1", industry="Retail"), fresh, "xref"), ctx())) == []


def test_stale_and_conflict_from_last_sync_time() -> None:
    synced = NOW - timedelta(days=1)
    changed = rec("sf", "S1", at=NOW - timedelta(hours=5), industry="Energy")
    untouched = rec("erp", "C1", at=NOW - timedelta(days=2), industry="Retail")
    assert codes(divergence.check(Pair(untouched, changed, "xref"), ctx(history=History(synced)))) == ["stale"]
    both = rec("erp", "C1", at=NOW - timedelta(hours=6), industry="Retail")
    assert codes(divergence.check(Pair(both, changed, "xref"), ctx(history=History(synced)))) == ["conflict"]


def test_stale_and_conflict_from_last_synced_values() -> None:
    history = History(values={"industry": "Retail"})
    left, right = rec("erp", "C1", industry="Retail"), rec("sf", "S1", industry="Energy")
    assert codes(divergence.check(Pair(left, right, "xref"), ctx(history=history))) == ["stale"]
    left = rec("erp", "C1", industry="Banking")
    assert codes(divergence.check(Pair(left, right, "xref"), ctx(history=history))) == ["conflict"]


def test_formula_field_difference_is_formula_drift() -> None:
    pair = Pair(rec("erp", "C1", employees=10), rec("sf", "S1", employees=12), "xref")
    assert codes(divergence.check(pair, ctx(formula_fields=frozenset({"employees"})))) == ["formula_drift"]


def test_deleted_one_side_and_merged() -> None:
    gone = rec("sf", "S1")
    gone.deleted = True
    assert codes(deleted.check(Pair(rec("erp", "C1"), gone, "xref"), ctx())) == ["deleted_one_side"]
    master = id_for("001", 7)
    gone.native["master_record_id"] = master
    found = list(deleted.check(Pair(rec("erp", "C1"), gone, "xref"), ctx()))
    assert codes(found) == ["merged"] and {r.key for r in found[0].records} == {"S1", master, "C1"}
    assert codes(divergence.check(Pair(rec("erp", "C1", industry="x"), gone, "xref"), ctx())) == []


def test_missing_skips_deleted_and_fresh_records() -> None:
    assert missing.check(rec("erp", "C1"), ctx()) is not None
    assert missing.check(rec("erp", "C1", at=NOW - timedelta(minutes=1)), ctx()) is None
    gone = rec("erp", "C2")
    gone.deleted = True
    assert missing.check(gone, ctx()) is None


def test_owner_checks_queue_and_inactive() -> None:
    queue, user, retired = id_for("00G", 1), id_for("005", 1), id_for("005", 2)
    owners = {"sf": Owners(inactive={retired})}
    record = rec("sf", "S1")
    record.native["owner_id"] = queue[:15]
    assert codes(queue_owner.check(record, ctx(owners=owners))) == ["queue_owner"]
    assert codes(queue_owner.check(record, ctx(queue_allowed=frozenset({"sf"})))) == []
    record.native["owner_id"] = retired[:15]
    assert codes(inactive_owner.check(record, ctx(owners=owners))) == ["inactive_owner"]
    record.native["owner_id"] = user
    assert codes(inactive_owner.check(record, ctx(owners=owners))) + codes(queue_owner.check(record, ctx())) == []


def test_picklist_drift_from_value_map_and_describe() -> None:
    record = rec("erp", "C1", type="other", type_raw="VIP")
    record.native["picklist:Industry"] = "Agri"
    found = list(picklist.check(record, ctx(), {"Industry": frozenset({"Banking", "Retail"})}))
    assert [(f.fields, f.subject) for f in found] == [(("type",), "VIP"), (("Industry",), "Agri")]
    record.native["picklist:Industry"] = "Retail"
    assert len(list(picklist.check(record, ctx(), {"Industry": frozenset({"Retail"})}))) == 1


def test_invalid_value_from_mapper_rejection() -> None:
    rejection = Rejection("erp", "Account", "C1", (("invalid_email", "email"), ("unknown_picklist_value", "type")),
                          {"email": "not-an-email", "type": "VIP"})
    found = list(invalid.check(rejection, ctx()))
    assert codes(found) == ["invalid_value", "picklist_drift"]
    assert found[0].values == {"email": {"erp": "not-an-email"}}


def test_formula_recomputed_inside_one_system() -> None:
    record = rec("sf", "S1")
    record.native["formula:Health_Score__c"] = (50.0, 65.0)
    assert codes(formula.check(record, ctx())) == ["formula_drift"]
    record.native["formula:Health_Score__c"] = (65.0, 65.001)
    assert codes(formula.check(record, ctx())) == []


def test_orphans_checked_against_the_same_system_only() -> None:
    detector = orphans.OrphanDetector()
    for system, key in (("erp", "C1"), ("sf", id_for("001", 1))):
        detector.index(system, "Account").add(CRecord(system, "Account", key, {}))
    ok = CRecord("erp", "Contact", "1", {"account_id": "C1"})
    lost = CRecord("erp", "Contact", "2", {"account_id": "C9"})
    sf_ok = CRecord("sf", "Contact", "S1", {"account_id": id_for("001", 1)[:15]})
    elsewhere = CRecord("sf", "Contact", "S2", {"account_id": "C1"})
    for record in (ok, lost, sf_ok, elsewhere):
        detector.add(record)
    assert sorted(f.records[0].key for f in detector.findings()) == ["2", "S2"]


def test_schema_drift_diff() -> None:
    before = schema_drift.snapshot([StreamSpec(name="customers", primary_key=("cust_no",), fields=(
        FieldSpec(name="cust_no"), FieldSpec(name="sector", length=12), FieldSpec(name="fax")))])
    after = schema_drift.snapshot([StreamSpec(name="customers", primary_key=("cust_no",), fields=(
        FieldSpec(name="cust_no"), FieldSpec(name="sector", length=20), FieldSpec(name="segment")))])
    found = list(schema_drift.diff("erp", before, after, {"customers": "Account"}))
    assert sorted((f.fields, f.subject) for f in found) == [
        (("fax",), "field_removed"), (("sector",), "length_changed"), (("segment",), "field_added")]
    assert all(f.entity == "Account" for f in found)
    assert list(schema_drift.diff("erp", after, after)) == []


def test_fingerprint_ignores_values_but_not_fields() -> None:
    a = list(divergence.check(Pair(rec("erp", "C1", industry="A"), rec("sf", "S1", industry="B"), "xref"), ctx()))[0]
    b = list(divergence.check(Pair(rec("erp", "C1", industry="A"), rec("sf", "S1", industry="C"), "xref"), ctx()))[0]
    c = list(divergence.check(Pair(rec("erp", "C1", website="a"), rec("sf", "S1", website="b"), "xref"), ctx()))[0]
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_value_checks_websites_and_vat_numbers() -> None:
    from orchestrator.reconcile.detectors.value_checks import vat_ok, website_ok

    assert all(website_ok(u) for u in ("https://www.acme.es", "www.acme-group.com", "acme.de/contact",
                                        "http://shop.acme.co.uk:8080/x?y=1"))
    assert not any(website_ok(u) for u in ("htp:/acme.es", "acme", "http://", "www acme es", "ftp://acme.es"))
    assert all(vat_ok(v) for v in ("ESB76388131", "DE 123456789", "FR12345678901", "NL123456789B01", "GB123456789"))
    assert not any(vat_ok(v) for v in ("pending", "PENDING", "ES123", "XX123456789", "DE12345"))
    record = rec("sf", "S1", website="htp:/acme.es", vat_number="pending")
    assert sorted(f.subject for f in value_checks.check(record, ctx())) == ["invalid_url", "invalid_vat_number"]
