"""Auth flows as objects: each gives the headers of the next request; OAuth2 caches its token.

One class per flow, chosen from the config's ``type``. Tokens and passwords never leave these
objects except in the Authorization (or API key) header of a request.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Protocol

import requests

from connectors.errors import AuthenticationError, ConnectorError, RetryableError
from connectors.rest.config import (
    ApiKeyAuth,
    AuthConfig,
    BasicAuth,
    BearerAuth,
    NoAuth,
    OAuth2ClientCredentials,
)
from connectors.rest.errors import status_error, transport_error


class AuthFlow(Protocol):
    refreshable: bool
    """Whether a 401 may be cured by ``invalidate()`` and one more try (a fresh token)."""

    def headers(self) -> dict[str, str]: ...

    def invalidate(self) -> None: ...


class StaticAuth:
    """Fixed headers: none, bearer token, basic credentials or an API key."""

    refreshable = False

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    def headers(self) -> dict[str, str]:
        return self._headers

    def invalidate(self) -> None:
        """A fixed credential cannot be renewed."""


class OAuth2Flow:
    """Client credentials: fetch a token, reuse it until ``expires_in - margin``, refetch after a 401."""

    refreshable = True

    def __init__(self, config: OAuth2ClientCredentials, session: requests.Session, clock: Callable[[], float],
                 timeout: float) -> None:
        self.config, self.session, self.clock, self.timeout = config, session, clock, timeout
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.fetches = 0

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self.clock() >= self._expires_at:
                self._fetch()
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> None:
        config = self.config
        form = {"grant_type": "client_credentials"}
        form |= {k: v for k, v in (("scope", config.scope), ("audience", config.audience)) if v}
        secret = config.client_secret.get_secret_value()
        headers = {"Accept": "application/json"}
        if config.client_auth == "basic":
            headers["Authorization"] = _basic(config.client_id, secret)
        else:
            form |= {"client_id": config.client_id, "client_secret": secret}
        try:
            response = self.session.post(config.token_url, data=form, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise transport_error(exc, "rest: token request") from exc
        if response.status_code in (400, 401, 403):  # invalid_client / invalid_grant (RFC 6749 5.2)
            raise AuthenticationError(f"rest: token request refused: HTTP {response.status_code}")
        if not response.ok:
            raise status_error(response, "rest: token request")
        self._accept(response)
        self.fetches += 1

    def _accept(self, response: requests.Response) -> None:
        try:
            body = response.json()
            token, lifetime = body["access_token"], float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise RetryableError("rest: token response without access_token") from exc
        self._token = str(token)
        self._expires_at = self.clock() + max(0.0, lifetime - self.config.expiry_margin)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def make_auth(config: AuthConfig, session: requests.Session, clock: Callable[[], float], timeout: float) -> AuthFlow:
    if isinstance(config, OAuth2ClientCredentials):
        return OAuth2Flow(config, session, clock, timeout)
    if isinstance(config, BearerAuth):
        return StaticAuth({"Authorization": f"Bearer {config.token.get_secret_value()}"})
    if isinstance(config, BasicAuth):
        return StaticAuth({"Authorization": _basic(config.username, config.password.get_secret_value())})
    if isinstance(config, ApiKeyAuth):
        return StaticAuth({config.header: config.prefix + config.key.get_secret_value()})
    if isinstance(config, NoAuth):
        return StaticAuth({})
    raise ConnectorError(f"rest: unknown auth {type(config).__name__}")
