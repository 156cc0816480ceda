"""Duplicate detection: blocking finds look-alikes, distinct look-alikes stay apart, no all-pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.reconcile.detectors import duplicates
from orchestrator.reconcile.detectors.duplicates import DuplicateConfig, DuplicateDetector
from orchestrator.reconcile.records import CRecord


def account(key: str, name: str, **values: Any) -> CRecord:
    return CRecord("sf", "Account", key, {"name": name, **values})


def contact(key: str, first: str, last: str, **values: Any) -> CRecord:
    return CRecord("sf", "Contact", key, {"first_name": first, "last_name": last, **values})


def groups(records: list[CRecord], tmp_path: Path | None = None, **kw: Any) -> list[list[str]]:
    detector = DuplicateDetector("sf", records[0].entity, DuplicateConfig(), workdir=tmp_path, **kw)
    for r in records:
        detector.add(r)
    return [[ref.key for ref in f.records] for f in detector.findings()]


def test_accounts_same_company_written_differently() -> None:
    found = groups([
        account("1", "Acme Industries S.L.", domain="acme.es", **{"billing_address.city": "Madrid"}),
        account("2", "ACME Industries", website="https://www.acme.es"),
        account("3", "Acme Logistics", domain="acme-logistics.es"),
        account("4", "Borealis GmbH", phone="+4930123456"),
    ])
    assert found == [["1", "2"]]


def test_similar_names_in_different_cities_or_domains_are_not_duplicates() -> None:
    assert groups([
        account("1", "Garcia Consulting", domain="garcia-consulting.es", **{"billing_address.city": "Madrid"}),
        account("2", "Garcia Consulting", domain="garciaconsult.com", **{"billing_address.city": "Sevilla"}),
        account("3", "Nordic Foods", **{"billing_address.country": "SE"}),
        account("4", "Nordic Foods", **{"billing_address.country": "NO"}),
    ]) == []


def test_contacts_by_email_or_name_and_phone_grouped() -> None:
    found = groups([
        contact("1", "Ana", "García", email="ana.garcia@acme.es"),
        contact("2", "Ana", "Garcia", email="Ana.Garcia@ACME.es"),
        contact("3", "ana", "garcía", phone="+34600111222", email="ana.garcia@acme.es"),
        contact("4", "Anna", "Garcia", email="anna.garcia@other.es"),
    ])
    assert found == [["1", "2", "3"]]


def test_oversized_blocks_use_a_window_not_all_pairs(tmp_path: Path, monkeypatch: Any) -> None:
    calls = 0
    real = duplicates.verdict

    def counting(a: Any, b: Any, cfg: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(a, b, cfg)

    monkeypatch.setattr(duplicates, "verdict", counting)
    records = [account(f"{i:04d}", f"Grupo Empresa{i:04d}") for i in range(1000)]
    records.append(account("dup", "Grupo Empresa0500", **{"billing_address.city": None}))
    found = groups(records, tmp_path, max_in_memory=100, buckets=4)
    assert found == [["0500", "dup"]]
    assert calls < 1001 * 10  # all pairs would be ~500,000


def test_deleted_records_are_not_duplicates() -> None:
    gone = account("2", "Acme", domain="acme.es")
    gone.deleted = True
    assert groups([account("1", "Acme", domain="acme.es"), gone]) == []
