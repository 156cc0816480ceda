"""Validated settings of the REST connector (entry point ``rest``): JSON over HTTP for in-house APIs.

Auth flows and pagination strategies are each one model per kind, joined in a union keyed on
``type``, so crmsync.yaml says ``auth: {type: bearer, token: ...}`` and gets exactly that flow's
fields. Secrets are SecretStr; the orchestrator resolves them from the environment before this.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoAuth(_Model):
    type: Literal["none"] = "none"


class BearerAuth(_Model):
    type: Literal["bearer"] = "bearer"
    token: SecretStr


class BasicAuth(_Model):
    type: Literal["basic"] = "basic"
    username: str
    password: SecretStr


class ApiKeyAuth(_Model):
    type: Literal["api_key"] = "api_key"
    key: SecretStr
    header: str = "X-API-Key"
    prefix: str = ""
    """Put before the key in the header value, e.g. ``"Token "``."""


class OAuth2ClientCredentials(_Model):
    """OAuth 2.0 client credentials (RFC 6749 4.4); the token is cached until shortly before it expires."""

    type: Literal["oauth2_client_credentials"] = "oauth2_client_credentials"
    token_url: str
    client_id: str
    client_secret: SecretStr
    scope: str | None = None
    audience: str | None = None
    client_auth: Literal["basic", "body"] = "basic"
    """How the client authenticates to the token endpoint: HTTP Basic (RFC default) or form fields."""
    expiry_margin: float = Field(default=60.0, ge=0)
    """Seconds before ``expires_in`` runs out at which a new token is fetched."""


AuthConfig = Annotated[NoAuth | BearerAuth | BasicAuth | ApiKeyAuth | OAuth2ClientCredentials,
                       Field(discriminator="type")]


class NoPagination(_Model):
    type: Literal["none"] = "none"


class PageNumberPagination(_Model):
    """``?page=N&per_page=S``; the last page is the first with fewer than ``page_size`` records."""

    type: Literal["page_number"] = "page_number"
    page_param: str = "page"
    size_param: str | None = "per_page"
    page_size: int = Field(default=100, ge=1)
    first_page: int = 1


class OffsetPagination(_Model):
    """``?offset=N&limit=S``; stops at the first short page."""

    type: Literal["offset"] = "offset"
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_size: int = Field(default=100, ge=1)


class CursorPagination(_Model):
    """An opaque next-page token from the body (``next_path``), sent back as ``cursor_param``."""

    type: Literal["cursor"] = "cursor"
    cursor_param: str = "cursor"
    next_path: str = "next_cursor"
    size_param: str | None = "limit"
    page_size: int = Field(default=100, ge=1)


class LinkHeaderPagination(_Model):
    """RFC 8288 ``Link: <url>; rel="next"`` (GitHub style); the next URL carries every parameter."""

    type: Literal["link"] = "link"
    size_param: str | None = "per_page"
    page_size: int = Field(default=100, ge=1)
    rel: str = "next"


PaginationConfig = Annotated[
    NoPagination | PageNumberPagination | OffsetPagination | CursorPagination | LinkHeaderPagination,
    Field(discriminator="type")]


class RestWrite(_Model):
    """How records are written: one request per record (path template) or per batch (with results)."""

    mode: Literal["record", "batch"] = "record"
    method: Literal["POST", "PUT", "PATCH"] = "PUT"
    path: str
    """Record mode: a template naming record fields, ``/contacts/{id}``; batch mode: the batch endpoint."""
    batch_size: int = Field(default=100, ge=1)
    body_path: str | None = "records"
    """Batch mode: the records go under this key (dotted); None sends the bare list."""
    results_path: str | None = "results"
    """Batch mode: where the per-record results are, one per record in order (None: the body is the list)."""
    result_error_path: str = "error"
    """In a result: a present, truthy value means that record failed; its ``code`` names why."""
    result_id_path: str | None = "id"
    result_created_path: str | None = "created"
    delete_path: str | None = None
    """Template for DELETE, ``/contacts/{id}`` (the placeholder is filled with the key)."""


class RestStream(_Model):
    path: str
    """Relative to base_url, e.g. ``/v1/contacts``."""
    records_path: str | None = "data"
    """Dotted path to the list of records in the body; None or '' when the body is the list."""
    primary_key: tuple[str, ...] = ("id",)
    cursor_field: str | None = None
    """Field that grows on every change (ISO timestamp or number): the incremental cursor."""
    incremental_param: str | None = None
    """Query parameter that asks for records with cursor_field >= value, e.g. ``updated_since``."""
    cursor_sorted: bool = True
    """Whether the API returns records in ascending cursor_field order (then every batch can checkpoint)."""
    params: dict[str, str] = {}
    pagination: PaginationConfig = NoPagination()
    deleted_field: str | None = None
    deleted_value: Any = True
    """Records whose deleted_field equals this come back as tombstones."""
    write: RestWrite | None = None


class RateLimit(_Model):
    requests_per_second: float = Field(gt=0)
    burst: int = Field(default=1, ge=1)


class RestConfig(_Model):
    base_url: str
    auth: AuthConfig = NoAuth()
    streams: dict[str, RestStream]
    headers: dict[str, str] = {}
    timeout: float = Field(default=30.0, gt=0)
    rate_limit: RateLimit | None = None
    verify_tls: bool | str = True
    """False, or a CA bundle path for an in-house CA."""
    batch_size: int = Field(default=1000, ge=1)
    """Records per Batch handed to the orchestrator (a page is split when larger)."""

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")
