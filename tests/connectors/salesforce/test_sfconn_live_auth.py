"""Every OAuth flow against the sandbox, refused credentials, and reaching login.salesforce.com through its proxy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.errors import AuthenticationError
from connectors.retry import RetryPolicy
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    ConnectedApp,
    Sandbox,
    SandboxConfig,
)

QUICK = RetryPolicy(max_attempts=2, initial_wait=0.001, sleep=lambda _s: None)


def _keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


PRIVATE, PUBLIC = _keypair()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    apps = [ConnectedApp(client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, jwt_public_key=PUBLIC)]
    with Sandbox(SandboxConfig(connected_apps=apps)) as running:
        yield running


def _connector(sandbox: Sandbox, auth: dict[str, Any], **overrides: Any) -> SalesforceConnector:
    assert sandbox.urls is not None and sandbox.urls.https is not None
    settings = {"auth": auth, "login_url": sandbox.urls.https, "ca_bundle": str(sandbox.urls.ca_path),
                "objects": ["Contact"], **overrides}
    return SalesforceConnector(SalesforceConfig.model_validate(settings), QUICK)


FLOWS = {
    "jwt_bearer": {"flow": "jwt_bearer", "client_id": DEFAULT_CLIENT_ID, "username": DEFAULT_USERNAME,
                   "private_key": PRIVATE},
    "client_credentials": {"flow": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                           "client_secret": DEFAULT_CLIENT_SECRET},
    "refresh_token": {"flow": "refresh_token", "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
                      "refresh_token": DEFAULT_REFRESH_TOKEN},
    "password": {"flow": "password", "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
                 "username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD, "security_token": DEFAULT_SECURITY_TOKEN},
}


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_each_oauth_flow_logs_in_and_reads(sandbox: Sandbox, flow: str) -> None:
    connector = _connector(sandbox, FLOWS[flow])
    report = connector.check()
    assert report.ok, [(i.name, i.reason) for i in report.items]
    assert [s.name for s in connector.discover()] == ["Contact"]
    connector.close()


@pytest.mark.parametrize("auth", [
    {**FLOWS["client_credentials"], "client_secret": "wrong"},
    {**FLOWS["refresh_token"], "refresh_token": "revoked"},
    {**FLOWS["jwt_bearer"], "private_key": _keypair()[0]},  # signed with a key the app does not know
    {**FLOWS["password"], "password": "wrong"},
], ids=["client_credentials", "refresh_token", "jwt_bearer", "password"])
def test_refused_credentials_are_an_authentication_error(sandbox: Sandbox, auth: dict[str, Any]) -> None:
    connector = _connector(sandbox, auth)
    report = connector.check()
    assert not report.ok and report.items[0].name == "login"
    with pytest.raises(AuthenticationError):
        list(connector.read("Contact"))
    connector.close()


def test_default_login_url_through_the_sandbox_proxy(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """login.salesforce.com reached through the sandbox's CONNECT proxy, trusting only its CA."""
    assert sandbox.urls is not None and sandbox.urls.proxy is not None
    monkeypatch.setenv("HTTPS_PROXY", sandbox.urls.proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    connector = SalesforceConnector(SalesforceConfig.model_validate({
        "auth": FLOWS["jwt_bearer"], "ca_bundle": str(sandbox.urls.ca_path), "objects": ["Contact"]}), QUICK)
    assert connector.config.token_url == "https://login.salesforce.com/services/oauth2/token"
    assert connector.check().ok
    assert sandbox.proxy is not None and sandbox.proxy.tunnels.get("login.salesforce.com", 0) >= 1
    connector.close()
