"""Personal data: retention (purge) and erasure of one person's data (forget).

Quarantine payloads, finding values and two-way sync state hold customer data. ``purge`` removes
what is closed and older than the retention; ``forget`` erases one person wherever the store
holds them, found by canonical id, by any system's native id, or by an email address appearing
in payloads or finding values. Candidates are found with LIKE and confirmed on parsed JSON leaves,
so a substring of another person's value never matches.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from orchestrator.state import schema as t
from orchestrator.state.db import Database, chunks, dumps, loads
from orchestrator.state.types import ForgetResult

log = structlog.get_logger(__name__)
ERASED = "<erased>"


def purge(db: Database, older_than_days: int) -> dict[str, int]:
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    cutoff = db.now() - timedelta(days=older_than_days)
    Q, F = t.quarantine, t.findings
    with db.begin() as conn:
        closed = Q.c.status.in_(("resolved", "discarded")) & (Q.c.updated_at < cutoff)
        ids = list(conn.execute(sa.select(Q.c.id).where(closed)).scalars())
        for part in chunks(ids):  # reasons first: no reliance on ON DELETE CASCADE being enabled
            conn.execute(t.quarantine_reasons.delete().where(t.quarantine_reasons.c.quarantine_id.in_(part)))
            conn.execute(Q.delete().where(Q.c.id.in_(part)))
        findings = conn.execute(F.delete().where(F.c.resolved_at.is_not(None) & (F.c.resolved_at < cutoff))).rowcount
    counts = {"quarantine": len(ids), "findings": int(findings or 0)}
    log.info("state.purged", older_than_days=older_than_days, **counts)
    return counts


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield str(value)


def _matches(value: Any, needles: set[str], emails: set[str]) -> bool:
    return any(leaf in needles or leaf.casefold() in emails for leaf in _leaves(value))


def _like_any(column: Any, needles: set[str]) -> Any:
    return sa.or_(*(sa.func.lower(column).contains(n.lower(), autoescape=True) for n in sorted(needles)))


def _canonical_ids(conn: Connection, needles: set[str]) -> set[str]:
    X = t.xref
    found: set[str] = set()
    for part in chunks(sorted(needles)):
        found.update(conn.execute(sa.select(X.c.canonical_id).where(
            X.c.canonical_id.in_(part) | X.c.native_id.in_(part))).scalars())
    return found


def _from_email(conn: Connection, emails: set[str]) -> tuple[set[str], set[int]]:
    """Native keys and quarantine ids whose payload carries one of the emails."""
    Q = t.quarantine
    keys: set[str] = set()
    ids: set[int] = set()
    for row in conn.execute(sa.select(Q.c.id, Q.c.native_key, Q.c.payload).where(_like_any(Q.c.payload, emails))):
        if _matches(loads(row.payload), set(), emails):
            keys.add(row.native_key)
            ids.add(int(row.id))
    return keys, ids


def forget(db: Database, identifier: str) -> ForgetResult:
    identifier = identifier.strip()
    if not identifier:
        raise ValueError("forget needs an identifier: a canonical id, a native id or an email")
    emails = {identifier.casefold()} if "@" in identifier else set()
    X, Q = t.xref, t.quarantine
    with db.begin() as conn:
        email_keys, email_qids = _from_email(conn, emails) if emails else (set(), set())
        canonical = _canonical_ids(conn, {identifier} | email_keys)
        natives = {identifier} | email_keys
        for part in chunks(sorted(canonical)):
            natives.update(conn.execute(sa.select(X.c.native_id).where(X.c.canonical_id.in_(part))).scalars())
        needles = natives | canonical
        qids = set(email_qids)
        for part in chunks(sorted(natives)):
            qids.update(int(i) for i in conn.execute(sa.select(Q.c.id).where(Q.c.native_key.in_(part))).scalars())
        quarantine = _delete_quarantine(conn, qids)
        findings = _erase_findings(conn, needles, emails)
        sync_state = xref = 0
        for part in chunks(sorted(canonical)):
            sync_state += conn.execute(t.sync_state.delete().where(t.sync_state.c.canonical_id.in_(part))).rowcount
            xref += conn.execute(X.delete().where(X.c.canonical_id.in_(part))).rowcount
    result = ForgetResult(tuple(sorted(canonical)), xref=xref, quarantine=quarantine, findings=findings,
                          sync_state=sync_state)
    log.info("state.forgotten", **result.as_dict())  # counts only: never the identifier
    return result


def _delete_quarantine(conn: Connection, ids: set[int]) -> int:
    deleted = 0
    for part in chunks(sorted(ids)):
        conn.execute(t.quarantine_reasons.delete().where(t.quarantine_reasons.c.quarantine_id.in_(part)))
        deleted += conn.execute(t.quarantine.delete().where(t.quarantine.c.id.in_(part))).rowcount or 0
    return deleted


def _erase_findings(conn: Connection, needles: set[str], emails: set[str]) -> int:
    """Drop the values of findings about the person and blank their identifiers in the keys."""
    F = t.findings
    erased = 0
    for part in chunks(sorted(needles | emails), 50):
        candidates = conn.execute(sa.select(F.c.id, F.c.match_keys, F.c.field_values).where(
            _like_any(F.c.match_keys, set(part)) | _like_any(F.c.field_values, set(part)))).all()
        for row in candidates:
            keys, values = loads(row.match_keys), loads(row.field_values)
            if not (_matches(keys, needles, emails) or _matches(values, needles, emails)):
                continue
            conn.execute(F.update().where(F.c.id == row.id).values(
                field_values=None, match_keys=dumps(_blank(keys, needles, emails))))
            erased += 1
    return erased


def _blank(value: Any, needles: set[str], emails: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _blank(v, needles, emails) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v, needles, emails) for v in value]
    if value is not None and (str(value) in needles or str(value).casefold() in emails):
        return ERASED
    return value
