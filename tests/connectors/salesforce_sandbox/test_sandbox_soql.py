"""The SOQL grammar and its translation: every literal form clients send, and the results they select."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from simple_salesforce import format_soql

from connectors.salesforce.objects import OBJECTS
from connectors.salesforce.sandbox import Sandbox
from connectors.salesforce.sandbox.errors import SalesforceApiError
from connectors.salesforce.sandbox.schema import Schema
from connectors.salesforce.sandbox.soql import nodes as n
from connectors.salesforce.sandbox.soql.compiler import compile_query
from connectors.salesforce.sandbox.soql.dateliterals import date_range
from connectors.salesforce.sandbox.soql.parser import parse

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize("literal", [
    "2023-12-01T00:00:00Z", "2023-12-01T00:00:00.000Z", "2023-12-01T00:00:00.000000Z",
    "2023-12-01T00:00:00.000+00:00", "2023-12-01T00:00:00.000+0000", "2023-12-01T01:00:00+01:00",
    "2023-11-30T19:00:00.000-0500",
])
def test_every_datetime_literal_form_is_the_same_instant(literal: str) -> None:
    query = parse("SELECT Id FROM Contact WHERE SystemModstamp >= " + literal)  # noqa: S608 - a test literal
    assert isinstance(query.where, n.Comparison)
    assert query.where.value.value == "2023-12-01T00:00:00.000+0000"


def test_client_templates_parse() -> None:
    airbyte = ("SELECT Id,IsDeleted,Name,SystemModstamp FROM Account WHERE SystemModstamp >= "
               "2023-12-31T00:00:00.000+00:00 AND SystemModstamp < 2024-01-30T00:00:00.000+00:00")
    tap = "SELECT Id,LastName FROM Contact WHERE SystemModstamp >= 2023-12-01T00:00:00Z  ORDER BY SystemModstamp ASC"
    chunked = "SELECT Id FROM Contact WHERE Id IN ('0038d0000000001AAA','0038d0000000002AAA')"
    for text in (airbyte, tap, chunked, "SELECT IsSandbox FROM Organization LIMIT 1"):
        assert parse(text).text == text


def test_nested_conditions_not_in_like_nulls_order_limit_offset() -> None:
    q = parse("select Id, Account.Name, COUNT() from Contact c where (NOT Name LIKE 'a\\%%' or Email = null) "
              "and (AccountId NOT IN ('x') and Birthdate > 2020-01-01) order by Name desc nulls last, Id "
              "limit 10 offset 5")
    assert q.alias == "c" and q.limit == 10 and q.offset == 5
    assert isinstance(q.where, n.BoolOp) and q.where.op == "and"
    assert [(o.field.text, o.descending, o.nulls_first) for o in q.order_by] == [("Name", True, False),
                                                                                ("Id", False, None)]
    assert isinstance(q.select[2], n.CountItem)


def test_date_literals() -> None:
    today = NOW.date()
    assert date_range("TODAY", None, today) == (date(2024, 5, 15), date(2024, 5, 16))
    assert date_range("YESTERDAY", None, today) == (date(2024, 5, 14), date(2024, 5, 15))
    assert date_range("LAST_N_DAYS", 7, today) == (date(2024, 5, 8), date(2024, 5, 16))  # includes today
    assert date_range("NEXT_N_DAYS", 2, today) == (date(2024, 5, 16), date(2024, 5, 18))
    assert date_range("N_DAYS_AGO", 3, today) == (date(2024, 5, 12), date(2024, 5, 13))
    assert date_range("THIS_WEEK", None, today) == (date(2024, 5, 12), date(2024, 5, 19))  # weeks start Sunday
    assert date_range("LAST_MONTH", None, today) == (date(2024, 4, 1), date(2024, 5, 1))
    assert date_range("THIS_QUARTER", None, today) == (date(2024, 4, 1), date(2024, 7, 1))
    assert date_range("LAST_N_QUARTERS", 2, today) == (date(2023, 10, 1), date(2024, 4, 1))
    assert date_range("NEXT_YEAR", None, today) == (date(2025, 1, 1), date(2026, 1, 1))
    assert date_range("LAST_90_DAYS", None, today) == (date(2024, 2, 15), date(2024, 5, 16))


def test_translation_uses_bound_parameters_only() -> None:
    schema = Schema(OBJECTS)
    nasty = "x'); DROP TABLE \"Contact\"; --"
    plan = compile_query(schema, format_soql("SELECT Id FROM Contact WHERE LastName = {}", nasty), False, NOW.date())
    sql = plan.cursor_insert
    assert nasty not in sql.text and nasty in sql.params()


@pytest.mark.parametrize("text", ["SELECT Id FROM Contact WHERE", "SELECT FROM Contact", "SELECT Id Contact",
                                  "SELECT Id FROM Contact LIMIT x", "SELECT Id FROM Contact WHERE Name = 'open"])
def test_malformed(text: str) -> None:
    with pytest.raises(SalesforceApiError) as err:
        parse(text)
    assert err.value.status == 400 and err.value.code == "MALFORMED_QUERY"


@pytest.fixture(scope="module")
def people() -> Iterator[Sandbox]:
    with Sandbox(clock=NOW.timestamp) as sb:
        sb.insert_rows("Account", [{"Id": "0018d0000000001AAA", "Name": "Acme", "IsDeleted": False,
                                    "SystemModstamp": "2024-05-01T00:00:00.000+0000"}])
        rows = [("0038d0000000001AAA", "Ng", "ng@x.com", "2024-05-15", "2024-05-15T08:00:00.000+0000", True),
                ("0038d0000000002AAA", "ngo", None, "2024-05-14", "2024-05-14T23:59:59.999+0000", False),
                ("0038d0000000003AAA", "Smith", "s@x.com", None, "2024-04-30T10:00:00.000+0000", False),
                ("0038d0000000004AAA", "O'Brien", "o@x.com", "2023-01-01", "2023-01-01T00:00:00.000+0000", False)]
        sb.insert_rows("Contact", [{"Id": i, "LastName": last, "Email": email, "Birthdate": birth,
                                    "SystemModstamp": stamp, "IsDeleted": False, "DoNotCall": dnc,
                                    "AccountId": "0018d0000000001AAA" if dnc else None}
                                   for i, last, email, birth, stamp, dnc in rows])
        yield sb


@pytest.mark.parametrize(("where", "expected"), [
    ("LastName = 'NG'", ["Ng"]),  # text comparisons ignore case, as in Salesforce
    ("LastName LIKE 'ng%'", ["Ng", "ngo"]),
    ("Email != 'ng@x.com'", ["ngo", "O'Brien", "Smith"]),  # != matches nulls too; ORDER BY ignores case
    ("Email = null", ["ngo"]),
    ("LastName IN ('Smith', 'O\\'Brien')", ["O'Brien", "Smith"]),
    ("LastName NOT IN ('Smith')", ["Ng", "ngo", "O'Brien"]),
    ("SystemModstamp = TODAY", ["Ng"]),
    ("SystemModstamp = YESTERDAY", ["ngo"]),
    ("SystemModstamp >= LAST_N_DAYS:30", ["Ng", "ngo", "Smith"]),
    ("SystemModstamp < 2024-05-14T23:59:59.999Z", ["O'Brien", "Smith"]),
    ("SystemModstamp > 2024-05-15T09:00:00+02:00", ["Ng"]),
    ("Birthdate < 2024-05-15 AND Birthdate != null", ["ngo", "O'Brien"]),
    ("Birthdate = THIS_YEAR", ["Ng", "ngo"]),
    ("DoNotCall = true", ["Ng"]),
    ("NOT (DoNotCall = true OR LastName LIKE 'S%')", ["ngo", "O'Brien"]),
    ("Account.Name = 'acme'", ["Ng"]),
])
def test_filters_select_what_salesforce_selects(people: Sandbox, make_api: Any, where: str,
                                                expected: list[str]) -> None:
    soql = "SELECT LastName FROM Contact WHERE " + where + " ORDER BY LastName"  # noqa: S608 - test literals
    body = make_api(people).query(soql).json()
    assert [r["LastName"] for r in body["records"]] == expected


def test_order_limit_offset_count_and_parent_fields(people: Sandbox, make_api: Any) -> None:
    api = make_api(people)
    page = api.query("SELECT LastName, Account.Name FROM Contact ORDER BY Birthdate DESC NULLS LAST LIMIT 3 "
                     "OFFSET 1").json()
    assert [(r["LastName"], r["Account"]) for r in page["records"]] == [("ngo", None), ("O'Brien", None),
                                                                       ("Smith", None)]
    first = api.query("SELECT Account.Name, Account.Owner.Name FROM Contact WHERE DoNotCall = true").json()
    account = first["records"][0]["Account"]
    assert account["attributes"]["type"] == "Account" and account["Name"] == "Acme" and account["Owner"] is None
    assert api.query("SELECT COUNT() FROM Contact WHERE Email != null").json() == {
        "totalSize": 3, "done": True, "records": []}
    aggregate = api.query("SELECT COUNT(Email) n FROM Contact").json()
    assert aggregate["records"] == [{"attributes": {"type": "AggregateResult"}, "n": 3}]
