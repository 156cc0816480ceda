"""Findings over time: each reconciliation run's findings, matched to earlier runs by fingerprint.

A fingerprint hashes what identifies a finding (job-independent: code, entity, keys, fields),
never the values, so a finding whose values change is still the same finding. A finding seen again
after it was resolved is reopened and counts as new. Per run, a ``findings_runs`` row keeps the
counts, so the trend needs no history table of every finding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orchestrator.state import schema as t
from orchestrator.state.db import Database, chunks, dumps, loads
from orchestrator.state.types import Finding, FindingsDelta, StoredFinding, TrendPoint

F = t.findings
FR = t.findings_runs


def fingerprint(finding: Finding) -> str:
    """Stable identity of a finding across runs: sha256 of code, entity, keys and sorted fields."""
    if finding.fingerprint:
        return finding.fingerprint
    ident = dumps({"code": finding.code, "entity": finding.entity, "keys": dict(finding.keys),
                   "fields": sorted(finding.fields)})
    return hashlib.sha256(ident.encode()).hexdigest()


def _stored(row: Any) -> StoredFinding:
    return StoredFinding(int(row.id), row.job, row.fingerprint, row.code, row.entity, loads(row.match_keys) or {},
                         tuple(loads(row.field_names) or ()), loads(row.field_values), row.severity, row.first_seen,
                         row.last_seen, row.resolved_at, row.first_run_id, row.run_id)


def _upsert_chunk(conn: Connection, db: Database, job: str, run_id: str, batch: dict[str, Finding],
                  delta: FindingsDelta) -> None:
    now = db.now()
    where = (F.c.job == job) & F.c.fingerprint.in_(list(batch))
    before = {r.fingerprint: r for r in conn.execute(sa.select(F.c.fingerprint, F.c.resolved_at, F.c.run_id)
                                                     .where(where))}
    db.insert_ignore(conn, F, [{
        "job": job, "fingerprint": fp, "code": f.code, "entity": f.entity, "match_keys": dumps(dict(f.keys)),
        "field_names": dumps(list(f.fields)), "field_values": None if f.values is None else dumps(dict(f.values)),
        "severity": f.severity, "first_seen": now, "last_seen": now, "resolved_at": None,
        "first_run_id": run_id, "run_id": run_id} for fp, f in batch.items() if fp not in before],
        ["job", "fingerprint"])
    for fp, f in batch.items():
        if fp in before:
            conn.execute(F.update().where((F.c.job == job) & (F.c.fingerprint == fp)).values(
                last_seen=now, resolved_at=None, run_id=run_id, severity=f.severity,
                field_values=None if f.values is None else dumps(dict(f.values))))
    for row in conn.execute(sa.select(F).where(where).order_by(F.c.id)):
        old = before.get(row.fingerprint)
        if old is None or old.resolved_at is not None:
            delta.new.append(_stored(row))
        elif old.run_id != run_id:
            delta.persisting.append(_stored(row))
        # else: reported twice in the same run (several partitions); counted the first time


def upsert(db: Database, job: str, run_id: str, findings: Iterable[Finding], *,
           resolve_unseen: bool) -> FindingsDelta:
    delta = FindingsDelta()
    for part in chunks(findings):
        by_fp = {fingerprint(f): f for f in part}
        batch = {fp: by_fp[fp] for fp in sorted(by_fp)}  # one lock order for concurrent partitions
        with db.begin() as conn:
            _upsert_chunk(conn, db, job, run_id, batch, delta)
    if resolve_unseen:
        delta.resolved.extend(resolve_unseen_findings(db, job, run_id, record=False))
    with db.begin() as conn:
        _record_run(conn, db, job, run_id, new=len(delta.new), persisting=len(delta.persisting),
                    resolved=len(delta.resolved))
    return delta


def resolve_unseen_findings(db: Database, job: str, run_id: str, *, record: bool = True) -> list[StoredFinding]:
    """Resolve the job's open findings that ``run_id`` did not report."""
    unseen = (F.c.job == job) & F.c.resolved_at.is_(None) & ((F.c.run_id != run_id) | F.c.run_id.is_(None))
    with db.begin() as conn:
        ids = list(conn.execute(sa.select(F.c.id).where(unseen)).scalars())
        resolved: list[StoredFinding] = []
        for part in chunks(ids):
            conn.execute(F.update().where(F.c.id.in_(part) & F.c.resolved_at.is_(None))
                         .values(resolved_at=db.now()))
            resolved.extend(_stored(r) for r in conn.execute(sa.select(F).where(F.c.id.in_(part)).order_by(F.c.id)))
        if record:
            _record_run(conn, db, job, run_id, new=0, persisting=0, resolved=len(resolved))
    return resolved


def resolve_unseen(db: Database, job: str, run_id: str) -> list[StoredFinding]:
    return resolve_unseen_findings(db, job, run_id, record=True)


def _record_run(conn: Connection, db: Database, job: str, run_id: str, *, new: int, persisting: int,
                resolved: int) -> None:
    """Add this call's counts to the run's trend row and refresh the open totals."""
    by_code = {r.code: int(r.n) for r in conn.execute(
        sa.select(F.c.code, sa.func.count().label("n")).where((F.c.job == job) & F.c.resolved_at.is_(None))
        .group_by(F.c.code))}
    key = (FR.c.job == job) & (FR.c.run_id == run_id)
    totals = {"open": sum(by_code.values()), "by_code": dumps(by_code)}
    if not conn.execute(FR.update().where(key).values(
            new=FR.c.new + new, persisting=FR.c.persisting + persisting, resolved=FR.c.resolved + resolved,
            **totals)).rowcount:
        seq = conn.execute(sa.select(sa.func.coalesce(sa.func.max(FR.c.seq), 0)).where(FR.c.job == job)).scalar()
        if not db.insert_ignore(conn, FR, [{"job": job, "run_id": run_id, "new": new, "persisting": persisting,
                                            "resolved": resolved, "seq": int(seq or 0) + 1, "at": db.now(),
                                            **totals}], ["job", "run_id"]):
            _record_run(conn, db, job, run_id, new=new, persisting=persisting, resolved=resolved)


def list_findings(db: Database, job: str, *, status: str, code: str | None, limit: int | None
                  ) -> list[StoredFinding]:
    query = sa.select(F).where(F.c.job == job).order_by(F.c.id)
    if status == "open":
        query = query.where(F.c.resolved_at.is_(None))
    elif status == "resolved":
        query = query.where(F.c.resolved_at.is_not(None))
    elif status != "all":
        raise ValueError(f"finding status must be open, resolved or all, not {status!r}")
    if code is not None:
        query = query.where(F.c.code == code)
    if limit is not None:
        query = query.limit(limit)
    with db.begin() as conn:
        return [_stored(r) for r in conn.execute(query)]


def trend(db: Database, job: str, *, limit: int) -> list[TrendPoint]:
    query = sa.select(FR).where(FR.c.job == job).order_by(FR.c.seq.desc()).limit(limit)
    with db.begin() as conn:
        rows = conn.execute(query).all()
    return [TrendPoint(r.run_id, r.at, int(r.new), int(r.persisting), int(r.resolved), int(r.open),
                       loads(r.by_code) or {}) for r in reversed(rows)]


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    return [fingerprint(f) for f in findings]
