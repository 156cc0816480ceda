"""The engine and the shipped specs: ERP and Salesforce objects both ways, picklists, routing, nesting."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mappings import Mapper, MappingContext, MappingSet, MappingSpecError, RecordRejection
from mappings.canonical import Activity, Contact, Opportunity
from mappings.canonical.entities import ActivityKind, LeadStatus, OpportunityStage
from orchestrator.commands.mappings_cmd import SHIPPED

XREF: dict[str, dict[tuple[str, str], str]] = {
    "erp": {("Account", "100245"): "acc-1", ("User", "E07"): "usr-7"},
    "sf": {("Account", "001A0000006Vm9rIAC"): "acc-1", ("Contact", "003A0000006Vm9rIAC"): "c-1",
           ("User", "005A0000006Vm9rIAC"): "usr-7"},
}


def context(system: str) -> MappingContext:
    own = XREF[system]
    reverse = {(e, c): n for (e, n), c in own.items()}
    return MappingContext(system=system, lookup=lambda e, n: own.get((e, n)),
                          reverse_lookup=lambda e, c: reverse.get((e, c)), timezone="Europe/Madrid")


@pytest.fixture(scope="module")
def erp() -> MappingSet:
    return MappingSet.load(SHIPPED / "erp")


@pytest.fixture(scope="module")
def salesforce() -> MappingSet:
    return MappingSet.load(SHIPPED / "salesforce")


def round_trip(mapper: Mapper, record: dict[str, Any], ctx: MappingContext) -> Any:
    canonical = mapper.to_canonical(record, ctx)
    native = mapper.to_native(canonical, ctx, include_read_only=True)
    assert mapper.to_canonical(native, ctx) == canonical
    return canonical, native


CUSTOMER = {"cust_no": "100245", "company_name": "Ferretería Norte SL", "vat_id": "esb12345678", "street": "C/ Mayor 1",
            "zip": "28013", "city": "Madrid", "country": "Spain", "phone_no": "91 234 56 78",
            "email_addr": "Compras@Ferreteria-Norte.ES", "web": "www.ferreteria-norte.es", "sector": "retail",
            "status": "A", "credit_limit": Decimal("5000.00"), "currency": "EUR", "sales_rep": "E07",
            "sf_account_id": None, "created_ts": datetime(2023, 1, 10, 9, 30),
            "changed_ts": datetime(2024, 7, 1, 18, 5), "deleted_flag": "N"}


def test_erp_customer_both_ways(erp: MappingSet) -> None:
    mapper = erp.for_object("customers")
    account, native = round_trip(mapper, CUSTOMER, context("erp"))
    assert account.account_number == "100245" and account.vat_number == "ESB12345678"
    assert account.billing_address.country == "ES" and account.phone == "+34912345678"
    assert account.email == "Compras@ferreteria-norte.es" and account.domain == "ferreteria-norte.es"
    assert account.industry == "Retail" and account.active is True and account.owner_id == "usr-7"
    assert account.updated_at == datetime(2024, 7, 1, 16, 5, tzinfo=UTC)  # Madrid summer time is UTC+2
    assert account.created_at == datetime(2023, 1, 10, 8, 30, tzinfo=UTC)
    assert native["changed_ts"] == datetime(2024, 7, 1, 18, 5) and native["sector"] == "RETAIL"
    assert native["deleted_flag"] == "N" and native["country"] == "ES" and "credit_limit" not in native
    assert mapper.native_key(CUSTOMER) == "100245"


def test_erp_sector_outside_the_table_is_rejected(erp: MappingSet) -> None:
    with pytest.raises(RecordRejection) as caught:
        erp.for_object("customers").to_canonical(CUSTOMER | {"sector": "MINING", "phone_no": "123"}, context("erp"))
    assert sorted((r.field, r.code) for r in caught.value.reasons) == [("industry", "unknown_picklist_value"),
                                                                        ("phone", "unparseable_phone")]
    assert caught.value.key == "100245"
    assert "MINING" not in str(caught.value)


def test_erp_orders_keep_their_status(erp: MappingSet) -> None:
    mapper = erp.for_object("orders")
    order = {"order_no": "SO-77", "cust_no": "100245", "order_date": date(2024, 5, 1), "status": "SHIP",
             "net_amount": Decimal("1234.5"), "currency": "eur", "sales_rep": None,
             "changed_ts": datetime(2024, 5, 2, 8, 0)}
    opportunity, native = round_trip(mapper, order, context("erp"))
    assert isinstance(opportunity, Opportunity)
    assert (opportunity.stage, opportunity.stage_raw) == (OpportunityStage.CLOSED_WON, "SHIP")
    assert opportunity.is_closed and opportunity.is_won and opportunity.name == "Order SO-77"
    assert opportunity.amount is not None and opportunity.amount.amount == Decimal("1234.50")
    assert native["status"] == "SHIP" and native["net_amount"] == Decimal("1234.50") and "name" not in native
    conf = mapper.to_canonical(order | {"status": "CONF"}, context("erp"))
    assert conf.stage_raw is None  # the first status listed for closed_won needs no raw copy
    odd = mapper.to_canonical(order | {"status": "HOLD"}, context("erp"))
    assert (odd.stage, odd.stage_raw) == (OpportunityStage.OTHER, "HOLD")
    assert mapper.to_native(odd, context("erp"))["status"] == "HOLD"


def test_erp_contacts_and_employees(erp: MappingSet) -> None:
    contact, native = round_trip(erp.for_object("contacts"), {
        "contact_no": 4711, "cust_no": "100245", "salutation": "Sra.", "given_name": "Ana", "family_name": "García",
        "email_addr": "ana@ferreteria-norte.es", "phone_no": None, "mobile_no": "612 345 678", "position": "Compras",
        "lang": "ES", "sf_contact_id": None, "changed_ts": datetime(2024, 1, 2, 3, 4), "deleted_flag": "Y"},
        context("erp"))
    assert isinstance(contact, Contact)
    assert contact.external_ref == "4711" and native["contact_no"] == 4711 and contact.is_deleted
    assert contact.language == "es" and contact.mobile_phone == "+34612345678" and contact.account_id == "acc-1"
    user, native = round_trip(erp.for_object("employees"), {"emp_code": "E07", "full_name": "Luis Pérez Gil",
                                                            "email_addr": None, "active": "N"}, context("erp"))
    assert (user.first_name, user.last_name, user.is_active) == ("Luis Pérez", "Gil", False)
    assert native == {"full_name": "Luis Pérez Gil", "email_addr": None, "active": "N"}


def test_salesforce_lead_status_drift_is_kept(salesforce: MappingSet) -> None:
    mapper = salesforce.for_object("Lead")
    lead = {"Id": "00QA0000006Vm9rIAC", "LastName": "Ruiz", "Company": "Acme", "Status": "Nurturing",
            "Country": "Spain", "OwnerId": "005A0000006Vm9rIAC"}
    canonical, native = round_trip(mapper, lead, context("sf"))
    assert (canonical.status, canonical.status_raw, canonical.country) == (LeadStatus.OTHER, "Nurturing", "ES")
    assert native["Status"] == "Nurturing"
    assert mapper.to_canonical(lead | {"Status": "Working - Contacted"}, context("sf")).status == LeadStatus.WORKING
    with pytest.raises(RecordRejection) as caught:
        mapper.to_canonical(lead | {"Company": None}, context("sf"))
    assert caught.value.codes == ["required_missing"]


def test_salesforce_opportunity_needs_analysis_survives(salesforce: MappingSet) -> None:
    mapper = salesforce.for_object("Opportunity")
    record = {"Id": "006A0000006Vm9rIAC", "Name": "Deal", "StageName": "Needs Analysis", "Amount": 1500.5,
              "CloseDate": "2024-09-30", "Probability": 20.0, "AccountId": "001A0000006Vm9r", "IsClosed": False}
    canonical, native = round_trip(mapper, record, context("sf"))
    assert canonical.stage == OpportunityStage.QUALIFICATION and canonical.account_id == "acc-1"
    assert native["StageName"] == "Needs Analysis" and native["AccountId"] == "001A0000006Vm9rIAC"
    assert canonical.amount.amount == Decimal("1500.50") and canonical.probability == 20


def test_activities_route_by_kind(salesforce: MappingSet) -> None:
    task = salesforce.for_object("Task").to_canonical(
        {"Id": "00TA0000006Vm9rIAC", "Subject": "Call", "WhoId": "003A0000006Vm9r", "ActivityDate": "2024-05-02"},
        context("sf"))
    assert isinstance(task, Activity) and task.kind == ActivityKind.TASK and task.who_id == "c-1"
    event = Activity(kind=ActivityKind.EVENT, subject="Visit", start_at=datetime(2024, 5, 2, 8, tzinfo=UTC))
    assert salesforce.route(task).spec.object == "Task"
    assert salesforce.route(event).spec.object == "Event"
    assert salesforce.route(event) is salesforce.mappers_for_entity("Activity")[0]
    with pytest.raises(MappingSpecError, match="several objects"):
        salesforce.for_entity("Activity")
    native = salesforce.route(event).to_native(event, context("sf"))
    assert native["StartDateTime"] == "2024-05-02T08:00:00.000+0000" and "kind" not in native


def test_references_order_parents_first(salesforce: MappingSet, erp: MappingSet) -> None:
    assert salesforce.for_entity("Contact").references == {"account_id": "Account", "owner_id": "User"}
    assert salesforce.for_object("Task").reference_targets["who_id"] == ("Contact", "Lead")
    assert erp.for_entity("Opportunity").references == {"account_id": "Account", "owner_id": "User"}
    assert erp.for_object("orders").spec.cursor == "changed_ts"
    assert sorted(erp.objects()) == ["contacts", "customers", "employees", "orders"]
    with pytest.raises(KeyError, match="invoices"):
        erp.for_object("invoices")


def test_writing_an_unresolvable_reference_names_the_native_field(salesforce: MappingSet) -> None:
    contact = Contact(last_name="Ruiz", account_id="acc-unknown")
    with pytest.raises(RecordRejection) as caught:
        salesforce.for_object("Contact").to_native(contact, context("sf"))
    assert [(r.field, r.code) for r in caught.value.reasons] == [("AccountId", "unresolved_reference")]


def test_nested_json_and_several_native_fields(tmp_path: Path) -> None:
    spec = tmp_path / "people.yaml"
    spec.write_text(textwrap.dedent("""\
        system_type: rest
        object: people
        entity: Contact
        key: [tenant, id]
        options: {empty_as_null: false}
        fields:
          - canonical: [first_name, last_name]
            native: name.display
            transforms: [join_name]
            direction: to_native
          - canonical: [first_name, last_name]
            native: name.full
            transforms: [split_name]
          - {canonical: [title, department], native: [job.title, job.department]}
          - {canonical: mailing_address.city, native: address.city}
          - {canonical: mailing_address.country, native: address.country_code, transforms: [country]}
          - {canonical: email, native: contact.emails.work, transforms: [email]}
    """))
    with pytest.raises(MappingSpecError, match="takes its transforms from `inverse:`"):
        Mapper.load(spec)
    spec.write_text(spec.read_text().replace("transforms: [join_name]", "inverse: [split_name]"))
    with pytest.raises(MappingSpecError, match="2 canonical fields need a first transform that takes 2 values"):
        Mapper.load(spec)
    spec.write_text(spec.read_text().replace("inverse: [split_name]", "inverse: [join_name]"))
    mapper = Mapper.load(spec)
    record = {"tenant": "t1", "id": 9, "name": {"full": "Ana García"}, "address": {"city": "", "country_code": "es"},
              "contact": {"emails": {"work": "ana@acme.es"}}, "job": {"title": "CEO"}}
    contact = mapper.to_canonical(record, MappingContext())
    assert (contact.first_name, contact.last_name, contact.email) == ("Ana", "García", "ana@acme.es")
    assert contact.mailing_address.city == "" and contact.mailing_address.country == "ES"  # empty kept
    native = mapper.to_native(contact, MappingContext())
    assert (contact.title, contact.department) == ("CEO", None)
    assert native == {"name": {"display": "Ana García", "full": "Ana García"},
                      "job": {"title": "CEO", "department": None},
                      "address": {"city": "", "country_code": "ES"}, "contact": {"emails": {"work": "ana@acme.es"}}}
    assert mapper.native_key(record) == "t1|9"
    with pytest.raises(RecordRejection):
        mapper.native_key({"tenant": "t1"})
    assert "def to_canonical" in mapper.source


def test_map_batch_keeps_every_record(salesforce: MappingSet) -> None:
    mapper = salesforce.for_object("User")
    good, bad = mapper.map_batch([{"Id": "005A0000006Vm9rIAC", "LastName": "A", "Email": "a@acme.es"},
                                  {"Id": "005A0000006Vm9sIAC", "Email": "bad"},
                                  {"Id": "005A0000006Vm9tIAC", "IsActive": "sometimes"}], context("sf"))
    assert [i for i, _ in good] == [0]
    assert [(i, r.codes) for i, r in bad] == [(1, ["invalid_email"]), (2, ["invalid_value"])]


def test_spec_options_are_normalised(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text("system_type: csv\nobject: p\nentity: Contact\nkey: id\noptions: {phone_region: es}\n"
                    "fields:\n  - {canonical: last_name, native: n}\n  - {canonical: phone, native: p, "
                    "transforms: [phone]}\n")
    contact = Mapper.load(spec).to_canonical({"id": 1, "n": "Ruiz", "p": "912 345 678"}, MappingContext())
    assert contact.phone == "+34912345678"
    spec.write_text(spec.read_text().replace("phone_region: es", "phone_region: XX"))
    with pytest.raises(MappingSpecError, match=r"p.yaml:5: options.phone_region: unknown phone region 'XX'"):
        Mapper.load(spec)
