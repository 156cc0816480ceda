"""Versioned schema: a version table and ordered migration functions.

Why not Alembic: the store has a dozen tables owned by one package, and Alembic would add a
script directory, an env.py and its own config to ship and locate at run time. What we need is
small: an empty database gets the current tables and is stamped with the latest version (the
"baseline", as ``alembic stamp head`` would do); an existing one runs, in order and in one
transaction each, every migration above its version. A PostgreSQL advisory lock makes workers that
start together migrate once; SQLite's BEGIN IMMEDIATE does the same on one machine.

Adding a migration: change schema.py to the new shape, then append ``Migration(n, name, fn)``
where ``fn`` alters an existing database from version n-1 to n (Core DDL or ``op``-style SQL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from orchestrator.state import partitions, schema
from orchestrator.state.db import Database, create_schema
from orchestrator.state.types import StateStoreError

log = structlog.get_logger(__name__)
_LOCK_KEY = 0x63726D73796E63  # "crmsync": the advisory lock serialising migrations on PostgreSQL


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _reconcile_tables(conn: Connection) -> None:
    from orchestrator.reconcile import tables  # imported here: reconcile's tables build on this package

    tables.create(conn)


def _partition_tables(conn: Connection) -> None:
    partitions.create(conn)


def _baseline(conn: Connection) -> None:
    schema.metadata.create_all(conn, checkfirst=True)
    _reconcile_tables(conn)  # migration 2's tables: a new store starts at the latest shape
    _partition_tables(conn)  # migration 3's


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "baseline: runs, checkpoints, leases, xref, quarantine, findings, sync_state", _baseline),
    Migration(2, "reconcile and heal: schema snapshots, key ranges, heal plans, heal journal "
                 "(orchestrator/reconcile/tables.py)", _reconcile_tables),
    Migration(3, "partitions of distributed runs (orchestrator/state/partitions.py)", _partition_tables),
)


def current_version(conn: Connection) -> int:
    """The version stamped in the database; 0 when it has no crmsync tables yet."""
    if not sa.inspect(conn).has_table(schema.schema_version.name):
        return 0
    value = conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar()
    return int(value or 0)


def migrate(db: Database, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database to the latest version; idempotent and safe when workers start together."""
    latest = migrations[-1].version if migrations else 0
    with db.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            if db.schema:
                create_schema(conn, db.schema)
        version = current_version(conn)
        if version > latest:
            raise StateStoreError(f"state store schema is at version {version}, newer than this crmsync "
                                  f"understands ({latest}); upgrade crmsync")
        if version == 0:
            schema.schema_version.create(conn, checkfirst=True)
            _baseline(conn)
            _stamp(conn, db, migrations[-1] if migrations else None)
            log.info("state.migrated", from_version=0, to_version=latest, baseline=True)
            return latest
        for step in migrations:
            if step.version > version:
                step.apply(conn)
                _stamp(conn, db, step)
                log.info("state.migrated", from_version=version, to_version=step.version, migration=step.name)
    return latest


def _stamp(conn: Connection, db: Database, step: Migration | None) -> None:
    if step is not None:
        conn.execute(schema.schema_version.insert().values(version=step.version, name=step.name,
                                                           applied_at=db.now()))
