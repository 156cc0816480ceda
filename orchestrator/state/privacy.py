"""Personal data: retention (purge) and erasure of one person's data (forget).

Quarantine payloads, finding values and two-way sync state hold customer data. ``purge`` removes
what is closed and older than the retention; ``forget`` erases one person wherever the store
holds them, found by canonical id, by any system's native id, or by an email address appearing
in payloads or finding values. Candidates are found with LIKE and confirmed on parsed JSON leaves,
so a substring of another person's value never matches.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Set as AbstractSet
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


Record = tuple[str, str, str]  # (system, object, native id)


def _xref_rows(conn: Connection, *, native_ids: AbstractSet[str] = frozenset(),
               canonical_ids: AbstractSet[str] = frozenset()
               ) -> list[tuple[str, str, str, str]]:
    """(system, object, native_id, canonical_id) rows matching any of the ids."""
    X = t.xref
    rows: list[tuple[str, str, str, str]] = []
    for column, ids in ((X.c.native_id, native_ids), (X.c.canonical_id, canonical_ids)):
        for part in chunks(sorted(ids)):
            rows += [(r.system, r.object, r.native_id, r.canonical_id) for r in conn.execute(
                sa.select(X.c.system, X.c.object, X.c.native_id, X.c.canonical_id).where(column.in_(part)))]
    return rows


def _from_email(conn: Connection, emails: set[str]) -> tuple[set[Record], set[int]]:
    """Records and quarantine ids whose payload carries one of the emails."""
    Q = t.quarantine
    records: set[Record] = set()
    ids: set[int] = set()
    query = sa.select(Q.c.id, Q.c.system, Q.c.object, Q.c.native_key, Q.c.payload).where(_like_any(Q.c.payload, emails))
    for row in conn.execute(query):
        if _matches(loads(row.payload), set(), emails):
            records.add((row.system, row.object, row.native_key))
            ids.add(int(row.id))
    return records, ids


def _person(conn: Connection, identifier: str, emails: set[str]) -> tuple[set[str], set[Record], set[int]]:
    """Canonical ids, native records and quarantine rows that belong to the person."""
    records, qids = _from_email(conn, emails) if emails else (set(), set())
    canonical = {c for s, o, n, c in _xref_rows(conn, native_ids={identifier, *(r[2] for r in records)},
                                                  canonical_ids={identifier})
                 if n == identifier or c == identifier or (s, o, n) in records}
    records |= {(s, o, n) for s, o, n, _ in _xref_rows(conn, canonical_ids=canonical)}
    Q = t.quarantine
    for part in chunks(sorted({r[2] for r in records} | {identifier})):
        for row in conn.execute(sa.select(Q.c.id, Q.c.system, Q.c.object, Q.c.native_key)
                                .where(Q.c.native_key.in_(part))):
            # The identifier itself may be a key never linked (rejected at read): it matches in any system.
            if (row.system, row.object, row.native_key) in records or row.native_key == identifier:
                qids.add(int(row.id))
    return canonical, records, qids


def forget(db: Database, identifier: str) -> ForgetResult:
    identifier = identifier.strip()
    if not identifier:
        raise ValueError("forget needs an identifier: a canonical id, a native id or an email")
    emails = {identifier.casefold()} if "@" in identifier else set()
    with db.begin() as conn:
        canonical, records, qids = _person(conn, identifier, emails)
        quarantine = _delete_quarantine(conn, qids)
        findings = _erase_findings(conn, {identifier, *canonical, *(r[2] for r in records)}, emails)
        sync_state = xref = 0
        for part in chunks(sorted(canonical)):
            sync_state += conn.execute(t.sync_state.delete().where(t.sync_state.c.canonical_id.in_(part))).rowcount
            xref += conn.execute(t.xref.delete().where(t.xref.c.canonical_id.in_(part))).rowcount
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
