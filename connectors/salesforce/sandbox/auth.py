"""Sessions and the two login endpoints: OAuth 2.0 token (four grants) and the SOAP partner ``login``.

Credentials come from config (users, connected apps, refresh tokens). A session is an opaque token
with an expiry (configurable TTL) checked on every call; an unknown or expired token is answered
with 401 INVALID_SESSION_ID. Token responses advertise the sandbox's own base URL as
``instance_url`` (no trailing slash, reference §1.3) and never return a refresh token on a refresh
grant (§2.1: tap rewrites its config file, airbyte emits a control message when it sees one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from typing import Any

import jwt

from .config import ConnectedApp, SandboxConfig, UserCredential
from .errors import OAuthError, SoapFault
from .httpserver import Request, Response
from .timefmt import Clock

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass
class Session:
    token: str
    user_id: str
    username: str
    client_id: str | None
    expires_at: float


class SessionStore:
    """Live sessions by token; expired ones are refused (and forgotten) when presented."""

    def __init__(self, org_id: str, ttl: float, clock: Clock) -> None:
        self.org_id = org_id
        self.ttl = ttl
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def issue(self, user_id: str, username: str, client_id: str | None = None, token: str | None = None,
              ttl: float | None = None) -> Session:
        token = token or f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        session = Session(token, user_id, username, client_id, self.clock() + (self.ttl if ttl is None else ttl))
        with self._lock:
            self._sessions[token] = session
        return session

    def check(self, token: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and session.expires_at <= self.clock():
                del self._sessions[token]
                return None
            return session

    def invalidate(self, token: str) -> bool:
        with self._lock:
            return self._sessions.pop(token, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()


def bearer_token(request: Request) -> str | None:
    """The session from ``Authorization: Bearer``/``OAuth`` or Bulk 1.0's ``X-SFDC-Session``."""
    header = request.header("Authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return request.header("X-SFDC-Session")


class Authenticator:
    """Checks credentials from config and issues sessions."""

    def __init__(self, config: SandboxConfig, sessions: SessionStore, user_ids: dict[str, str]) -> None:
        self.config = config
        self.sessions = sessions
        self.user_ids = user_ids  # username (lower) -> User Id
        self.logins: Counter[str] = Counter()  # successful logins by grant type (and "soap")

    # ----------------------------------------------------------------------------- lookups
    def _user(self, username: str) -> UserCredential | None:
        return next((u for u in self.config.users if u.username.lower() == username.lower()), None)

    def _app(self, client_id: str | None) -> ConnectedApp:
        app = next((a for a in self.config.connected_apps if a.client_id == client_id), None)
        if app is None:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        return app

    def _check_secret(self, app: ConnectedApp, secret: str | None) -> None:
        if secret is None or not hmac.compare_digest(secret, app.client_secret.get_secret_value()):
            raise OAuthError("invalid_client", "invalid client credentials")

    def password_ok(self, user: UserCredential | None, password: str) -> bool:
        """Password followed by the security token, or the password alone: clients on 127.0.0.1 are inside the
        org's trusted login IP range, where Salesforce waives the token."""
        if user is None:
            return False
        pw, token = user.password.get_secret_value(), user.security_token.get_secret_value()
        return hmac.compare_digest(password, pw + token) or hmac.compare_digest(password, pw)

    def _session_for(self, username: str, client_id: str | None) -> Any:
        user_id = self.user_ids.get(username.lower())
        if user_id is None:
            raise OAuthError("invalid_grant", "authentication failure")
        return self.sessions.issue(user_id, username, client_id)

    # ----------------------------------------------------------------------------- OAuth
    def token(self, request: Request, base_url: str) -> Response:
        form = request.form()
        grant = form.get("grant_type", "")
        handler = {"password": self._password, "refresh_token": self._refresh,
                   "client_credentials": self._client_credentials, JWT_GRANT: self._jwt}.get(grant)
        if handler is None:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        session = handler(form, request)
        self.logins[grant] += 1
        return Response.json(self._token_body(session, base_url))

    def _token_body(self, session: Session, base_url: str) -> dict[str, Any]:
        issued = str(int(self.sessions.clock() * 1000))
        identity = f"{base_url}/id/{self.sessions.org_id}/{session.user_id}"
        secret = session.token.encode()
        signature = base64.b64encode(hmac.new(secret, (identity + issued).encode(), hashlib.sha256).digest())
        return {"access_token": session.token, "instance_url": base_url, "id": identity, "token_type": "Bearer",
                "issued_at": issued, "signature": signature.decode(), "scope": "api refresh_token"}

    def _password(self, form: dict[str, str], request: Request) -> Session:
        app = self._app(form.get("client_id"))
        self._check_secret(app, form.get("client_secret"))
        username = form.get("username", "")
        if not self.password_ok(self._user(username), form.get("password", "")):
            raise OAuthError("invalid_grant", "authentication failure")
        return self._session_for(username, app.client_id)

    def _refresh(self, form: dict[str, str], request: Request) -> Session:
        app = self._app(form.get("client_id"))
        if form.get("client_secret") is not None:
            self._check_secret(app, form.get("client_secret"))
        given = form.get("refresh_token", "")
        grant = next((r for r in self.config.refresh_tokens
                      if hmac.compare_digest(r.token.get_secret_value(), given) and r.client_id == app.client_id), None)
        if grant is None:
            raise OAuthError("invalid_grant", "expired access/refresh token")
        return self._session_for(grant.username, app.client_id)

    def _client_credentials(self, form: dict[str, str], request: Request) -> Session:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.header("Authorization") or ""
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "invalid client credentials") from None
        app = self._app(client_id)
        self._check_secret(app, secret)
        if not app.run_as:
            raise OAuthError("invalid_grant", "no client credentials user enabled")
        return self._session_for(app.run_as, app.client_id)

    def _jwt(self, form: dict[str, str], request: Request) -> Session:
        assertion = form.get("assertion", "")
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        app = self._app(str(claims.get("iss", "")))
        try:
            if app.jwt_public_key:
                claims = jwt.decode(assertion, _verification_key(app.jwt_public_key), algorithms=["RS256"],
                                    audience=list(JWT_AUDIENCES), issuer=app.client_id,
                                    options={"require": ["exp", "sub", "aud", "iss"]})
            elif float(claims.get("exp", 0)) < self.sessions.clock():
                raise OAuthError("invalid_grant", "expired authorization code")
        except jwt.ExpiredSignatureError:
            raise OAuthError("invalid_grant", "expired authorization code") from None
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        username = str(claims.get("sub", ""))
        if self._user(username) is None:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return self._session_for(username, app.client_id)

    # ----------------------------------------------------------------------------- SOAP
    def soap_login(self, request: Request, base_url: str, version: str) -> Response:
        username, password = _soap_credentials(request.body)
        user = self._user(username)
        if not self.password_ok(user, password):
            raise SoapFault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
        session = self.sessions.issue(self.user_ids[username.lower()], username)
        self.logins["soap"] += 1
        return Response(200, _soap_body(session, base_url, version, self.sessions),
                        content_type="text/xml; charset=utf-8")


def _verification_key(pem: str) -> Any:
    """A public key from a PEM certificate or a PEM public key."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = pem.encode()
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return load_pem_public_key(data)


def _soap_credentials(body: bytes) -> tuple[str, str]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise SoapFault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.") from None
    found: dict[str, str] = {}
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if local in ("username", "password") and local not in found:
            found[local] = el.text or ""
    return found.get("username", ""), found.get("password", "")


def _soap_body(session: Session, base_url: str, version: str, sessions: SessionStore) -> bytes:
    org = sessions.org_id
    user = session.user_id
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{base_url}/services/Soap/m/{version}/{org}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
        f"<serverUrl>{base_url}/services/Soap/u/{version}/{org}</serverUrl>"
        f"<sessionId>{session.token}</sessionId><userId>{user}</userId>"
        f"<userInfo><organizationId>{org}</organizationId><userId>{user}</userId>"
        f"<userName>{_xml_escape(session.username)}</userName><sessionSecondsValid>"
        f"{int(session.expires_at - sessions.clock())}</sessionSecondsValid></userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    ).encode()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
