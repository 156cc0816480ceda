"""Fixtures for the Salesforce connector tests: a configured connector against a mocked org."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests_mock as rm

from connectors.retry import RetryPolicy
from connectors.salesforce import objects
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.connector import SalesforceConnector

LOGIN = "https://login.example.test"
INSTANCE = "https://org.example.test"
DATA = f"{INSTANCE}/services/data/v62.0/"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def quick_policy(attempts: int = 6) -> RetryPolicy:
    """Retries without waiting: the sleeps are recorded, never slept."""
    return RetryPolicy(max_attempts=attempts, initial_wait=0.001, max_wait=0.001, max_total=60,
                       sleep=lambda _s: None)


def settings(**overrides: Any) -> SalesforceConfig:
    base: dict[str, Any] = {
        "auth": {"flow": "client_credentials", "client_id": "ck", "client_secret": "cs-secret"},
        "login_url": LOGIN, "bulk_read_threshold": None, "bulk_poll_interval": 0,
    }
    return SalesforceConfig.model_validate({**base, **overrides})


class MockOrg:
    """A mocked org (token endpoint, describe, generous Sforce-Limit-Info) and record builders."""

    LOGIN, INSTANCE, DATA, NOW = LOGIN, INSTANCE, DATA, NOW

    def __init__(self, mocker: rm.Mocker) -> None:
        self.mock = mocker
        mocker.post(f"{LOGIN}/services/oauth2/token",
                    json={"access_token": "00Dtoken!secret", "instance_url": INSTANCE, "token_type": "Bearer"})
        for name, obj in objects.OBJECTS.items():
            mocker.get(f"{DATA}sobjects/{name}/describe", json=objects.describe_sobject_json(obj),
                       headers={"Sforce-Limit-Info": "api-usage=10/15000"})
        mocker.get(f"{DATA}sobjects", json=objects.describe_global_json())

    @staticmethod
    def stamp(second: int, ms: int = 0) -> str:
        return f"2024-01-01T00:{second // 60:02d}:{second % 60:02d}.{ms:03d}+0000"

    def contact(self, n: int, second: int, deleted: bool = False) -> dict[str, Any]:
        return {"attributes": {"type": "Contact", "url": f"/services/data/v62.0/sobjects/Contact/{n}"},
                "Id": objects.id_for("003", n), "LastName": f"L{n}", "IsDeleted": deleted,
                "SystemModstamp": self.stamp(second)}

    @staticmethod
    def page(records: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"totalSize": len(records), "done": next_url is None, "records": records}
        if next_url:
            body["nextRecordsUrl"] = next_url
        return body

    def requests(self, path: str) -> list[Any]:
        """The requests made to a data path (e.g. ``queryAll/``)."""
        return [r for r in self.mock.request_history if r.url.startswith(DATA + path)]


@pytest.fixture
def org(requests_mock: rm.Mocker) -> MockOrg:
    return MockOrg(requests_mock)


@pytest.fixture
def make_connector() -> Iterator[Callable[..., SalesforceConnector]]:
    made: list[SalesforceConnector] = []

    def make(policy: RetryPolicy | None = None, **overrides: Any) -> SalesforceConnector:
        connector = SalesforceConnector(settings(**overrides), policy or quick_policy(), now=lambda: NOW)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()



class LiveOrg:
    """A running in-process sandbox and connectors configured for it (login_url = its HTTPS URL + its CA)."""

    def __init__(self, sandbox: Any) -> None:
        self.sb = sandbox
        self._made: list[SalesforceConnector] = []

    def settings(self, **overrides: Any) -> SalesforceConfig:
        from connectors.salesforce.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

        base: dict[str, Any] = {
            "auth": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                     "client_secret": DEFAULT_CLIENT_SECRET},
            "login_url": self.sb.urls.https, "ca_bundle": str(self.sb.urls.ca_path), "bulk_poll_interval": 0,
        }
        return SalesforceConfig.model_validate({**base, **overrides})

    def connector(self, policy: RetryPolicy | None = None, **overrides: Any) -> SalesforceConnector:
        connector = SalesforceConnector(self.settings(**overrides), policy or quick_policy(10))
        self._made.append(connector)
        return connector

    def contacts(self, numbers: range, stamp: Callable[[int], str], deleted: Callable[[int], bool] = lambda n: False,
                 ) -> list[dict[str, Any]]:
        """Contact rows in stored form (for ``Sandbox.insert_rows``)."""
        owner = self.sb.user_id()
        return [{"Id": objects.id_for("003", n), "LastName": f"Last{n}", "FirstName": f"First{n}",
                 "Email": f"p{n}@example.com", "ERP_Contact_No__c": f"C{n:08d}", "IsDeleted": int(deleted(n)),
                 "HasOptedOutOfEmail": 0, "DoNotCall": 0, "CreatedDate": stamp(n), "LastModifiedDate": stamp(n),
                 "SystemModstamp": stamp(n), "OwnerId": owner, "CreatedById": owner, "LastModifiedById": owner}
                for n in numbers]

    def close(self) -> None:
        for connector in self._made:
            connector.close()


@pytest.fixture
def live() -> Iterator[LiveOrg]:
    from connectors.salesforce.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(http_port=None, proxy_port=None)) as sandbox:
        org = LiveOrg(sandbox)
        yield org
        org.close()
