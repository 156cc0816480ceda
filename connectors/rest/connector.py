"""The REST connector: configurable JSON-over-HTTP for in-house APIs (entry point ``rest``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from connectors.base import (
    Batch,
    Capabilities,
    CheckItem,
    CheckReport,
    Cursor,
    FieldSpec,
    FieldType,
    NativeRecord,
    ReadRange,
    StreamSpec,
    WriteResult,
)
from connectors.errors import ConfigurationError, ConnectorError
from connectors.rest.client import RestClient
from connectors.rest.config import OAuth2ClientCredentials, RestConfig, RestStream
from connectors.rest.reader import read_batches
from connectors.rest.writer import RestWriter
from connectors.retry import RetryPolicy

SAMPLE = 100  # records looked at to describe a stream's fields


class RestConnector:
    """Pages through API collections with an incremental cursor; writes per record or per batch."""

    type_name: ClassVar[str] = "rest"
    config_model: ClassVar[type[BaseModel]] = RestConfig

    def __init__(self, config: RestConfig, retry: RetryPolicy) -> None:
        self.config, self.retry = config, retry
        self.client = RestClient(config, retry.clock, retry.sleep)  # the rate limit waits on the policy's clock
        streams = config.streams.values()
        self.capabilities = Capabilities(
            incremental=True, upsert=any(s.write is not None for s in streams),
            deletes=any(s.deleted_field or (s.write and s.write.delete_path) for s in streams),
            bulk=any(s.write is not None and s.write.mode == "batch" for s in streams),
            max_batch=config.batch_size,
        )

    def _stream(self, name: str) -> RestStream:
        if name not in self.config.streams:
            raise ConfigurationError(f"rest: no stream {name!r} configured (have {sorted(self.config.streams)})")
        return self.config.streams[name]

    def check(self) -> CheckReport:
        items = []
        if isinstance(self.config.auth, OAuth2ClientCredentials):
            items.append(self._try("token", lambda: self.retry.call(self.client.auth.headers)))
        for name in self.config.streams:
            items.append(self._try(f"stream {name}", lambda n=name: next(iter(self.read(n)), None)))
        return CheckReport(items)

    @staticmethod
    def _try(label: str, probe: Any) -> CheckItem:
        try:
            probe()
        except ConnectorError as exc:
            return CheckItem(label, False, str(exc))
        return CheckItem(label, True)

    def discover(self) -> list[StreamSpec]:
        return [self._spec(name, stream) for name, stream in self.config.streams.items()]

    def _spec(self, name: str, stream: RestStream) -> StreamSpec:
        string: FieldType = "string"
        found = dict.fromkeys(stream.primary_key, string)
        records = (r for b in self.read(name) for r in b.records)
        for record in itertools.islice(records, SAMPLE):
            for field, value in record.items():
                if value is None:
                    found.setdefault(field, string)
                    continue
                kind = _json_type(value)
                found[field] = kind if found.get(field, kind) == kind else string
        fields = tuple(FieldSpec(name=f, type=t, nullable=f not in stream.primary_key,
                                 writable=stream.write is not None) for f, t in found.items())
        deletes = bool(stream.deleted_field or (stream.write and stream.write.delete_path))
        return StreamSpec(name=name, primary_key=stream.primary_key, cursor_field=stream.cursor_field, fields=fields,
                          supports_deletes=deletes)

    def read(self, stream: str, cursor: Cursor | None = None, range: ReadRange | None = None) -> Iterator[Batch]:
        if range is not None:
            raise ConfigurationError("rest: streams cannot be read by key range or time window")
        return read_batches(self.client, stream, self._stream(stream), self.retry, cursor, self.config.batch_size)

    def write(self, stream: str, records: Sequence[NativeRecord], deletes: Sequence[str] = (),
              upsert_key: str | None = None) -> WriteResult:
        return RestWriter(self.client, stream, self._stream(stream), self.retry).write(records, deletes, upsert_key)

    def close(self) -> None:
        self.client.close()


def _json_type(value: Any) -> FieldType:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, (dict, list)):
        return "json"
    return "string"
