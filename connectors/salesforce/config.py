"""The Salesforce connector's settings: one pydantic model per OAuth flow, joined in a union.

Credentials are ``SecretStr`` and are only ever revealed to build the token request. The login URL
is a setting because the token request is made by the connector itself (not by simple-salesforce):
that is how My Domain, sandbox orgs and the local sandbox server are all reached the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

PRODUCTION_LOGIN = "https://login.salesforce.com"
SANDBOX_LOGIN = "https://test.salesforce.com"


class _Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(description="Consumer key of the connected app (or external client app).")


class JwtBearerAuth(_Flow):
    """OAuth 2.0 JWT bearer flow: a server-to-server login signed with the app's private key (default)."""

    flow: Literal["jwt_bearer"] = "jwt_bearer"
    username: str
    private_key: SecretStr | None = Field(None, description="PEM text of the RSA private key.")
    private_key_file: Path | None = Field(None, description="Path of the PEM file, if the key is not inline.")
    audience: str | None = Field(None, description="JWT aud; default follows the login URL (login or test).")

    @model_validator(mode="after")
    def _one_key(self) -> JwtBearerAuth:
        if (self.private_key is None) == (self.private_key_file is None):
            raise ValueError("give exactly one of private_key or private_key_file")
        return self

    def pem(self) -> bytes:
        """The private key's PEM bytes (read from the file when given as a path)."""
        if self.private_key is not None:
            return self.private_key.get_secret_value().encode()
        assert self.private_key_file is not None
        return self.private_key_file.read_bytes()


class ClientCredentialsAuth(_Flow):
    """OAuth 2.0 client credentials: the app runs as its configured integration user (My Domain URL only)."""

    flow: Literal["client_credentials"] = "client_credentials"
    client_secret: SecretStr


class RefreshTokenAuth(_Flow):
    """OAuth 2.0 refresh token obtained once through a web-server flow."""

    flow: Literal["refresh_token"] = "refresh_token"
    client_secret: SecretStr | None = None
    refresh_token: SecretStr


class PasswordAuth(_Flow):
    """OAuth 2.0 username-password flow. Salesforce retires it in 2027; kept for older orgs only."""

    flow: Literal["password"] = "password"
    client_secret: SecretStr
    username: str
    password: SecretStr
    security_token: SecretStr | None = Field(None, description="Appended to the password when the org asks for it.")


AuthConfig = Annotated[
    JwtBearerAuth | ClientCredentialsAuth | RefreshTokenAuth | PasswordAuth, Field(discriminator="flow")
]


class SalesforceConfig(BaseModel):
    """Settings of one Salesforce org, validated once at the edge and passed to the connector."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth: AuthConfig
    login_url: str = Field(PRODUCTION_LOGIN, description="Token endpoint base: login/test.salesforce.com, "
                           "a My Domain URL (https://acme.my.salesforce.com) or a local sandbox.")
    is_sandbox: bool = Field(False, description="A sandbox org: log in at test.salesforce.com "
                             "unless login_url is set.")
    api_version: str = Field("62.0", pattern=r"^\d{2,3}\.0$")
    ca_bundle: Path | None = Field(None, description="CA bundle (PEM) to verify TLS, e.g. a local sandbox's CA.")
    timeout: float = Field(120.0, gt=0, description="Seconds to wait for a response.")

    objects: tuple[str, ...] | None = Field(None, description="Objects to offer as streams; default all queryable.")
    fields: dict[str, tuple[str, ...]] = Field(default_factory=dict, description="Object -> the fields to read "
                                               "(Id, the cursor field and IsDeleted are always added); default all.")
    start_date: datetime | None = Field(None, description="Earliest cursor value read when there is no cursor yet.")
    lookback: timedelta = Field(timedelta(0), description="Re-read this far behind the cursor (late commits).")
    window: timedelta | None = Field(None, description="Read in windows of this size (resumable pieces).")
    min_window: timedelta = Field(timedelta(seconds=1), description="QUERY_TIMEOUT splits windows down to this.")
    include_deleted: bool = Field(True, description="Read deleted records through queryAll as tombstones.")

    page_size: int = Field(2000, ge=200, le=2000, description="REST batchSize (Sforce-Query-Options).")
    batch_size: int = Field(2000, ge=1, le=50_000, description="Records per yielded batch.")
    bulk_read_threshold: int | None = Field(50_000, ge=0, description="Use Bulk API 2.0 when a window holds this "
                                            "many records (SELECT COUNT()); 0: always, None: never.")
    bulk_max_records: int = Field(50_000, ge=1, description="maxRecords per Bulk 2.0 results page.")
    bulk_poll_interval: float = Field(2.0, ge=0, description="Seconds between Bulk 2.0 job status polls.")
    bulk_poll_timeout: float = Field(3600.0, gt=0, description="Give up on a Bulk job after this many seconds.")

    prefetch: bool = Field(True, description="Fetch the next page while the current one is handed on.")

    bulk_write_threshold: int = Field(5000, ge=1, description="Write through Bulk 2.0 ingest from this many records.")
    upsert_keys: dict[str, str] = Field(default_factory=dict, description="Object -> external id field for upserts.")

    budget_share: float = Field(0.9, gt=0, le=1, description="Stop once daily API usage passes this share.")

    @field_validator("login_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("login_url must start with https://")
        return value.rstrip("/")

    @property
    def token_url(self) -> str:
        base = SANDBOX_LOGIN if self.is_sandbox and self.login_url == PRODUCTION_LOGIN else self.login_url
        return f"{base}/services/oauth2/token"

    @property
    def jwt_audience(self) -> str:
        """Salesforce wants login or test.salesforce.com as aud, even when the token URL is a My Domain."""
        if isinstance(self.auth, JwtBearerAuth) and self.auth.audience:
            return self.auth.audience
        return SANDBOX_LOGIN if self.is_sandbox or "test.salesforce.com" in self.login_url else PRODUCTION_LOGIN
