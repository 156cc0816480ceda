"""Error shapes exactly as Salesforce sends them: status + JSON array of {message, errorCode, fields}.

The Salesforce connector's error table and its recorded cassettes rely on these shapes, so each test
compares whole bodies, not fragments.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.salesforce.sandbox import Sandbox


def body(response: Any) -> Any:
    return response.json()


def test_bad_or_expired_session_is_401_invalid_session_id(make_api: Any) -> None:
    now = [1_700_000_000.0]
    with Sandbox(clock=lambda: now[0], session_ttl=60) as sb:
        api = make_api(sb)
        assert api.get("/limits").status_code == 200
        now[0] += 61
        expired = api.get("/limits")
        assert expired.status_code == 401
        assert body(expired) == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        assert body(make_api(sb, token="garbage").get("/sobjects")) == body(expired)


def test_daily_budget_is_counted_and_enforced(make_api: Any) -> None:
    with Sandbox(api_budget=3) as sb:
        api = make_api(sb)
        usage = [api.get("/limits").headers["Sforce-Limit-Info"] for _ in range(3)]
        assert usage == ["api-usage=1/3", "api-usage=2/3", "api-usage=3/3"]
        refused = api.get("/limits")
        assert refused.status_code == 403
        assert body(refused) == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        assert sb.budget.snapshot() == {"limit": 3, "used": 3, "remaining": 0, "refused": 1}
        sb.budget.set(limit=10)
        assert api.get("/limits").json()["DailyApiRequests"] == {"Max": 10, "Remaining": 6}


@pytest.mark.parametrize(("record", "expected"), [
    ({"FirstName": "No last name"},
     {"message": "Required fields are missing: [LastName]", "errorCode": "REQUIRED_FIELD_MISSING",
      "fields": ["LastName"]}),
    ({"LastName": "x" * 81},
     {"message": f"Last Name: data value too large: {'x' * 60} (max length=80)", "errorCode": "STRING_TOO_LONG",
      "fields": ["LastName"]}),
    ({"LastName": "Doe", "Shoe_Size__c": 44},
     {"message": "No such column 'Shoe_Size__c' on sobject of type Contact", "errorCode": "INVALID_FIELD",
      "fields": ["Shoe_Size__c"]}),
    ({"LastName": "Doe", "Name": "Jane Doe", "CreatedDate": "2020-01-01T00:00:00Z"},
     {"message": "Unable to create/update fields: Name, CreatedDate. Please check the security settings of this "
                 "field and verify that it is read/write for your profile or permission set.",
      "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "fields": ["Name", "CreatedDate"]}),
    ({"LastName": "Doe", "AccountId": "001000000000000AAA"},
     {"message": "invalid cross reference id", "errorCode": "INVALID_CROSS_REFERENCE_KEY", "fields": ["AccountId"]}),
    ({"LastName": "Doe", "AccountId": "0038d0000000001AAA"},
     {"message": "Account ID: id value of incorrect type: 0038d0000000001AAA",
      "errorCode": "FIELD_INTEGRITY_EXCEPTION", "fields": ["AccountId"]}),
    ({"LastName": "Doe", "Birthdate": "yesterday"},
     {"message": "Cannot deserialize instance of date from VALUE_STRING value yesterday or request may be missing a "
                 "required field", "errorCode": "JSON_PARSER_ERROR", "fields": ["Birthdate"]}),
    ({"LastName": "Doe", "Email": "not-an-address"},
     {"message": "Email: invalid email address: not-an-address", "errorCode": "INVALID_EMAIL_ADDRESS",
      "fields": ["Email"]}),
])
def test_create_validation_errors(api: Any, record: dict[str, Any], expected: dict[str, Any]) -> None:
    response = api.post("/sobjects/Contact", json=record)
    assert response.status_code == 400
    assert body(response) == [expected]


def test_restricted_picklist_and_duplicate_external_id(api: Any) -> None:
    bad = api.post("/sobjects/Lead", json={"LastName": "L", "Company": "C", "Status": "Maybe"})
    assert body(bad) == [{"message": "Status: bad value for restricted picklist field: Maybe",
                          "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["Status"]}]
    first = api.post("/sobjects/Account", json={"Name": "A", "ERP_Customer_No__c": "E-1"}).json()["id"]
    duplicate = api.post("/sobjects/Account", json={"Name": "B", "ERP_Customer_No__c": "e-1"})
    assert duplicate.status_code == 400
    assert body(duplicate) == [{"message": f"duplicate value found: ERP_Customer_No__c duplicates value on record "
                                           f"with id: {first}", "errorCode": "DUPLICATE_VALUE",
                                "fields": ["ERP_Customer_No__c"]}]


def test_update_rules_and_not_found(api: Any) -> None:
    sfid = api.post("/sobjects/Account", json={"Name": "A"}).json()["id"]
    nulled = api.patch(f"/sobjects/Account/{sfid}", json={"Name": None})
    assert body(nulled) == [{"message": "Required fields are missing: [Name]", "errorCode": "REQUIRED_FIELD_MISSING",
                             "fields": ["Name"]}]
    locked = api.patch(f"/sobjects/Account/{sfid}", json={"Health_Score__c": 10})
    assert body(locked)[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    missing = api.get("/sobjects/Account/0018d0000000999AAA")
    assert missing.status_code == 404
    assert body(missing) == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    assert api.delete(f"/sobjects/Account/{sfid}").status_code == 204
    gone = api.delete(f"/sobjects/Account/{sfid}")
    assert gone.status_code == 404
    assert body(gone) == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}]


@pytest.mark.parametrize(("soql", "code", "tail"), [
    ("SELECT Id FRM Account", "MALFORMED_QUERY", "unexpected token: 'FRM'"),
    ("SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Phone = 'c'", "MALFORMED_QUERY",
     "unexpected token: 'OR'"),
    ("SELECT Id, Foo__c FROM Account", "INVALID_FIELD",
     "No such column 'Foo__c' on entity 'Account'. If you are attempting to use a custom field, be sure to append "
     "the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate "
     "names."),
    ("SELECT Id FROM Acount", "INVALID_TYPE",
     "sObject type 'Acount' is not supported. If you are attempting to use a custom object, be sure to append the "
     "'__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."),
    ("SELECT Id FROM Account WHERE CreatedDate > 2024-01-01", "INVALID_QUERY_FILTER_OPERATOR",
     "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in "
     "quotes"),
    ("SELECT Id FROM Account WHERE Name = 5", "INVALID_QUERY_FILTER_OPERATOR",
     "value of filter criterion for field 'Name' must be of type string and should be enclosed in quotes"),
])
def test_query_errors(seeded_api: Any, soql: str, code: str, tail: str) -> None:
    response = seeded_api.query(soql)
    assert response.status_code == 400
    [error] = body(response)
    assert error["errorCode"] == code and set(error) == {"message", "errorCode"}
    assert error["message"].startswith(f"\n{soql}\n") and error["message"].endswith("\n" + tail)
    assert "\nERROR at Row:1:Column:" in error["message"]


def test_caret_points_at_the_offending_token(seeded_api: Any) -> None:
    [error] = body(seeded_api.query("SELECT Id, Nme FROM Contact"))
    assert error["message"].split("\n")[1:4] == ["SELECT Id, Nme FROM Contact", "           ^",
                                                  "ERROR at Row:1:Column:12"]


def test_unknown_resources_and_methods(seeded_api: Any) -> None:
    assert body(seeded_api.get("/sobjects/Nope/describe")) == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    wrong = seeded_api.http.put(seeded_api.base + "/sobjects/Account/describe")
    assert wrong.status_code == 405 and body(wrong)[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_bulk_job_errors(seeded_api: Any) -> None:
    compound = seeded_api.post("/jobs/query", json={"operation": "query", "query": "SELECT Id, BillingAddress FROM "
                                                                                   "Account"})
    assert compound.status_code == 400
    assert body(compound) == [{"message": "Selecting compound data not supported in Bulk Query",
                               "errorCode": "INVALID_FIELD"}]
    bad = seeded_api.post("/jobs/query", json={"operation": "query", "query": "SELECT FROM"})
    assert body(bad)[0]["errorCode"] == "MALFORMED_QUERY"


def test_composite_collections_take_at_most_200_records(api: Any) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(201)]
    response = api.post("/composite/sobjects", json={"allOrNone": False, "records": records})
    assert response.status_code == 400
    assert body(response) == [{"message": "record limit reached. cannot submit more than 200 records into this call",
                               "errorCode": "EXCEEDED_ID_LIMIT"}]
