"""Where findings go as they are found: counted in the result, appended to the run's JSON Lines file,
and upserted into the state store in batches, so memory holds counts, never every finding."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from orchestrator.reconcile.codes import Severity
from orchestrator.reconcile.finding import Finding
from orchestrator.reconcile.result import ReconcileResult

BATCH = 1000


def to_store(finding: Finding) -> Any:
    """The state store's finding type (keys carry the records, subject and message)."""
    from orchestrator.state.types import Finding as StoredShape

    keys = {"records": [r.to_json() for r in finding.records], "subject": finding.subject,
            "message": finding.message, "detail": dict(finding.detail)}
    return StoredShape(code=finding.code.value, entity=finding.entity, keys=keys, fields=tuple(finding.fields),
                       values={f: dict(v) for f, v in finding.values.items()}, severity=finding.level.value,
                       fingerprint=finding.fingerprint)


class FindingSink:
    def __init__(self, result: ReconcileResult, path: Path, store: Any | None = None,
                 severity: dict[str, str] | None = None) -> None:
        self.result, self.store, self.severity = result, store, severity or {}
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")
        result.findings_path = path
        self._pending: list[Finding] = []
        self._seen: set[str] = set()

    def add(self, finding: Finding) -> None:
        override = self.severity.get(finding.code.value)
        if override:
            finding = Finding(finding.code, finding.entity, finding.records, finding.fields, finding.values,
                              Severity(override), finding.message, finding.subject, finding.detail)
        fingerprint = finding.fingerprint
        if fingerprint in self._seen:  # the same problem found twice (e.g. by two detectors)
            return
        self._seen.add(fingerprint)
        self.result.add(finding)
        self._file.write(orjson.dumps(finding.to_json()) + b"\n")
        if self.store is not None:
            self._pending.append(finding)
            if len(self._pending) >= BATCH:
                self._flush()

    def extend(self, findings: Iterable[Finding | None]) -> None:
        for finding in findings:
            if finding is not None:
                self.add(finding)

    def _flush(self) -> None:
        if self._pending and self.store is not None:
            delta = self.store.upsert_findings(self.result.job, self.result.run_id,
                                               [to_store(f) for f in self._pending], resolve_unseen=False)
            self._count(delta.new, "new", self.result.new_by_code)
            self._count(delta.persisting, "persisting", None)
        self._pending = []

    def _count(self, rows: list[Any], name: str, by_code: dict[str, int] | None) -> None:
        self.result.delta[name] = self.result.delta.get(name, 0) + len(rows)
        if by_code is not None:
            for row in rows:
                by_code[row.code] = by_code.get(row.code, 0) + 1

    def close(self) -> None:
        """Flush, then resolve what this run no longer sees."""
        self._flush()
        self._file.close()
        self.result.delta.setdefault("new", 0)
        self.result.delta.setdefault("persisting", 0)
        if self.store is not None:
            resolved = self.store.resolve_unseen(self.result.job, self.result.run_id)
            self._count(resolved, "resolved", self.result.resolved_by_code)
        self.result.delta.setdefault("resolved", 0)
