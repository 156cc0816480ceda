"""Logins: OAuth grants (JWT bearer verified with RS256, refresh token, password, client credentials) and
SOAP, with Salesforce's success and failure shapes."""

from __future__ import annotations

from typing import Any
from xml.dom.minidom import parseString  # the parser simple-salesforce reads the login response with

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from connectors.salesforce.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
    ConnectedApp,
    Sandbox,
)


def rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def use_proxy(monkeypatch: pytest.MonkeyPatch, sb: Sandbox) -> None:
    assert sb.urls is not None
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in sb.urls.client_env().items():
        monkeypatch.setenv(name, value)


def test_jwt_bearer_signature_is_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = rsa_pair()
    other_private, _ = rsa_pair()
    app = ConnectedApp(client_id="jwt-app", client_secret="unused-secret", jwt_public_key=public)
    with Sandbox(connected_apps=[app]) as sb:
        use_proxy(monkeypatch, sb)
        sf = Salesforce(username=DEFAULT_USERNAME, consumer_key="jwt-app", privatekey=private)
        assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
        with pytest.raises(SalesforceAuthenticationFailed) as err:
            Salesforce(username=DEFAULT_USERNAME, consumer_key="jwt-app", privatekey=other_private)
        assert "invalid assertion" in str(err.value)
        assert sb.context.auth.logins[
            "urn:ietf:params:oauth:grant-type:jwt-bearer"] == 1


def test_refresh_token_grant_shape(sandbox: Sandbox) -> None:
    assert sandbox.urls is not None and sandbox.urls.http is not None
    url = f"{sandbox.urls.http}/services/oauth2/token"
    ok = requests.post(url, data={"grant_type": "refresh_token", "client_id": DEFAULT_CLIENT_ID,
                                  "client_secret": DEFAULT_CLIENT_SECRET, "refresh_token": DEFAULT_REFRESH_TOKEN})
    token = ok.json()
    assert ok.status_code == 200 and "refresh_token" not in token  # no rotation: tap would rewrite its config
    assert token["instance_url"] == sandbox.urls.http and not token["instance_url"].endswith("/")
    assert {"access_token", "id", "token_type", "issued_at", "signature"} <= set(token)
    data = requests.get(f"{token['instance_url']}/services/data/v62.0/sobjects",
                        headers={"Authorization": f"Bearer {token['access_token']}"})
    assert data.status_code == 200
    expired = requests.post(url, data={"grant_type": "refresh_token", "client_id": DEFAULT_CLIENT_ID,
                                       "refresh_token": "stale"})
    assert expired.status_code == 400
    assert expired.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    unknown = requests.post(url, data={"grant_type": "password", "client_id": "nobody"})
    assert unknown.json() == {"error": "invalid_client_id", "error_description": "client identifier invalid"}


def test_soap_login_failure_is_a_login_fault(via_proxy: Sandbox) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        Salesforce(username=DEFAULT_USERNAME, password="wrong", security_token="")
    assert err.value.code == "INVALID_LOGIN"
    assert err.value.content == b"Invalid username, password, security token; or user locked out."


def test_soap_response_shape(sandbox: Sandbox) -> None:
    assert sandbox.urls is not None and sandbox.urls.http is not None
    envelope = (
        '<?xml version="1.0" encoding="utf-8" ?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><env:Body><urn:login><urn:username>'
        f"{DEFAULT_USERNAME}</urn:username><urn:password>sandbox-password</urn:password></urn:login></env:Body>"
        "</env:Envelope>")
    response = requests.post(f"{sandbox.urls.http}/services/Soap/u/59.0", data=envelope,
                             headers={"content-type": "text/xml", "SOAPAction": "login"})
    assert response.status_code == 200
    dom = parseString(response.content)
    server_url = dom.getElementsByTagName("serverUrl")[0].firstChild.nodeValue  # type: ignore[union-attr]
    session_id = dom.getElementsByTagName("sessionId")[0].firstChild.nodeValue  # type: ignore[union-attr]
    assert server_url.startswith(f"{sandbox.urls.http}/services/Soap/u/59.0/")
    assert sandbox.context.sessions.check(str(session_id)) is not None


def test_identity_and_static_sessions(make_api: Any) -> None:
    with Sandbox(static_sessions=["FIXED-SESSION-FOR-CASSETTES"]) as sb:
        api = make_api(sb, token="FIXED-SESSION-FOR-CASSETTES")
        assert api.get("/limits").status_code == 200
        me = api.http.get(f"{api.root}/id/{sb.context.org_id}/{sb.user_id()}").json()
        assert me["username"] == DEFAULT_USERNAME and me["user_id"] == sb.user_id()
