"""The sandbox's configuration: listeners, storage, credentials, limits, custom metadata, seed data, faults.

Validated once (pydantic) and passed to :class:`~.server.Sandbox`. The defaults make a working org:
one integration user, one connected app and one refresh token whose values are the DEFAULT_* constants
below, so tests and the demo can log in without writing any config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

DEFAULT_USERNAME = "integration@crmsync.sandbox"
DEFAULT_PASSWORD = "sandbox-password"
DEFAULT_SECURITY_TOKEN = "SANDBOXTOKEN"
DEFAULT_CLIENT_ID = "crmsync-sandbox-client"
DEFAULT_CLIENT_SECRET = "crmsync-sandbox-secret"
DEFAULT_REFRESH_TOKEN = "crmsync-sandbox-refresh-token"

FaultKind = Literal["server_unavailable", "concurrent_limit", "invalid_session", "query_timeout", "slow", "drop"]
FAULT_KINDS: tuple[str, ...] = ("server_unavailable", "concurrent_limit", "invalid_session", "query_timeout",
                                "slow", "drop")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCredential(_Model):
    """A user who can log in (SOAP, password grant) and own records; created in the User table if missing."""

    username: str
    password: SecretStr
    security_token: SecretStr = SecretStr("")
    last_name: str = "Integration"
    email: str | None = None


class ConnectedApp(_Model):
    """An OAuth client. ``jwt_public_key`` (PEM certificate or public key) makes JWT bearer assertions
    verified with RS256; ``run_as`` is the user of the client-credentials flow."""

    client_id: str
    client_secret: SecretStr
    jwt_public_key: str | None = None
    run_as: str | None = DEFAULT_USERNAME


class RefreshTokenGrant(_Model):
    token: SecretStr
    client_id: str = DEFAULT_CLIENT_ID
    username: str = DEFAULT_USERNAME


class FaultConfig(_Model):
    """Injected faults on data calls (/services/data, /services/async), deterministic for a given seed.

    Rates are probabilities per call; ``invalid_session_every`` expires the caller's session on every
    Nth call; ``script`` lists faults for the next calls, in order, before any rate applies.
    ``path_pattern`` (a regular expression on the path) limits faults to matching calls.
    """

    seed: int = 0
    server_unavailable_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    concurrent_limit_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    query_timeout_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    drop_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    slow_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    slow_seconds: Annotated[float, Field(ge=0)] = 2.0
    invalid_session_every: Annotated[int, Field(ge=0)] = 0
    script: list[FaultKind] = Field(default_factory=list)
    path_pattern: str | None = None


class SeedConfig(_Model):
    """Seed data from the project's generator: ``options`` are GeneratorConfig fields (counts and so on)."""

    seed: int = 42
    defects: bool = False
    options: dict[str, Any] = Field(default_factory=dict)


class SandboxConfig(_Model):
    host: str = "127.0.0.1"
    http_port: int | None = 0  # 0 = any free port; None = no listener
    https_port: int | None = 0
    proxy_port: int | None = 0
    db: str = ":memory:"  # a file path, or :memory:
    work_dir: Path | None = None  # Bulk result files and the CA certificate; a temporary directory if unset
    ca_path: Path | None = None  # where the CA certificate is written (default work_dir/sandbox-ca.pem)
    advertised_url: str | None = None  # instance_url returned by logins (default: the listener the call came in on)
    api_version: str = "62.0"
    session_ttl: Annotated[float, Field(gt=0)] = 7200.0
    cursor_ttl: Annotated[float, Field(gt=0)] = 900.0
    api_budget: Annotated[int, Field(ge=0)] = 1_000_000  # DailyApiRequests Max
    page_size: Annotated[int, Field(ge=200, le=2000)] = 2000
    bulk_page_size: Annotated[int, Field(ge=1)] = 100_000  # Bulk 2.0 results page when maxRecords is absent
    users: list[UserCredential] = Field(default_factory=lambda: [UserCredential(
        username=DEFAULT_USERNAME, password=SecretStr(DEFAULT_PASSWORD),
        security_token=SecretStr(DEFAULT_SECURITY_TOKEN))])
    connected_apps: list[ConnectedApp] = Field(default_factory=lambda: [ConnectedApp(
        client_id=DEFAULT_CLIENT_ID, client_secret=SecretStr(DEFAULT_CLIENT_SECRET))])
    refresh_tokens: list[RefreshTokenGrant] = Field(default_factory=lambda: [RefreshTokenGrant(
        token=SecretStr(DEFAULT_REFRESH_TOKEN))])
    static_sessions: list[str] = Field(default_factory=list)  # tokens always valid for the first user
    custom: dict[str, Any] = Field(default_factory=dict)  # objects.extend_objects spec (custom objects/fields)
    seed: SeedConfig | None = None  # None: start empty
    faults: FaultConfig = Field(default_factory=lambda: FaultConfig())

    @field_validator("users")
    @classmethod
    def _one_user(cls, users: list[UserCredential]) -> list[UserCredential]:
        if not users:
            raise ValueError("at least one user is needed (it owns the records the API creates)")
        return users
