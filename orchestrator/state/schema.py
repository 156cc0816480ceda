"""The tables of the state store, in their current shape (the latest migration).

JSON is stored as text: the same on SQLite and PostgreSQL, and searchable with LIKE for erasure
requests. Timestamps are stored as UTC and always returned timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the database keeps (SQLite keeps naive strings)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


schema_version = sa.Table(
    "crmsync_schema", metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    _ts("applied_at"),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("sync", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
    _ts("started_at"),
    _ts("finished_at", nullable=True),
    sa.Index("ix_runs_sync_started", "sync", "started_at"),
    sa.Index("ix_runs_started", "started_at"),
)

run_streams = sa.Table(
    "run_streams", metadata,
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("stream", sa.String(200), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    _ts("started_at"),
    _ts("updated_at"),
)

checkpoints = sa.Table(
    "checkpoints", metadata,
    sa.Column("sync", sa.String(200), primary_key=True),
    sa.Column("stream", sa.String(200), primary_key=True),
    sa.Column("partition", sa.String(200), primary_key=True),
    sa.Column("cursor", sa.Text),
    sa.Column("epoch", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.String(40)),
    _ts("updated_at"),
)

# One row per (sync, stream, partition): the lease and the partition's planning status together, so
# a fenced write can check and renew the lease and the planner's status with one row lock.
leases = sa.Table(
    "leases", metadata,
    sa.Column("sync", sa.String(200), primary_key=True),
    sa.Column("stream", sa.String(200), primary_key=True),
    sa.Column("partition", sa.String(200), primary_key=True),
    sa.Column("owner", sa.String(300)),
    sa.Column("epoch", sa.BigInteger, nullable=False, default=0),
    _ts("expires_at", nullable=True),
    sa.Column("status", sa.String(20), nullable=False, default="pending"),
    sa.Column("run_id", sa.String(40)),
    sa.Column("bounds", sa.Text),
    _ts("updated_at"),
    sa.Index("ix_leases_status", "status", "expires_at"),
)

xref = sa.Table(
    "xref", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("system", sa.String(200), nullable=False),
    sa.Column("object", sa.String(200), nullable=False),
    sa.Column("native_id", sa.String(300), nullable=False),
    sa.Column("canonical_id", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(100), nullable=False),
    _ts("created_at"),
    sa.UniqueConstraint("system", "object", "native_id", name="uq_xref_native"),
    sa.Index("ix_xref_entity_canonical", "entity", "canonical_id"),
    sa.Index("ix_xref_canonical", "canonical_id"),
    sa.Index("ix_xref_native_id", "native_id"),
)

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(40)),
    sa.Column("sync", sa.String(200), nullable=False),
    sa.Column("stream", sa.String(200), nullable=False),
    sa.Column("system", sa.String(200), nullable=False),
    sa.Column("object", sa.String(200), nullable=False),
    sa.Column("native_key", sa.String(300), nullable=False),
    sa.Column("stage", sa.String(10), nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("payload", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("status", sa.String(12), nullable=False, default="open"),
    _ts("created_at"),
    _ts("updated_at"),
    sa.Index("ix_quarantine_lookup", "sync", "stream", "native_key", "status"),
    sa.Index("ix_quarantine_status", "status", "updated_at"),
    sa.Index("ix_quarantine_native_key", "native_key"),
)

# The reasons again, one row each, so "group by reason code and field" is an indexed GROUP BY.
quarantine_reasons = sa.Table(
    "quarantine_reasons", metadata,
    sa.Column("quarantine_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              sa.ForeignKey("quarantine.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("field", sa.String(300), nullable=False),
    sa.Index("ix_quarantine_reasons_code", "code", "field"),
)

findings = sa.Table(
    "findings", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(200), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("code", sa.String(60), nullable=False),
    sa.Column("entity", sa.String(100), nullable=False),
    sa.Column("match_keys", sa.Text, nullable=False),
    sa.Column("field_names", sa.Text, nullable=False),
    sa.Column("field_values", sa.Text),
    sa.Column("severity", sa.String(20), nullable=False),
    _ts("first_seen"),
    _ts("last_seen"),
    _ts("resolved_at", nullable=True),
    sa.Column("first_run_id", sa.String(40)),
    sa.Column("run_id", sa.String(40)),
    sa.UniqueConstraint("job", "fingerprint", name="uq_findings_fingerprint"),
    sa.Index("ix_findings_open", "job", "resolved_at", "run_id"),
)

findings_runs = sa.Table(
    "findings_runs", metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),  # run order within the job, whatever the clocks say
    _ts("at"),
    sa.Column("new", sa.Integer, nullable=False),
    sa.Column("persisting", sa.Integer, nullable=False),
    sa.Column("resolved", sa.Integer, nullable=False),
    sa.Column("open", sa.Integer, nullable=False),
    sa.Column("by_code", sa.Text, nullable=False),
)

sync_state = sa.Table(
    "sync_state", metadata,
    sa.Column("sync", sa.String(200), primary_key=True),
    sa.Column("entity", sa.String(100), primary_key=True),
    sa.Column("canonical_id", sa.String(64), primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("snapshot", sa.Text),
    _ts("updated_at"),
    sa.Index("ix_sync_state_canonical", "canonical_id"),
)
