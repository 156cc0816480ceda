"""An in-process connector: streams held in memory, for tests, examples and dry runs.

It implements the whole contract (incremental reads with a sequence cursor, upserts, deletes as
tombstones, key ranges) in the simplest honest way, so orchestrator tests exercise real behaviour
without a server. Instances configured with the same ``store`` name share data in one process.
"""

from __future__ import annotations

import builtins
import itertools
import threading
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from connectors.base import (
    Batch,
    Capabilities,
    CheckItem,
    CheckReport,
    Cursor,
    FieldSpec,
    KeyRange,
    NativeRecord,
    ReadRange,
    RecordResult,
    StreamSpec,
    WriteResult,
)
from connectors.errors import ConfigurationError, RecordError
from connectors.retry import RetryPolicy

_STORES: dict[str, dict[str, _Table]] = {}
_LOCK = threading.Lock()


class MemoryStream(BaseModel):
    model_config = ConfigDict(extra="forbid")
    primary_key: str = "id"
    required: tuple[str, ...] = ()


class MemoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store: str = "default"
    streams: dict[str, MemoryStream] = {}
    batch_size: int = 500


class _Table:
    """Rows by key plus a monotonically increasing change sequence (the cursor)."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[int, NativeRecord | None]] = {}
        self.seq = itertools.count(1)


class MemoryConnector:
    type_name: ClassVar[str] = "memory"
    config_model: ClassVar[type[BaseModel]] = MemoryConfig

    def __init__(self, config: MemoryConfig, retry: RetryPolicy) -> None:
        self.config = config
        self.retry = retry
        self.capabilities = Capabilities(incremental=True, upsert=True, deletes=True, ranges=True,
                                         max_batch=config.batch_size)
        with _LOCK:
            store = _STORES.setdefault(config.store, {})
            self._tables = {name: store.setdefault(name, _Table()) for name in config.streams}

    def _table(self, stream: str) -> _Table:
        if stream not in self._tables:
            raise ConfigurationError(f"memory store {self.config.store!r} has no stream {stream!r}")
        return self._tables[stream]

    def check(self) -> CheckReport:
        return CheckReport([CheckItem(f"stream {name}", True) for name in self.config.streams])

    def discover(self) -> list[StreamSpec]:
        specs = []
        for name, stream in self.config.streams.items():
            seen = {k for _, row in self._tables[name].rows.values() if row for k in row}
            names = sorted(seen | {stream.primary_key})
            fields = tuple(FieldSpec(name=f, nullable=f not in stream.required) for f in names)
            specs.append(StreamSpec(name=name, primary_key=(stream.primary_key,), cursor_field="_seq",
                                    fields=fields, supports_deletes=True))
        return specs

    def read(self, stream: str, cursor: Cursor | None = None, range: ReadRange | None = None) -> Iterator[Batch]:
        table = self._table(stream)
        after = int(str(cursor.value)) if cursor and cursor.value is not None else 0
        with _LOCK:
            changes = sorted((seq, key, row) for key, (seq, row) in table.rows.items() if seq > after)
        if isinstance(range, KeyRange):
            changes = [c for c in changes if _in_range(c[1], range)]
        size = self.capabilities.max_batch
        for start in builtins.range(0, len(changes), size):
            chunk = changes[start:start + size]
            yield Batch(records=[dict(row) for _, _, row in chunk if row is not None],
                        tombstones=[key for _, key, row in chunk if row is None],
                        cursor=Cursor(value=chunk[-1][0]))

    def write(self, stream: str, records: Sequence[NativeRecord], deletes: Sequence[str] = (),
              upsert_key: str | None = None) -> WriteResult:
        table, spec = self._table(stream), self.config.streams[stream]
        key_field = upsert_key or spec.primary_key
        result = WriteResult()
        with _LOCK:
            for index, record in enumerate(records):
                result.results.append(self._upsert(table, spec, key_field, index, record))
            for index, key in enumerate(deletes):
                existed = key in table.rows and table.rows[key][1] is not None
                table.rows[key] = (next(table.seq), None)
                result.deleted.append(RecordResult(index, key, error=None if existed else RecordError(
                    "not_found", "no such record", key=key)))
        return result

    def _upsert(self, table: _Table, spec: MemoryStream, key_field: str, index: int,
                record: NativeRecord) -> RecordResult:
        missing = tuple(f for f in (key_field, *spec.required) if record.get(f) in (None, ""))
        if missing:
            return RecordResult(index, error=RecordError("required_missing", "required field missing",
                                                         fields=missing, payload=record))
        key = str(record[key_field])
        previous = table.rows.get(key, (0, None))[1]
        merged: dict[str, Any] = {**(previous or {}), **record}
        if merged != previous:
            table.rows[key] = (next(table.seq), merged)
        return RecordResult(index, key=key, created=previous is None)

    def close(self) -> None:
        """Nothing to release; data stays in the process-wide store."""


def _in_range(key: str, key_range: KeyRange) -> bool:
    start, end = key_range.start, key_range.end
    return (start is None or key >= str(start)) and (end is None or key < str(end))


def reset_store(name: str) -> None:
    """Forget a store's data (tests)."""
    with _LOCK:
        _STORES.pop(name, None)
