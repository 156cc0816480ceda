"""The state-store tables reconciliation and healing add, in their own migration (version 2).

- ``reconcile_schema_snapshots``: each run's discovered schema per system, diffed for schema_drift;
- ``reconcile_key_ranges``: learned key-range boundaries per mirror stream, for range checksums;
- ``heal_plans``: plans shown to a person and what became of them;
- ``heal_journal``: every change healing made, with the values before and after, for ``--undo``.
Values in plans and the journal are personal data: purged with the store's retention.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orchestrator.state.schema import UTCDateTime

metadata = sa.MetaData()

schema_snapshots = sa.Table(
    "reconcile_schema_snapshots", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(100), nullable=False),
    sa.Column("system", sa.String(100), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("taken_at", UTCDateTime(), nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Index("ix_reconcile_snapshots_job", "job", "system", "id"),
)

key_ranges = sa.Table(
    "reconcile_key_ranges", metadata,
    sa.Column("job", sa.String(100), primary_key=True),
    sa.Column("entity", sa.String(100), primary_key=True),
    sa.Column("boundaries", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

heal_plans = sa.Table(
    "heal_plans", metadata,
    sa.Column("plan_id", sa.String(64), primary_key=True),
    sa.Column("job", sa.String(100), nullable=False),
    sa.Column("reconcile_run_id", sa.String(64)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # planned, applied, partial, undone
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("plan", sa.Text, nullable=False),
    sa.Column("applied_run_id", sa.String(64)),
    sa.Index("ix_heal_plans_job", "job", "created_at"),
)

heal_journal = sa.Table(
    "heal_journal", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("plan_id", sa.String(64), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # update, create, delete, restore, relink, merge
    sa.Column("system", sa.String(100), nullable=False),
    sa.Column("object", sa.String(100), nullable=False),
    sa.Column("entity", sa.String(100), nullable=False),
    sa.Column("native_key", sa.String(255)),
    sa.Column("canonical_id", sa.String(64)),
    sa.Column("before", sa.Text),  # native values before (JSON); None for a create
    sa.Column("after", sa.Text),  # native values written (JSON); None for a delete
    sa.Column("status", sa.String(16), nullable=False),  # applied, failed, undone
    sa.Column("error", sa.Text),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_heal_journal_run", "run_id", "seq"),
)


def create(conn: Connection) -> None:
    """Migration 2 (and the baseline of a new store): create these tables if missing."""
    metadata.create_all(conn, checkfirst=True)


def database(store: Any) -> Any:
    """The store's ``Database`` (engine and clock); the state store keeps it private, we share its connection."""
    return store._db
