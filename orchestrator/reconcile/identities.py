"""Reconciliation identities: what a reference means across systems in this run.

When accounts are matched, each pair gets one identity (its canonical id, or the left record's key
when the cross-reference does not know it yet). Mapping a contact then resolves its native account
reference to that identity, so the two systems' contacts compare equal exactly when their accounts
were matched to each other. A reference no record answers to keeps a per-system identity that can
never equal the other side's (and the orphan check reports it).
"""

from __future__ import annotations

from orchestrator.reconcile.normalise import id_key
from orchestrator.reconcile.records import CRecord, Pair

UNRESOLVED = "~unresolved:"


class Identities:
    def __init__(self, inverse: bool = False) -> None:
        self._by: dict[tuple[str, str], dict[str, str]] = {}
        self._inverse: dict[tuple[str, str], dict[str, str]] | None = {} if inverse else None
        self._aliases: dict[tuple[str, str], tuple[str, str]] = {}
        self._paired: set[tuple[str, str]] = set()  # (entity, identity) of pairs where both records are live

    def known(self, entity: str) -> bool:
        """Whether ``entity`` was reconciled in this run (its references can be compared)."""
        return any(e == entity for _, e in self._by)

    def pair(self, entity: str, pair: Pair) -> str:
        identity = pair.left.canonical_id or pair.right.canonical_id or f"~{pair.left.system}:{pair.left.key}"
        self._put(pair.left, entity, identity)
        self._put(pair.right, entity, identity)
        if not (pair.left.deleted or pair.right.deleted):
            self._paired.add((entity, identity))
        return identity

    def in_both(self, entity: str, identity: object) -> bool:
        """Whether ``identity`` (a resolved reference) names a record live in both systems."""
        return isinstance(identity, str) and (entity, identity) in self._paired

    def alias(self, entity: str, identity: str, system: str, master: str) -> None:
        """A merged-away record now means its master: references to either compare equal."""
        self._aliases[(entity, identity)] = (system, id_key(master) or master)

    def alone(self, entity: str, record: CRecord) -> None:
        self._put(record, entity, record.canonical_id or f"~{record.system}:{record.key}")

    def _put(self, record: CRecord, entity: str, identity: str) -> None:
        table = self._by.setdefault((record.system, entity), {})
        table[id_key(record.key) or record.key] = identity
        if self._inverse is not None:
            self._inverse.setdefault((record.system, entity), {})[identity] = record.key

    def native(self, system: str, entity: str, identity: str) -> str | None:
        """The native key in ``system`` of the record behind ``identity`` (needs ``inverse=True``)."""
        if self._inverse is None:
            raise RuntimeError("Identities(inverse=True) is needed to turn identities back into native keys")
        return self._inverse.get((system, entity), {}).get(identity)

    def __call__(self, system: str, entity: str, native_id: str) -> str | None:
        table = self._by.get((system, entity))
        if table is None:
            return None
        key = id_key(native_id) or native_id
        identity = table.get(key)
        for _ in range(4):  # follow merges (a chain of merges is short)
            target = self._aliases.get((entity, identity)) if identity else None
            if target is None:
                break
            identity = self._by.get((target[0], entity), {}).get(target[1], identity)
        return identity or f"{UNRESOLVED}{system}:{key}"
