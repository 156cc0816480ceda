"""Writes: one request per record (a path template), or per batch with per-record results.

Record mode fills the path template (``/contacts/{id}``) from the record, URL-quoted, and sends the
record as JSON; 201 means created, 200/204 updated. Batch mode sends up to ``batch_size`` records
and reads one result per record, in order, from the response. A 400/404/409/422 about a record is
that record's RecordError; any other failure is raised after the retry policy gave up. Deletes
send DELETE to ``delete_path``; a 404 counts as deleted, so a replayed delete is harmless.
Note: POST creates are only as idempotent as the API makes them; prefer PUT to a key.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from connectors.base import NativeRecord, RecordResult, WriteResult
from connectors.errors import ConfigurationError, RecordError, StreamError
from connectors.rest.client import RestClient, dig
from connectors.rest.config import RestStream, RestWrite
from connectors.rest.errors import RECORD_STATUSES, record_error
from connectors.rest.reader import key_of
from connectors.retry import RetryPolicy


def fill(template: str, values: NativeRecord) -> str | None:
    """The path with each ``{field}`` replaced by the URL-quoted value; None when one is missing."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    if any(values.get(n) in (None, "") for n in names):
        return None
    return template.format_map({n: quote(str(values[n]), safe="") for n in names})


class RestWriter:
    def __init__(self, client: RestClient, name: str, stream: RestStream, retry: RetryPolicy) -> None:
        if stream.write is None:
            raise ConfigurationError(f"rest stream {name!r} has no write settings")
        self.client, self.name, self.stream, self.retry = client, name, stream, retry
        self.write_config: RestWrite = stream.write

    def write(self, records: Sequence[NativeRecord], deletes: Sequence[str], upsert_key: str | None) -> WriteResult:
        key = (upsert_key,) if upsert_key else self.stream.primary_key
        if self.write_config.mode == "batch":
            results = self._batches(records, key)
        else:
            results = [self._one(index, record, key) for index, record in enumerate(records)]
        return WriteResult(results, [self._delete(index, k) for index, k in enumerate(deletes)])

    def _one(self, index: int, record: NativeRecord, key: tuple[str, ...]) -> RecordResult:
        record_key = key_of(record, key)
        path = fill(self.write_config.path, record)
        if record_key is None or path is None:
            return RecordResult(index, error=RecordError("missing_key", "a field the write path needs is missing",
                                                         fields=key, payload=record))
        response = self.retry.call(self.client.send, self.write_config.method, path, json=record,
                                   accept=RECORD_STATUSES)
        if response.status_code in RECORD_STATUSES:
            return RecordResult(index, key=record_key, error=record_error(response, record_key, record))
        body = self.client.body(response, f"rest: {self.write_config.method} {self.name}") if response.content else None
        native = dig(body, self.write_config.result_id_path) if isinstance(body, dict) else None
        created = True if response.status_code == 201 else False if self.write_config.method != "POST" else None
        return RecordResult(index, key=str(native) if native is not None else record_key, created=created)

    def _batches(self, records: Sequence[NativeRecord], key: tuple[str, ...]) -> list[RecordResult]:
        results: list[RecordResult] = []
        size = self.write_config.batch_size
        for start in range(0, len(records), size):
            chunk = list(records[start:start + size])
            results.extend(self._batch(start, chunk, key))
        return results

    def _batch(self, first: int, chunk: list[NativeRecord], key: tuple[str, ...]) -> list[RecordResult]:
        config = self.write_config
        body: Any = chunk
        for part in reversed((config.body_path or "").split(".") if config.body_path else []):
            body = {part: body}
        response = self.retry.call(self.client.send, config.method, config.path, json=body, accept=RECORD_STATUSES)
        if response.status_code in RECORD_STATUSES:  # the whole batch was refused
            return [RecordResult(first + i, key=key_of(r, key), error=record_error(response, key_of(r, key), r))
                    for i, r in enumerate(chunk)]
        answers = dig(self.client.body(response, f"rest: {config.method} {config.path}"), config.results_path)
        if not isinstance(answers, list) or len(answers) != len(chunk):
            raise StreamError(f"rest stream {self.name!r}: batch response has no result per record")
        return [self._result(first + i, record, answer, key) for i, (record, answer) in
                enumerate(zip(chunk, answers, strict=True))]

    def _result(self, index: int, record: NativeRecord, answer: Any, key: tuple[str, ...]) -> RecordResult:
        config = self.write_config
        record_key = key_of(record, key)
        error = dig(answer, config.result_error_path)
        if error:
            code = dig(error, "code") if isinstance(error, dict) else error
            fields = dig(error, "fields") if isinstance(error, dict) else None
            return RecordResult(index, key=record_key, error=RecordError(
                str(code) if isinstance(code, str) else "rejected", "the API rejected the record",
                fields=tuple(str(f) for f in fields) if isinstance(fields, list) else (), key=record_key,
                payload=record))
        native = dig(answer, config.result_id_path)
        created = dig(answer, config.result_created_path) if config.result_created_path else None
        return RecordResult(index, key=str(native) if native is not None else record_key,
                            created=created if isinstance(created, bool) else None)

    def _delete(self, index: int, key: str) -> RecordResult:
        template = self.write_config.delete_path
        if template is None:
            return RecordResult(index, key=key, error=RecordError("unsupported", "no delete_path configured", key=key))
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
        path = template.format_map(dict.fromkeys(names, quote(key, safe="")))
        response = self.retry.call(self.client.send, "DELETE", path, accept=RECORD_STATUSES)
        if response.status_code in RECORD_STATUSES and response.status_code != 404:
            return RecordResult(index, key=key, error=record_error(response, key, key))
        return RecordResult(index, key=key)
