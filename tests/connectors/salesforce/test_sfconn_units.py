"""Pure pieces of the Salesforce connector: config, error table, SOQL, describe mapping, Bulk CSV."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from connectors.errors import (
    AuthenticationError,
    BudgetExhaustedError,
    ConfigurationError,
    RateLimitedError,
    RetryableError,
    StreamError,
)
from connectors.salesforce import auth, errors, objects, quirks, schema, soql
from connectors.salesforce.bulk import csv_value, parse_csv, to_csv
from connectors.salesforce.client import Budget
from connectors.salesforce.config import JwtBearerAuth, SalesforceConfig
from connectors.salesforce.writer import bulk_error

# -- config -----------------------------------------------------------------------------------------


def _pem() -> tuple[str, rsa.RSAPublicKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


def test_auth_flows_are_a_discriminated_union_with_secrets_hidden() -> None:
    config = SalesforceConfig.model_validate({"auth": {"flow": "refresh_token", "client_id": "ck",
                                                       "refresh_token": "rt-secret"}})
    assert config.auth.flow == "refresh_token"
    assert "rt-secret" not in repr(config) and "rt-secret" not in config.model_dump_json()
    with pytest.raises(ValidationError):
        SalesforceConfig.model_validate({"auth": {"flow": "password", "client_id": "ck", "username": "u"}})
    with pytest.raises(ValidationError):  # neither key nor key file
        SalesforceConfig.model_validate({"auth": {"flow": "jwt_bearer", "client_id": "ck", "username": "u"}})


def test_login_urls_for_production_sandbox_and_my_domain() -> None:
    creds = {"flow": "client_credentials", "client_id": "ck", "client_secret": "s"}
    assert SalesforceConfig(auth=creds).token_url == "https://login.salesforce.com/services/oauth2/token"
    assert SalesforceConfig(auth=creds, is_sandbox=True).token_url.startswith("https://test.salesforce.com/")
    my = SalesforceConfig(auth=creds, login_url="https://acme.my.salesforce.com/")
    assert my.token_url == "https://acme.my.salesforce.com/services/oauth2/token"
    assert my.jwt_audience == "https://login.salesforce.com"
    assert SalesforceConfig(auth=creds, is_sandbox=True).jwt_audience == "https://test.salesforce.com"


def test_jwt_assertion_is_signed_rs256_with_the_salesforce_claims() -> None:
    pem, public = _pem()
    config = SalesforceConfig(auth=JwtBearerAuth(client_id="ck", username="int@acme.com", private_key=pem))
    now = datetime(2024, 1, 1, tzinfo=UTC)
    body, headers = auth.token_request(config, now)
    assert body["grant_type"] == auth.JWT_GRANT
    claims = jwt.decode(body["assertion"], public, algorithms=["RS256"], audience="https://login.salesforce.com",
                        options={"verify_exp": False})
    assert claims["iss"] == "ck" and claims["sub"] == "int@acme.com"
    assert claims["exp"] == int((now + timedelta(minutes=3)).timestamp())


def test_bad_private_key_is_a_configuration_error() -> None:
    config = SalesforceConfig(auth=JwtBearerAuth(client_id="ck", username="u", private_key="not a key"))
    with pytest.raises(ConfigurationError):
        auth.token_request(config, datetime.now(UTC))


# -- errors -----------------------------------------------------------------------------------------


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(("status", "body", "kind", "code"), [
    (401, b'[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]',
     errors.SessionExpiredError, "INVALID_SESSION_ID"),
    (403, b'[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]',
     BudgetExhaustedError, "budget_exhausted"),
    (403, b'[{"message":"ConcurrentPerOrgLongTxn Limit exceeded","errorCode":"REQUEST_LIMIT_EXCEEDED"}]',
     RateLimitedError, "REQUEST_LIMIT_EXCEEDED"),
    (503, b'[{"message":"down","errorCode":"SERVER_UNAVAILABLE"}]', RetryableError, "SERVER_UNAVAILABLE"),
    (503, b"<html>busy</html>", RetryableError, "HTTP_503"),
    (400, b'[{"message":"row lock","errorCode":"UNABLE_TO_LOCK_ROW"}]', RetryableError, "UNABLE_TO_LOCK_ROW"),
    (400, b'[{"message":"Your query request was running for too long.","errorCode":"QUERY_TIMEOUT"}]',
     errors.QueryTimeoutError, "QUERY_TIMEOUT"),
    (400, b'[{"message":"unexpected token: FRM","errorCode":"MALFORMED_QUERY"}]', ConfigurationError,
     "MALFORMED_QUERY"),
    (400, b'[{"message":"No such column \'Foo\' on entity \'Contact\'","errorCode":"INVALID_FIELD"}]',
     ConfigurationError, "INVALID_FIELD"),
    (400, b'[{"message":"Selecting compound data not supported in Bulk Query","errorCode":"INVALID_FIELD"}]',
     errors.BulkNotSupportedError, "bulk_not_supported"),
    (400, b'[{"message":"invalid locator","errorCode":"INVALID_QUERY_LOCATOR"}]', StreamError,
     "INVALID_QUERY_LOCATOR"),
])
def test_error_table(status: int, body: bytes, kind: type, code: str) -> None:
    error = errors.from_response(_response(status, body))
    assert type(error) is kind
    assert error.code == code


def test_retry_after_is_carried_and_login_errors_are_authentication() -> None:
    error = errors.from_response(_response(503, b"", {"Retry-After": "7"}))
    assert isinstance(error, RetryableError) and error.retry_after == 7.0
    refused = errors.from_response(_response(400, b'{"error":"invalid_grant","error_description":"expired"}'),
                                   login=True)
    assert isinstance(refused, AuthenticationError) and refused.code == "invalid_grant"
    assert isinstance(errors.from_response(_response(503, b"busy"), login=True), RetryableError)


def test_transport_errors() -> None:
    assert isinstance(errors.from_transport(requests.ConnectionError("reset")), RetryableError)
    assert isinstance(errors.from_transport(requests.exceptions.ChunkedEncodingError()), RetryableError)
    assert isinstance(errors.from_transport(requests.exceptions.SSLError("verify")), ConfigurationError)


def test_budget_reads_the_header_and_stops_past_the_share() -> None:
    budget = Budget(share=0.9)
    budget.observe("api-usage=900/1000; per-app-api-usage=17/250(appName=x)")
    budget.guard()  # 90% is not past 90%
    budget.observe("api-usage=901/1000")
    with pytest.raises(BudgetExhaustedError) as caught:
        budget.guard()
    assert caught.value.used == 901 and caught.value.limit == 1000


# -- SOQL -------------------------------------------------------------------------------------------


def test_soql_values_are_quoted_and_datetimes_keep_milliseconds() -> None:
    assert soql.format_soql("Name = {}", "O'Brien\\") == "Name = 'O\\'Brien\\\\'"
    moment = datetime(2024, 1, 2, 3, 4, 5, 678_901, tzinfo=timezone(timedelta(hours=2)))
    assert soql.format_soql("X >= {}", moment) == "X >= 2024-01-02T01:04:05.678Z"
    query = soql.select("Contact", ["Id", "LastName"], "SystemModstamp", moment, None)
    assert query == ("SELECT Id, LastName FROM Contact WHERE SystemModstamp >= 2024-01-02T01:04:05.678Z "
                     "ORDER BY SystemModstamp ASC, Id ASC")
    assert soql.count("Contact", "SystemModstamp", None, moment) == (
        "SELECT COUNT() FROM Contact WHERE SystemModstamp < 2024-01-02T01:04:05.678Z")
    assert "ORDER BY" not in soql.select("Contact", ["Id"], "SystemModstamp", ordered=False)
    assert soql.select("Contact", ["Id"], None, conditions=soql.key_range("003a", None)) == (
        "SELECT Id FROM Contact WHERE Id >= '003a' ORDER BY Id ASC")


@pytest.mark.parametrize("name", ["Contact; DELETE", "Name, (SELECT Id FROM x)", "1abc", "a b", ""])
def test_identifiers_that_are_not_soql_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        soql.select(name, ["Id"])


# -- describe ---------------------------------------------------------------------------------------


def test_describe_maps_types_compounds_formulas_picklists_and_references() -> None:
    account = schema.shape(objects.describe_sobject_json(objects.OBJECTS["Account"]))
    spec = account.spec
    names = {f.name for f in spec.fields}
    assert "BillingAddress" not in names and {"BillingCity", "BillingPostalCode", "BillingLatitude"} <= names
    assert "BillingAddress" not in account.select and "BillingCity" in account.select
    assert account.select[0] == "Id" and spec.primary_key == ("Id",)
    assert spec.cursor_field == "SystemModstamp" and spec.supports_deletes and account.soft_deletes
    fields = {f.name: f for f in spec.fields}
    assert fields["Health_Score__c"].formula and not fields["Health_Score__c"].writable
    assert fields["AnnualRevenue"].type == "decimal" and fields["NumberOfEmployees"].type == "integer"
    assert fields["OwnerId"].type == "reference" and fields["OwnerId"].reference_to
    industry = fields["Industry"]
    assert industry.type == "picklist" and industry.picklist_values and "Banking" in industry.picklist_values
    assert any(f.restricted for f in spec.fields if f.type == "picklist")
    assert fields["SystemModstamp"].type == "datetime" and not fields["SystemModstamp"].writable
    contact = schema.shape(objects.describe_sobject_json(objects.OBJECTS["Contact"])).spec
    assert contact.external_id_fields == ("ERP_Contact_No__c",)


def test_base64_and_hidden_fields_are_not_selected_and_quirks_apply() -> None:
    describe = objects.describe_sobject_json(objects.OBJECTS["Contact"])
    describe["fields"].append({**describe["fields"][-1], "name": "Photo__c", "type": "base64"})
    describe["fields"].append({**describe["fields"][-1], "name": "Old__c", "deprecatedAndHidden": True})
    shaped = schema.shape(describe)
    assert "Photo__c" not in shaped.select and "Old__c" not in shaped.select
    assert shaped.spec.field("Photo__c") is not None and shaped.spec.field("Photo__c").type == "base64"  # type: ignore[union-attr]
    user = schema.shape(objects.describe_sobject_json(objects.OBJECTS["User"]))
    assert not user.soft_deletes and not user.spec.supports_deletes
    assert quirks.cursor_field("LoginHistory", {"LoginTime", "Id"}) == "LoginTime"
    assert quirks.cursor_field("FormulaFunction", {"SystemModstamp"}) is None
    assert not quirks.offered("AccountChangeEvent", True) and not quirks.offered("Contact", False)
    assert all(isinstance(q, quirks.Quirk) for q in quirks.QUIRKS.values())


# -- Bulk CSV ---------------------------------------------------------------------------------------


def test_bulk_csv_values_come_back_as_rest_json_types() -> None:
    text = ('"Id","Name","IsDeleted","NumberOfEmployees","AnnualRevenue","SystemModstamp","Description"\n'
            '"001A","Acme, ""Inc""","false","12","1000.5","2024-01-01T00:00:00.000Z","two\nlines"\n'
            '"001B","","true","","","2024-01-02T00:00:00.000Z",""\n')
    types = {"Id": "id", "Name": "string", "IsDeleted": "boolean", "NumberOfEmployees": "int",
             "AnnualRevenue": "currency", "SystemModstamp": "datetime", "Description": "textarea"}
    rows = list(parse_csv(io.BytesIO(text.encode()), types))
    assert rows[0] == {"Id": "001A", "Name": 'Acme, "Inc"', "IsDeleted": False, "NumberOfEmployees": 12,
                       "AnnualRevenue": 1000.5, "SystemModstamp": "2024-01-01T00:00:00.000+0000",
                       "Description": "two\nlines"}
    assert rows[1]["Name"] is None and rows[1]["IsDeleted"] is True and rows[1]["NumberOfEmployees"] is None
    assert list(parse_csv(io.BytesIO(b""), types)) == []


