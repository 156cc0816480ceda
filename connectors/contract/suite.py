"""The contract tests themselves; see the package docstring for how a connector opts in."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from connectors.base import (
    Batch,
    CheckItem,
    CheckReport,
    ChecksumConnector,
    Connector,
    Cursor,
    KeyRange,
    NativeRecord,
    RangeChecksum,
    StreamSpec,
    WriteResult,
)


@dataclass
class ContractCase:
    """What the suite needs: a connector, one stream, its key field and sample records.

    With ``seeded=True`` the records are already in the stream (read-only connectors) and the
    write tests are skipped unless the connector declares ``upsert``.
    """

    connector: Connector
    stream: str
    key: str
    records: list[NativeRecord]
    seeded: bool = False
    compare_fields: tuple[str, ...] | None = None  # fields to compare after a round trip
    cleanup: Callable[[], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _normal(value: Any) -> Any:
    """Compare values across type systems (a database may hand back Decimal or str for an int)."""
    return None if value is None else str(value)


def _read_all(connector: Connector, stream: str, **kwargs: Any) -> list[Batch]:
    return list(connector.read(stream, **kwargs))


def _records(batches: Iterable[Batch]) -> list[NativeRecord]:
    return [r for b in batches for r in b.records]


class _ContractSuite:
    """Base class; ``connector_contract`` binds it to a case factory."""

    make_case: Callable[..., ContractCase]

    def _make(self, tmp_path: Path, request: pytest.FixtureRequest) -> Iterable[ContractCase]:
        factory = type(self).make_case
        wants_request = len(inspect.signature(factory).parameters) >= 2
        made = factory(tmp_path, request) if wants_request else factory(tmp_path)
        yield made
        made.connector.close()
        if made.cleanup:
            made.cleanup()

    def _prepare(self, case: ContractCase) -> None:
        if case.seeded:
            return
        result = case.connector.write(case.stream, case.records)
        assert isinstance(result, WriteResult)
        assert [r.index for r in result.results] == list(range(len(case.records)))
        assert not result.failed, [str(r.error) for r in result.failed]

    def test_declares_type_config_and_capabilities(self, case: ContractCase) -> None:
        cls = type(case.connector)
        assert isinstance(cls.type_name, str) and cls.type_name
        assert issubclass(cls.config_model, BaseModel)
        assert case.connector.capabilities.max_batch > 0
        assert isinstance(case.connector, Connector)

    def test_check_reports_each_item(self, case: ContractCase) -> None:
        report = case.connector.check()
        assert isinstance(report, CheckReport) and report.items
        assert all(isinstance(i, CheckItem) for i in report.items)
        assert report.ok, [f"{i.name}: {i.reason}" for i in report.items if not i.ok]

    def test_discover_offers_the_stream(self, case: ContractCase) -> None:
        streams = {s.name: s for s in case.connector.discover()}
        assert case.stream in streams, sorted(streams)
        spec = streams[case.stream]
        assert isinstance(spec, StreamSpec) and spec.primary_key
        assert {f.name for f in spec.fields} >= set(spec.primary_key)

    def test_read_returns_every_record_once_in_bounded_batches(self, case: ContractCase) -> None:
        self._prepare(case)
        batches = _read_all(case.connector, case.stream)
        assert all(isinstance(b, Batch) for b in batches)
        assert all(len(b.records) <= case.connector.capabilities.max_batch for b in batches)
        keys = [str(r[case.key]) for r in _records(batches)]
        assert len(keys) == len(set(keys))
        assert set(keys) == {str(r[case.key]) for r in case.records}

    def test_round_trip_keeps_values(self, case: ContractCase) -> None:
        self._prepare(case)
        read = {str(r[case.key]): r for r in _records(_read_all(case.connector, case.stream))}
        fields = case.compare_fields or tuple(case.records[0])
        for original in case.records:
            got = read[str(original[case.key])]
            assert {f: _normal(got.get(f)) for f in fields} == {f: _normal(original.get(f)) for f in fields}

    def test_upsert_is_idempotent(self, case: ContractCase) -> None:
        if not case.connector.capabilities.upsert:
            pytest.skip("connector does not declare upsert")
        self._prepare(case)
        again = case.connector.write(case.stream, case.records)
        assert not again.failed and len(again.results) == len(case.records)
        assert not any(r.created for r in again.results)
        keys = [str(r[case.key]) for r in _records(_read_all(case.connector, case.stream))]
        assert sorted(keys) == sorted(str(r[case.key]) for r in case.records)

    def test_incremental_cursor_resumes_without_loss_or_repeat(self, case: ContractCase) -> None:
        if not case.connector.capabilities.incremental:
            pytest.skip("connector does not declare incremental")
        self._prepare(case)
        batches = _read_all(case.connector, case.stream)
        assert batches and all(isinstance(b.cursor, Cursor) for b in batches)
        first = batches[0]
        rest = _records(_read_all(case.connector, case.stream, cursor=first.cursor))
        seen = [str(r[case.key]) for r in first.records] + [str(r[case.key]) for r in rest]
        assert sorted(seen) == sorted(str(r[case.key]) for r in case.records)
        after_last = _records(_read_all(case.connector, case.stream, cursor=batches[-1].cursor))
        assert after_last == []

    def test_deletes_travel_as_tombstones_or_vanish(self, case: ContractCase) -> None:
        if not (case.connector.capabilities.deletes and case.connector.capabilities.upsert):
            pytest.skip("connector does not declare deletes and upsert")
        self._prepare(case)
        victim = str(case.records[0][case.key])
        result = case.connector.write(case.stream, [], deletes=[victim])
        assert len(result.deleted) == 1 and result.deleted[0].ok
        batches = _read_all(case.connector, case.stream)
        live = {str(r[case.key]) for r in _records(batches)}
        tombstones = {t for b in batches for t in b.tombstones}
        assert victim not in live or victim in tombstones

    def test_key_ranges_partition_the_stream(self, case: ContractCase) -> None:
        if not case.connector.capabilities.ranges:
            pytest.skip("connector does not declare ranges")
        self._prepare(case)
        keys = sorted(str(r[case.key]) for r in case.records)
        middle = case.records[len(case.records) // 2][case.key]
        left = _records(_read_all(case.connector, case.stream, range=KeyRange(end=middle)))
        right = _records(_read_all(case.connector, case.stream, range=KeyRange(start=middle)))
        assert sorted(str(r[case.key]) for r in left + right) == keys
        assert left and right

    def test_range_checksums_detect_a_change(self, case: ContractCase) -> None:
        if not case.connector.capabilities.checksums:
            pytest.skip("connector does not declare checksums")
        self._prepare(case)
        connector = case.connector
        assert isinstance(connector, ChecksumConnector)
        compute = connector.range_checksums
        columns = list(case.compare_fields or tuple(case.records[0]))
        before = compute(case.stream, columns, [KeyRange()])
        assert isinstance(before[0], RangeChecksum) and before[0].count == len(case.records)
        assert compute(case.stream, columns, [KeyRange()]) == before
        if case.connector.capabilities.ranges:  # ranges that partition the stream add up to the whole
            middle = case.records[len(case.records) // 2][case.key]
            halves = compute(case.stream, columns, [KeyRange(end=middle), KeyRange(start=middle)])
            assert sum(h.count for h in halves) == before[0].count and all(h.count for h in halves)
        changed = _changed_copy(case.records[0], case.key, columns)
        if case.seeded or not case.connector.capabilities.upsert or changed is None:
            return
        assert not case.connector.write(case.stream, [changed]).failed
        after = compute(case.stream, columns, [KeyRange()])
        assert after[0].count == before[0].count and after[0].digest != before[0].digest


def _changed_copy(record: NativeRecord, key: str, columns: list[str]) -> NativeRecord | None:
    """``record`` with one compared text field altered, or None when it has no text field to alter."""
    for name in columns:
        if name != key and isinstance(record.get(name), str):
            return {**record, name: record[name] + " (changed)"}
    return None


def connector_contract(make_case: Callable[..., ContractCase], params: Sequence[Any] | None = None) -> type:
    """A pytest test class running the contract suite against connectors built by ``make_case``.

    ``make_case(tmp_path)`` builds the case; a factory taking a second argument gets pytest's
    ``request``, so it can use fixtures (``request.getfixturevalue("postgres_url")``) and, with
    ``params``, run the whole suite once per parameter (``request.param``: a dialect, a format).
    """

    def case(self: _ContractSuite, tmp_path: Path, request: pytest.FixtureRequest) -> Iterable[ContractCase]:
        yield from self._make(tmp_path, request)

    fixture = pytest.fixture(params=list(params), ids=[str(p) for p in params])(case) if params else (
        pytest.fixture(case))
    return type("ConnectorContractSuite", (_ContractSuite,), {"make_case": staticmethod(make_case), "case": fixture})
