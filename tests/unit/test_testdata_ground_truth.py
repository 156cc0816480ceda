"""Ground truth: complete, pointing at real records, and right about what differs between the two sides.

The comparison below is a small independent reconciler: it normalises the systemic conventions
(links.CONVENTIONS) and then requires that linked records differ exactly where a defect says so -
formatting variants included, which must differ in raw form but not once normalised.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

from connectors.salesforce.objects import FORMULAS, OBJECTS, to_18
from connectors.testdata import CODES, Dataset, GeneratorConfig
from connectors.testdata import world_data as wd
from connectors.testdata.erp_schema import ORDER_STATUS, SECTORS
from connectors.testdata.links import INDUSTRY_TO_SECTOR, LINKS, ORDER_STATUS_TO_STAGE

Rows = dict[str, list[dict[str, Any]]]
COUNTRY_CODES = {name.upper(): c.code for c in wd.COUNTRIES for name in (c.name, c.local_name, c.code)}
SALUTATIONS = {(sf, c.salutations[i]) for c in wd.COUNTRIES for i, sf in enumerate(("Ms.", "Mr."))}


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return Dataset(GeneratorConfig(seed=23, accounts=500, defects=True, formatting_variants=0.05))


@pytest.fixture(scope="module")
def truth(ds: Dataset) -> dict[str, Any]:
    return ds.ground_truth()


@pytest.fixture(scope="module")
def sf(ds: Dataset) -> Rows:
    return {obj: list(ds.iter_salesforce(obj)) for obj in ds.salesforce_objects()}


@pytest.fixture(scope="module")
def erp(ds: Dataset) -> Rows:
    return {table: list(ds.iter_erp(table)) for table in ds.erp_tables()}


# ---------------------------------------------------------------------------------------------- normalising
def _phone(value: str | None, region: str) -> str | None:
    if not value:
        return None
    return phonenumbers.format_number(phonenumbers.parse(value, region), phonenumbers.PhoneNumberFormat.E164)


def _text(value: str | None) -> str | None:
    return value.casefold() if value else None


def _sf_instant(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def _erp_instant(value: datetime, zone: str) -> datetime:
    return value.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


class Index:
    """Both sides keyed the way a reconciler would key them."""

    def __init__(self, sf: Rows, erp: Rows, zone: str) -> None:
        self.zone = zone
        self.sf = {obj: {r["Id"]: r for r in rows} for obj, rows in sf.items()}
        self.erp = {"customers": {r["cust_no"]: r for r in erp["customers"]},
                    "contacts": {r["contact_no"]: r for r in erp["contacts"]},
                    "orders": {r["order_no"]: r for r in erp["orders"]},
                    "employees": {r["emp_code"]: r for r in erp["employees"]}}
        self.rep_of_user = {r["sf_user_id"]: code for code, r in self.erp["employees"].items() if r["sf_user_id"]}
        self.cust_of_account = {r["Id"]: r["ERP_Customer_No__c"] for r in sf["Account"]}

    def pairs(self, entity: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        link = LINKS[entity]
        table = self.erp[link.erp_table]
        out = []
        for row in self.sf[link.sf_object].values():
            key = row[link.sf_external_id]
            if key is None:
                continue
            other = table.get(int(key) if link.erp_table == "contacts" else key)
            if other is not None:
                out.append((row, other))
        return out

    def differences(self, entity: str, s: dict[str, Any], e: dict[str, Any], region: str) -> set[str]:
        link, out = LINKS[entity], set()
        for canonical, (sf_field, erp_field) in link.fields.items():
            if not self._same(canonical, s[sf_field], e[erp_field], region):
                out.add(canonical)
        return out

    def _same(self, canonical: str, a: Any, b: Any, region: str) -> bool:
        if canonical in ("phone", "mobile_phone"):
            return _phone(a, region) == _phone(b, region)
        if canonical in ("name", "email", "first_name", "last_name", "website"):
            return _text(a) == _text(b)
        if canonical == "billing_address.country":
            return COUNTRY_CODES[a.upper()] == COUNTRY_CODES[b.upper()]
        if canonical == "industry":
            return INDUSTRY_TO_SECTOR[a] == b
        if canonical == "owner_id":
            return self.rep_of_user.get(a) == b
        if canonical == "account_id":
            return self.cust_of_account.get(a) == b
        if canonical == "created_at":  # the ERP's zone, or UTC wall-clock (the timezone variant)
            return _sf_instant(a) in (_erp_instant(b, self.zone), _erp_instant(b, "UTC"))
        if canonical == "salutation":
            return (a, b) in SALUTATIONS
        if canonical == "stage":
            return ORDER_STATUS_TO_STAGE.get(b) == a
        if canonical == "amount":
            return Decimal(str(a)).quantize(Decimal("0.01")) == b
        if canonical == "close_date":
            return a == b.isoformat()
        return bool(a == b)


@pytest.fixture(scope="module")
def index(sf: Rows, erp: Rows, ds: Dataset) -> Index:
    return Index(sf, erp, ds.config.erp_timezone)


def _region(index: Index, entity: str, s: dict[str, Any]) -> str:
    account = s if entity == "Account" else index.sf["Account"].get(s["AccountId"])
    return COUNTRY_CODES[account["BillingCountry"].upper()] if account else "ES"


# ---------------------------------------------------------------------------------------------- tests
def test_every_finding_code_is_present(truth: dict[str, Any]) -> None:
    codes = {d["code"] for d in truth["defects"]}
    assert codes == set(CODES)
    assert all(sum(d["code"] == c and "cascade_of" not in d for d in truth["defects"]) >= 4 for c in CODES)
    assert len({d["id"] for d in truth["defects"]}) == len(truth["defects"])
    json.dumps(truth)  # plain JSON, nothing left as Python objects


def test_written_file_round_trips(ds: Dataset, tmp_path: Path) -> None:
    path = ds.write_ground_truth(tmp_path / "truth" / "gt.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded["version"] == 1 and loaded["seed"] == 23 and loaded["defects"] == ds.ground_truth()["defects"]


def test_keys_exist_on_the_side_they_name(ds: Dataset, truth: dict[str, Any], index: Index) -> None:
    """Every key names a record of that system, except the expected key of a missing record."""
    for entry in truth["defects"] + truth["formatting_variants"]:
        objects = entry.get("objects")
        if objects is None:  # formatting variants are always on linked entities
            objects = {"salesforce": LINKS[entry["entity"]].sf_object, "erp": LINKS[entry["entity"]].erp_table}
        for system, key in entry["keys"].items():
            for k in key if isinstance(key, list) else [key]:
                if entry.get("code") == "schema_drift":
                    present = k in ds.objects
                else:
                    present = k in (index.sf if system == "salesforce" else index.erp)[objects[system]]
                assert present == (system != entry.get("absent_in")), entry


def test_formatting_variants_cover_five_percent_of_linked_records(ds: Dataset, truth: dict[str, Any],
                                                                  index: Index) -> None:
    linked = sum(len(index.pairs(e)) for e in ("Account", "Contact", "Opportunity"))
    variants = truth["formatting_variants"]
    assert len(variants) >= 0.05 * linked
    assert {v["kind"] for v in variants} == {"phone_format", "letter_case", "id_length", "timezone",
                                             "null_vs_empty", "country_name", "decimal_scale"}


def test_linked_records_differ_exactly_where_the_ground_truth_says(truth: dict[str, Any], index: Index) -> None:
    expected: dict[tuple[str, str], set[str]] = {}
    for d in truth["defects"]:
        if d["code"] in ("field_mismatch", "stale", "conflict"):
            expected[(d["entity"], d["keys"]["salesforce"])] = set(d["fields"])
        if d["code"] == "merged":
            for child in d["children"].get("Contact", []) + d["children"].get("Opportunity", []):
                expected[("Contact" if child.startswith("003") else "Opportunity", child)] = {"account_id"}
    seen, paired = set(), set()
    for entity in ("Account", "Contact", "Opportunity"):
        for s, e in index.pairs(entity):
            diff = index.differences(entity, s, e, _region(index, entity, s))
            assert diff == expected.get((entity, s["Id"]), set()), (entity, s["Id"], diff)
            paired.add((entity, s["Id"]))
            if diff:
                seen.add((entity, s["Id"]))
    assert seen == set(expected) & paired and len(seen) >= 15


def test_formatting_variants_differ_raw_but_not_normalised(truth: dict[str, Any], index: Index) -> None:
    for v in truth["formatting_variants"]:
        link = LINKS[v["entity"]]
        s = index.sf[link.sf_object][v["keys"]["salesforce"]]
        e = index.erp[link.erp_table][v["keys"]["erp"]]
        raw = [(s[a], e[b]) for a, b in zip(v["native_fields"]["salesforce"], v["native_fields"]["erp"], strict=True)]
        if v["kind"] == "id_length":
            assert e[LINKS[v["entity"]].erp_sf_id] != s["Id"] and to_18(e[link.erp_sf_id]) == s["Id"]
            continue
        if v["kind"] == "timezone":
            instant = _sf_instant(s["CreatedDate"])
            assert _erp_instant(e["created_ts"], "UTC") == instant != _erp_instant(e["created_ts"], index.zone)
        elif v["kind"] in ("decimal_scale",):
            assert str(s["Amount"]) != str(e["net_amount"]) and str(e["net_amount"]).endswith("0")
        elif v["kind"] not in ("country_name",):
            assert any(str(a) != str(b) for a, b in raw), v
        assert not index.differences(v["entity"], s, e, _region(index, v["entity"], s)) & set(v["fields"]), v


def test_other_linked_records_agree_even_in_raw_form(truth: dict[str, Any], index: Index) -> None:
    marked = {v["keys"]["salesforce"] for v in truth["formatting_variants"]}
    marked |= {d["keys"].get("salesforce") for d in truth["defects"] if isinstance(d["keys"].get("salesforce"), str)}
    checked = 0
    for s, e in index.pairs("Account"):
        if s["Id"] not in marked:
            assert (s["Name"], s["Phone"], s["Website"], s["Id"]) == (
                e["company_name"], e["phone_no"], e["web"], e["sf_account_id"])
            assert e["country"] in COUNTRY_CODES.values()
            checked += 1
    for s, e in index.pairs("Contact"):
        if s["Id"] not in marked:
            assert (s["LastName"], s["Email"], s["Phone"], s["MobilePhone"], s["Id"]) == (
                e["family_name"], e["email_addr"], e["phone_no"], e["mobile_no"], e["sf_contact_id"])
            checked += 1
    assert checked > 500


def _entries(truth: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [d for d in truth["defects"] if d["code"] == code]


def test_stale_and_conflict_are_visible_in_the_timestamps(truth: dict[str, Any], index: Index, ds: Dataset) -> None:
    last_sync = datetime.fromisoformat(truth["last_sync_at"])
    for d in _entries(truth, "stale") + _entries(truth, "conflict"):
        link = LINKS[d["entity"]]
        s = index.sf[link.sf_object][d["keys"]["salesforce"]]
        e = index.erp[link.erp_table][d["keys"]["erp"]]
        sf_newer = _sf_instant(s["LastModifiedDate"]) > last_sync
        erp_newer = _erp_instant(e["changed_ts"], ds.config.erp_timezone) > last_sync
        if d["code"] == "conflict":
            assert sf_newer and erp_newer
        else:
            assert (sf_newer, erp_newer) == (d["newer_in"] == "salesforce", d["newer_in"] == "erp")
    for d in _entries(truth, "field_mismatch"):
        link = LINKS[d["entity"]]
        s = index.sf[link.sf_object][d["keys"]["salesforce"]]
        assert _sf_instant(s["LastModifiedDate"]) <= last_sync


def test_record_level_defects_are_detectable(truth: dict[str, Any], index: Index) -> None:
    sf = index.sf
    users = sf["User"]
    for d in _entries(truth, "missing"):
        assert d["absent_in"] in ("salesforce", "erp") and len(d["keys"]) == 2
    for d in _entries(truth, "duplicate"):
        (system, keys), = d["keys"].items()
        assert len(keys) == 2
        if system == "salesforce":
            a, b = (sf[d["objects"]["salesforce"]][k] for k in keys)
            assert (a.get("Email") or a.get("Website")) == (b.get("Email") or b.get("Website"))
        else:
            a, b = (index.erp["customers"][k] for k in keys)
            assert a["vat_id"] == b["vat_id"] and b["sf_account_id"] is None
    for d in _entries(truth, "picklist_drift"):
        (system, key), = d["keys"].items()
        (field, value), = ((f, v) for f, v in d["values"][system].items() if f != "OwnerId")
        if system == "salesforce":
            obj = d["objects"]["salesforce"]
            assert sf[obj][key][field] == value and value not in OBJECTS[obj].field(field).active_values
        else:
            row = index.erp[d["objects"]["erp"]][key]
            assert row[field] == value and value not in SECTORS + ORDER_STATUS
    for d in _entries(truth, "formula_drift"):
        obj = d["objects"]["salesforce"]
        row = sf[obj][d["keys"]["salesforce"]]
        assert FORMULAS[(obj, d["fields"][0])](row) == d["expected"] != row[d["fields"][0]]
    for d in _entries(truth, "inactive_owner"):
        row = sf[d["objects"]["salesforce"]][d["keys"]["salesforce"]]
        assert users[row["OwnerId"]]["IsActive"] is False
    for d in _entries(truth, "queue_owner"):
        row = sf[d["objects"]["salesforce"]][d["keys"]["salesforce"]]
        assert row["OwnerId"].startswith("00G")
        assert d["entity"] == "Account" or row["Status"] != "Open - Not Contacted"
    for d in _entries(truth, "invalid_value"):
        (system, key), = d["keys"].items()
        table = sf[d["objects"][system]] if system == "salesforce" else index.erp[d["objects"][system]]
        for field, value in d["values"][system].items():
            assert table[key][field] == value


def test_merges_and_one_sided_deletes(truth: dict[str, Any], index: Index) -> None:
    sf = index.sf
    for d in _entries(truth, "merged"):
        obj = d["objects"]["salesforce"]
        loser, winner = sf[obj][d["keys"]["salesforce"]], sf[obj][d["winner"]["salesforce"]]
        assert loser["IsDeleted"] and loser["MasterRecordId"] == winner["Id"] and not winner["IsDeleted"]
        erp_loser = index.erp[d["objects"]["erp"]][d["keys"]["erp"]]
        assert erp_loser["deleted_flag"] == "N"
        for child in d["children"].get("Contact", []):
            assert sf["Contact"][child]["AccountId"] == winner["Id"]
            erp_child = index.erp["contacts"][int(sf["Contact"][child]["ERP_Contact_No__c"])]
            assert erp_child["cust_no"] == d["keys"]["erp"]
    for d in _entries(truth, "deleted_one_side"):
        link = LINKS[d["entity"]]
        s = sf[link.sf_object][d["keys"]["salesforce"]]
        if d["entity"] == "Opportunity":
            assert s["IsDeleted"]
            continue
        e = index.erp[link.erp_table][d["keys"]["erp"]]
        assert (s["IsDeleted"], e["deleted_flag"] == "Y") == (d["deleted_in"] == "salesforce", d["deleted_in"] == "erp")
        assert s["MasterRecordId"] is None


def test_schema_drift_is_served_by_the_dataset_objects(ds: Dataset, truth: dict[str, Any],
                                                       sf: Rows) -> None:
    drift = {(d["entity"], d["kind"], d["fields"][0]) for d in _entries(truth, "schema_drift")}
    assert ("Account", "field_added", "Loyalty_Tier__c") in drift
    for obj, kind, field in drift:
        if kind == "field_added":
            assert not OBJECTS[obj].has(field) and ds.objects[obj].has(field)
            assert any(r[field] is not None for r in sf[obj])
        elif kind == "field_changed":
            assert OBJECTS[obj].field(field).length != ds.objects[obj].field(field).length
        else:
            assert OBJECTS[obj].has(field) and not ds.objects[obj].has(field) and field not in sf[obj][0]


def test_clean_dataset_has_no_defects_and_standard_describe() -> None:
    ds = Dataset(GeneratorConfig(accounts=120, formatting_variants=0.1))
    truth = ds.ground_truth()
    assert truth["defects"] == [] and truth["formatting_variants"]
    assert ds.objects == OBJECTS
    assert all(not r["IsDeleted"] for r in ds.iter_salesforce("Account"))
