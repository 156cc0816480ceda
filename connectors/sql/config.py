"""Validated settings of the SQL connector (what crmsync.yaml exposes under a ``sql`` system)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class SqlStreamConfig(BaseModel):
    """One table offered as a stream; every column name is quoted by SQLAlchemy, never spliced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str | None = None
    """Table name; defaults to the stream's name."""
    primary_key: tuple[str, ...] | None = None
    """Override for tables whose primary key is not declared (views, legacy tables)."""
    updated_at: str | None = None
    """Column that grows on every change (timestamp or version number): the incremental cursor."""
    soft_delete_column: str | None = None
    deleted_value: str | int | bool = True
    """Rows whose soft-delete column equals this are read as tombstones and written by deletes."""
    key_sweep: bool = False
    """Find hard deletes by comparing keys the caller knows against the table (``sweep_deletes``)."""


class SqlConfig(BaseModel):
    """Connection, schema and streams of one SQL database (PostgreSQL, MySQL/MariaDB, SQLite)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    url: SecretStr
    """SQLAlchemy URL, e.g. ``postgresql+psycopg://crm@db/erp``; may carry the password itself."""
    password: SecretStr | None = None
    """Password resolved by the orchestrator (from the environment); overrides the URL's."""
    db_schema: str | None = Field(default=None, alias="schema")
    streams: dict[str, SqlStreamConfig] = {}
    """Streams by name; empty means every table with a primary key in the schema."""
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    """Rows per read batch and per write transaction."""
    rows_per_query: int = Field(default=100_000, ge=1)
    """Rows one server-side cursor streams before the next keyset query (bounds transaction length)."""
    copy_threshold: int = Field(default=5000, ge=0)
    """PostgreSQL: write batches at least this large go through COPY into a staging table (0: never)."""
    connect_timeout: int = Field(default=10, ge=1)

    @field_validator("url")
    @classmethod
    def _parses(cls, value: SecretStr) -> SecretStr:
        try:
            make_url(value.get_secret_value())
        except ArgumentError as exc:
            raise ValueError("not a SQLAlchemy database URL") from exc
        return value

    def sqlalchemy_url(self) -> URL:
        """The URL to connect with, the separate password (if any) filled in."""
        url = make_url(self.url.get_secret_value())
        return url.set(password=self.password.get_secret_value()) if self.password else url

    def stream(self, name: str) -> SqlStreamConfig:
        return self.streams.get(name) or SqlStreamConfig()