def test_ingest_csv_sets_nulls_explicitly_and_bulk_errors_split() -> None:
    body = to_csv([{"Ext__c": "A1", "LastName": None, "DoNotCall": True}, {"Ext__c": "A2", "LastName": 'x"y'}],
                  ["Ext__c", "LastName", "DoNotCall"])
    assert body.decode() == 'Ext__c,LastName,DoNotCall\nA1,#N/A,true\nA2,"x""y",\n'
    assert csv_value(1.5) == "1.5"
    assert bulk_error("REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --") == (
        "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ("LastName",))
    assert bulk_error("DUPLICATE_VALUE:duplicate value found: Ext__c duplicates value on record with id: 003x")[0] \
        == "DUPLICATE_VALUE"


# -- prefetch ---------------------------------------------------------------------------------------


def test_prefetch_keeps_order_delivers_errors_after_earlier_pages_and_stops_with_the_caller() -> None:
    from connectors.salesforce.prefetch import ahead

    produced: list[int] = []

    def pages(fail_at: int | None = None) -> Iterator[int]:
        for n in range(100):
            if n == fail_at:
                raise RetryableError("page failed")
            produced.append(n)
            yield n

    assert list(ahead(pages())) == list(range(100))
    got: list[int] = []
    with pytest.raises(RetryableError):
        for n in ahead(pages(fail_at=5)):
            got.append(n)
    assert got == [0, 1, 2, 3, 4]
    produced.clear()
    reading = ahead(pages())
    assert [next(reading), next(reading)] == [0, 1]
    reading.close()
    assert len(produced) <= 4  # at most the page in hand, one queued and one being fetched
    assert list(ahead(iter([1, 2]), enabled=False)) == [1, 2]


def test_data_calls_follow_the_instance_url_but_never_downgrade_a_real_org() -> None:
    from connectors.salesforce.client import data_origin

    assert data_origin("https://acme.my.salesforce.com") == "https://acme.my.salesforce.com"
    assert data_origin("http://acme.my.salesforce.com") == "https://acme.my.salesforce.com"
    assert data_origin("http://127.0.0.1:8765") == "http://127.0.0.1:8765"


def test_registered_as_an_entry_point_and_built_from_plain_settings_without_network() -> None:
    from connectors import registry
    from connectors.retry import NO_RETRY
    from connectors.salesforce.connector import SalesforceConnector

    connector = registry.create("salesforce", {
        "auth": {"flow": "refresh_token", "client_id": "ck", "refresh_token": "rt"},
        "login_url": "https://acme.my.salesforce.com", "objects": ["Contact"], "window": "P7D"}, NO_RETRY)
    assert isinstance(connector, SalesforceConnector) and connector.capabilities.incremental
    assert connector.config.window == timedelta(days=7)
    with pytest.raises(ConfigurationError):
        registry.create("salesforce", {"auth": {"flow": "saml"}}, NO_RETRY)
    connector.close()


def test_window_plan_makes_pieces_as_it_goes_and_jumps_empty_stretches() -> None:
    from connectors.salesforce.reader import WindowPlan

    day = timedelta(days=1)
    start, upper = datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    asked: list[datetime | None] = []

    def earliest(lower: datetime | None, _upper: datetime) -> datetime | None:
        asked.append(lower)
        return datetime(2025, 12, 30, tzinfo=UTC) if lower and lower < datetime(2025, 12, 30, tzinfo=UTC) else None

    plan = WindowPlan(start, upper, day, earliest)
    assert plan.pop() == (start, start + day)
    plan.skip_empty()  # nothing in the first day: jump to the next record
    assert plan.pop() == (datetime(2025, 12, 30, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC))
    plan.split(datetime(2025, 12, 30, 12, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC), timedelta(seconds=1), "X")
    assert plan.pop() == (datetime(2025, 12, 30, 12, tzinfo=UTC), datetime(2025, 12, 30, 18, tzinfo=UTC))
    assert plan.pop() == (datetime(2025, 12, 30, 18, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC))
    assert plan.pop() == (datetime(2025, 12, 31, tzinfo=UTC), upper)
    plan.skip_empty()
    assert plan.pop() is None and len(asked) == 1  # nothing left to look for after the last piece
    whole = WindowPlan(None, upper, None, earliest)
    assert whole.pop() == (None, upper) and whole.pop() is None
    with pytest.raises(StreamError):
        WindowPlan(start, upper, None, earliest).split(start, start + timedelta(milliseconds=500),
                                                       timedelta(seconds=1), "X")
