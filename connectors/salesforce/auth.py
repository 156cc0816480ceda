"""The OAuth 2.0 token request, made by the connector itself for each supported flow.

simple-salesforce can log in on its own, but only at ``https://{domain}.salesforce.com``; making the
token request here lets one ``login_url`` serve production, sandbox orgs, My Domain and the local
sandbox server, and keeps secrets in SecretStr until the moment they are sent. The JWT assertion is
signed with PyJWT (RS256 through ``cryptography``), the library simple-salesforce itself uses.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt
import orjson
import requests
import structlog

from connectors.errors import AuthenticationError, ConfigurationError
from connectors.salesforce import errors
from connectors.salesforce.config import (
    ClientCredentialsAuth,
    JwtBearerAuth,
    PasswordAuth,
    RefreshTokenAuth,
    SalesforceConfig,
)

log = structlog.get_logger(__name__)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME = timedelta(minutes=3)  # Salesforce accepts at most 3 minutes past the token request


@dataclass(frozen=True, slots=True)
class Token:
    """A session: the access token (never logged) and the instance it belongs to."""

    access_token: str = field(repr=False)
    instance_url: str


def assertion(config: SalesforceConfig, auth: JwtBearerAuth, now: datetime) -> str:
    """The signed JWT for the bearer flow: iss = consumer key, sub = user, aud = login host."""
    claims = {"iss": auth.client_id, "sub": auth.username, "aud": config.jwt_audience,
              "exp": int((now + JWT_LIFETIME).timestamp())}
    try:
        return jwt.encode(claims, auth.pem(), algorithm="RS256")
    except (ValueError, TypeError, OSError, jwt.PyJWTError) as exc:
        raise ConfigurationError(f"cannot sign the JWT with the configured private key: {type(exc).__name__}",
                                 code="jwt_key") from exc


def token_request(config: SalesforceConfig, now: datetime) -> tuple[dict[str, str], dict[str, str]]:
    """(form body, headers) of the token request for the configured flow."""
    auth = config.auth
    headers: dict[str, str] = {"Accept": "application/json"}
    if isinstance(auth, JwtBearerAuth):
        return {"grant_type": JWT_GRANT, "assertion": assertion(config, auth, now)}, headers
    if isinstance(auth, ClientCredentialsAuth):
        pair = f"{auth.client_id}:{auth.client_secret.get_secret_value()}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return {"grant_type": "client_credentials"}, headers
    if isinstance(auth, RefreshTokenAuth):
        body = {"grant_type": "refresh_token", "client_id": auth.client_id,
                "refresh_token": auth.refresh_token.get_secret_value()}
        if auth.client_secret is not None:
            body["client_secret"] = auth.client_secret.get_secret_value()
        return body, headers
    assert isinstance(auth, PasswordAuth)
    password = auth.password.get_secret_value()
    if auth.security_token is not None:
        password += auth.security_token.get_secret_value()
    return {"grant_type": "password", "client_id": auth.client_id,
            "client_secret": auth.client_secret.get_secret_value(), "username": auth.username,
            "password": password}, headers


def login(config: SalesforceConfig, session: requests.Session, now: Callable[[], datetime]) -> Token:
    """One token request. Raises AuthenticationError when refused, RetryableError when transient."""
    body, headers = token_request(config, now())
    try:
        response = session.post(config.token_url, data=body, headers=headers, timeout=config.timeout)
    except requests.RequestException as exc:
        raise errors.from_transport(exc) from exc
    if response.status_code != 200:
        raise errors.from_response(response, login=True)
    try:
        data = orjson.loads(response.content)
        token = Token(str(data["access_token"]), str(data["instance_url"]).rstrip("/"))
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise AuthenticationError("token response without access_token/instance_url", code="bad_token") from exc
    log.info("salesforce.login.ok", flow=config.auth.flow, instance=token.instance_url)
    return token
