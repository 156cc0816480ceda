"""The HTTP contract with Salesforce, replayed from vcrpy cassettes: no sandbox, no network.

The cassettes were recorded against the local sandbox. To record them again (after a change in
what the connector sends), run with CRMSYNC_RECORD_CASSETTES=1: the sandbox starts in-process and
every cassette is rewritten, with the Authorization header, the token request's credentials and
the access tokens in token responses removed before anything is written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson
import pytest
import vcr

from connectors.errors import BudgetExhaustedError
from connectors.retry import RetryPolicy
from connectors.salesforce import objects
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.connector import SalesforceConnector

CASSETTES = Path(__file__).parent / "cassettes"
RECORD = os.environ.get("CRMSYNC_RECORD_CASSETTES") == "1"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
BASE = datetime(2025, 6, 1, tzinfo=UTC)
CLIENT_ID = "crmsync-sandbox-client"
SECRETS_IN_SANDBOX = ("crmsync-sandbox-secret", "crmsync-sandbox-refresh-token", "sandbox-password", "SANDBOXTOKEN")
KEPT_FORM_FIELDS = {"grant_type"}


def _scrub_request(request: Any) -> Any:
    if request.path.endswith("/oauth2/token") and request.body:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        kept = [(k, v) for k, v in parse_qsl(body) if k in KEPT_FORM_FIELDS]
        request.body = "&".join(f"{k}={v}" for k, v in kept).encode()
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {}).get("string")
    if body and b'"access_token"' in body:
        data = orjson.loads(body)
        data.update(access_token="REDACTED", signature="REDACTED")
        response["body"]["string"] = orjson.dumps(data)
    return response


def _cassette(name: str) -> Any:
    """The cassette ``name``: rewritten from scratch when recording, replayed strictly otherwise."""
    if RECORD:
        (CASSETTES / name).unlink(missing_ok=True)
    return _recorder().use_cassette(name)


def _recorder() -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES), record_mode="all" if RECORD else "none",
        match_on=("method", "path", "query"), filter_headers=["Authorization", "Cookie", "Set-Cookie"],
        before_record_request=_scrub_request, before_record_response=_scrub_response,
        decode_compressed_response=True,
    )


def _stamp(n: int) -> str:
    moment = BASE + timedelta(milliseconds=n // 3)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class Org:
    """The sandbox while recording; a placeholder login URL while replaying."""

    def __init__(self) -> None:
        self.sandbox: Any = None
        self.login_url = "https://sandbox.invalid"
        self.ca_bundle: str | None = None

    def start(self, contacts: int) -> None:
        from connectors.salesforce.sandbox import Sandbox, SandboxConfig

        self.sandbox = Sandbox(SandboxConfig(http_port=None, proxy_port=None))
        urls = self.sandbox.start()
        self.login_url, self.ca_bundle = urls.https, str(urls.ca_path)
        owner = self.sandbox.user_id()
        self.sandbox.insert_rows("Contact", [
            {"Id": objects.id_for("003", n), "LastName": f"Last{n}", "Email": f"p{n}@example.com",
             "ERP_Contact_No__c": f"C{n:06d}", "IsDeleted": int(n % 40 == 0), "HasOptedOutOfEmail": 0,
             "DoNotCall": 0, "CreatedDate": _stamp(n), "LastModifiedDate": _stamp(n), "SystemModstamp": _stamp(n),
             "OwnerId": owner, "CreatedById": owner, "LastModifiedById": owner} for n in range(contacts)])

    def faults(self, **changes: Any) -> None:
        if self.sandbox is not None:
            self.sandbox.faults.configure(changes)

    def budget(self, limit: int, used: int) -> None:
        if self.sandbox is not None:
            self.sandbox.budget.set(limit=limit, used=used)

    def connector(self, **overrides: Any) -> SalesforceConnector:
        config = SalesforceConfig.model_validate({
            "auth": {"flow": "client_credentials", "client_id": CLIENT_ID,
                     "client_secret": SECRETS_IN_SANDBOX[0] if RECORD else "replayed"},
            "login_url": self.login_url, "ca_bundle": self.ca_bundle, "bulk_poll_interval": 0,
            "fields": {"Contact": ["LastName", "Email", "ERP_Contact_No__c"]}, **overrides})
        policy = RetryPolicy(max_attempts=4, initial_wait=0.001, sleep=lambda _s: None)
        return SalesforceConnector(config, policy, now=lambda: NOW)


@pytest.fixture
def org() -> Iterator[Org]:
    made = Org()
    yield made
    if made.sandbox is not None:
        made.sandbox.stop()


def _live_ids(count: int) -> set[str]:
    return {objects.id_for("003", n) for n in range(count) if n % 40}


def test_rest_pages_survive_a_503_and_an_expired_session(org: Org) -> None:
    with _cassette("rest_read_faults.yaml"):
        if RECORD:
            org.start(450)
            org.faults(script=["server_unavailable", "invalid_session"], path_pattern="/queryAll")
        connector = org.connector(page_size=200, batch_size=200, bulk_read_threshold=None)
        batches = list(connector.read("Contact"))
    ids = [r["Id"] for b in batches for r in b.records]
    assert len(ids) == len(set(ids)) and set(ids) == _live_ids(450)
    assert {t for b in batches for t in b.tombstones} == {objects.id_for("003", n) for n in range(0, 450, 40)}
    assert connector.client.logins == 2
    final = batches[-1].cursor
    assert final is not None and final.value == datetime.fromisoformat(_stamp(449))


def test_bulk_query_job_pages_by_locator(org: Org) -> None:
    with _cassette("bulk_read.yaml"):
        if RECORD:
            org.start(450)
        connector = org.connector(bulk_read_threshold=100, bulk_max_records=200, batch_size=200)
        batches = list(connector.read("Contact"))
    records = [r for b in batches for r in b.records]
    assert {r["Id"] for r in records} == _live_ids(450) and len(records) == len(_live_ids(450))
    assert all(r["IsDeleted"] is False and r["SystemModstamp"].endswith("+0000") for r in records)
    assert batches[0].cursor is not None and batches[0].cursor.extra["bulk"]["job"]
    assert batches[-1].cursor is not None and batches[-1].cursor.extra == {}


def test_writes_collections_bulk_ingest_and_deletes(org: Org) -> None:
    good = [{"ERP_Contact_No__c": f"W{n}", "LastName": f"W{n}", "Email": f"w{n}@example.com"} for n in range(4)]
    bad = {"ERP_Contact_No__c": "W-bad", "LastName": None}
    with _cassette("writes.yaml"):
        if RECORD:
            org.start(5)
        connector = org.connector(bulk_write_threshold=6)
        small = connector.write("Contact", [*good[:2], bad])
        large = connector.write("Contact", [*good, bad, {"ERP_Contact_No__c": "W9", "LastName": "x" * 81}])
        deleted = connector.write("Contact", [], deletes=[str(small.results[0].key), "W1", "C000003"])
    assert [r.created for r in small.results[:2]] == [True, True]
    assert small.results[2].error is not None and small.results[2].error.code == "REQUIRED_FIELD_MISSING"
    assert [r.created for r in large.results[:4]] == [False, False, True, True]
    assert [r.error.code if r.error else None for r in large.results[4:]] == [
        "REQUIRED_FIELD_MISSING", "STRING_TOO_LONG"]
    assert all(r.ok for r in deleted.deleted) and len(deleted.deleted) == 3


def test_reading_stops_for_the_budget(org: Org) -> None:
    with _cassette("budget_stop.yaml"):
        if RECORD:
            org.start(450)
            org.budget(limit=1000, used=898)
        connector = org.connector(page_size=200, batch_size=200, bulk_read_threshold=None)
        read = []
        with pytest.raises(BudgetExhaustedError) as caught:
            for batch in connector.read("Contact"):
                read.append(batch)
    assert read and caught.value.limit == 1000 and caught.value.used is not None and caught.value.used > 900


SECRET_PATTERNS = (
    re.compile(r"Bearer\s+\S", re.IGNORECASE),
    re.compile(r"^\s*-?\s*authorization\s*:", re.IGNORECASE | re.MULTILINE),
    re.compile(r'"access_token"\s*:\s*"(?!REDACTED")'),
    re.compile(r"00D[0-9A-Za-z]{12,15}![0-9A-Za-z._-]{10,}"),  # a Salesforce session id
    re.compile(r"(client_secret|refresh_token|password|assertion)=", re.IGNORECASE),
)


def test_cassettes_hold_no_credentials_or_session_ids() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert len(files) >= 4
    for path in files:
        text = path.read_text()
        for secret in SECRETS_IN_SANDBOX:
            assert secret not in text, (path.name, "sandbox credential")
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(text), (path.name, pattern.pattern)
