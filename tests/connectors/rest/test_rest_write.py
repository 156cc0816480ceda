"""Writes per record and per batch with per-record results; deletes; OAuth2 token caching and refresh."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import Cursor
from connectors.contract import ContractCase, connector_contract
from connectors.errors import AuthenticationError
from connectors.rest import RestConfig, RestConnector
from connectors.retry import NO_RETRY, RetryPolicy

WRITE = {"path": "/v1/contacts/{id}", "method": "PUT", "delete_path": "/v1/contacts/{id}"}


def rest(url: str, write: dict[str, Any] | None = None, retry: RetryPolicy = NO_RETRY, **config: Any) -> RestConnector:
    stream = {"path": "/v1/paged", "pagination": {"type": "page_number", "page_size": 5},
              "cursor_field": "updated_at", "incremental_param": "updated_since", "write": write or WRITE}
    return RestConnector(RestConfig(base_url=url, streams={"contacts": stream}, batch_size=5, **config), retry)


def people(n: int) -> list[dict[str, Any]]:
    return [{"id": f"c{i:03d}", "name": f"Person {i}", "email": f"p{i}@example.com",
             "updated_at": f"2024-02-01T10:{i // 4:02d}:00Z"} for i in range(n)]


def make_case(tmp_path: Any, request: pytest.FixtureRequest) -> ContractCase:
    server = request.getfixturevalue("api")
    return ContractCase(rest(server.url), "contacts", "id", people(23))


TestRestContract = connector_contract(make_case)


def test_record_writes_report_created_and_rejections_and_the_rest_lands(api: Any) -> None:
    connector = rest(api.url)
    records = people(6)
    records[2]["email"] = "not-an-email"
    records[1] |= {"credit": Decimal("1500.50"), "met": date(2024, 2, 29)}  # as a mapping hands them over
    first = connector.write("contacts", records)
    assert [r.created for r in first.results] == [True, True, None, True, True, True]
    error = first.results[2].error
    assert error is not None and error.code == "INVALID_EMAIL" and error.key == "c002"
    assert "not-an-email" not in str(error)  # the body quoted the value; the error does not
    assert sorted(api.api.rows) == ["c000", "c001", "c003", "c004", "c005"]
    assert (api.api.rows["c001"]["credit"], api.api.rows["c001"]["met"]) == ("1500.50", "2024-02-29")
    again = connector.write("contacts", people(2), deletes=["c000", "c404"])
    assert [r.created for r in again.results] == [False, False] and all(d.ok for d in again.deleted)
    assert "c000" not in api.api.rows


def test_batch_writes_map_one_result_per_record(api: Any) -> None:
    batch = {"mode": "batch", "method": "POST", "path": "/v1/contacts/batch", "batch_size": 4}
    connector = rest(api.url, batch)
    records = people(10)
    records[5]["email"] = "nope"
    result = connector.write("contacts", records)
    assert [r.index for r in result.results] == list(range(10))
    assert [r.ok for r in result.results].count(False) == 1 and not result.results[5].ok
    assert result.results[5].error is not None and result.results[5].error.fields == ("email",)
    assert all(r.created for r in result.results if r.ok) and api.api.served == 3


def test_oauth2_token_is_cached_refreshed_on_expiry_and_after_a_401(api: Any, client_credentials: Any) -> None:
    client_id, client_secret = client_credentials
    api.api.require_token = True
    now = [1000.0]
    auth = {"type": "oauth2_client_credentials", "token_url": f"{api.url}/oauth/token", "client_id": client_id,
            "client_secret": client_secret}
    connector = rest(api.url, retry=RetryPolicy(clock=lambda: now[0]), auth=auth)
    assert connector.check().ok and api.api.issued == 1
    assert not connector.write("contacts", people(8)).failed and api.api.issued == 1  # nine calls, one token
    now[0] += 3600 - 30  # inside the expiry margin
    assert len(list(connector.read("contacts"))) == 2 and api.api.issued == 2
    api.api.tokens.clear()  # the server revoked every token
    assert len(list(connector.read("contacts"))) == 2 and api.api.issued == 3
    wrong = rest(api.url, auth={**auth, "client_secret": "guess"})
    with pytest.raises(AuthenticationError):
        list(wrong.read("contacts"))
    assert "guess" not in repr(wrong.config)


def test_unsorted_apis_checkpoint_only_at_the_end_and_deleted_flags_are_tombstones(api: Any) -> None:
    stream = {"path": "/v1/offset", "pagination": {"type": "offset", "page_size": 4}, "cursor_field": "updated_at",
              "incremental_param": "updated_since", "cursor_sorted": False, "deleted_field": "deleted"}
    connector = RestConnector(RestConfig(base_url=api.url, batch_size=3, streams={"contacts": stream}), NO_RETRY)
    for n, record in enumerate(people(10)):
        api.api.put(record["id"], {**record, "deleted": n in (2, 7)})
    batches = list(connector.read("contacts"))
    assert [b.cursor for b in batches[:-1]] == [Cursor()] * (len(batches) - 1)  # a crash re-reads everything
    last = batches[-1].cursor
    assert last is not None and last.value == "2024-02-01T10:02:00Z" and last.seen_keys == ("c008", "c009")
    assert sorted(t for b in batches for t in b.tombstones) == ["c002", "c007"]
    assert len([r for b in batches for r in b.records]) == 8
    assert list(connector.read("contacts", cursor=last)) == []
