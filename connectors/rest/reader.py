"""Reading a stream page by page, each page one request retried on its own, with an incremental cursor.

The cursor is the largest ``cursor_field`` value read plus the keys read at that value. The next
read asks the API for records at or after it (``incremental_param``) and drops the keys already
seen at exactly that value, so records sharing the boundary value are neither lost nor repeated.
When the API does not sort by the cursor field, only the read's last batch advances the cursor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.base import Batch, Cursor, CursorValue, NativeRecord
from connectors.errors import ConfigurationError, RecordError
from connectors.rest.client import RestClient, dig
from connectors.rest.config import RestStream
from connectors.rest.pagination import PageRequest, paginator
from connectors.retry import RetryPolicy


def key_of(record: NativeRecord, key: tuple[str, ...]) -> str | None:
    values = [record.get(k) for k in key]
    if any(v is None for v in values):
        return None
    return str(values[0]) if len(values) == 1 else json.dumps([str(v) for v in values])


def _order(value: Any) -> tuple[int, Any]:
    """A sort key that orders ISO timestamps as instants and numbers as numbers."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, datetime):
        return (1, (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())
    if isinstance(value, str):
        try:
            return _order(datetime.fromisoformat(value))
        except ValueError:
            return (2, value)
    return (3, str(value))


class CursorTracker:
    """The cursor so far, and the filter that drops what the previous read already handed out."""

    def __init__(self, field: str | None, key: tuple[str, ...], start: Cursor | None) -> None:
        self.field, self.key = field, key
        self.start_value = start.value if start else None
        self.skip = frozenset(start.seen_keys) if start else frozenset()
        self.value: Any = self.start_value
        self._order = _order(self.start_value) if self.start_value is not None else (0, 0)
        self.seen: set[str] = set(self.skip)

    def keep(self, record: NativeRecord, key: str) -> bool:
        if self.field is None or self.start_value is None:
            return True
        value = record.get(self.field)
        if value is None:
            return True
        order, start = _order(value), _order(self.start_value)
        if order[0] == start[0] and order < start:
            return False  # older than the cursor: the API ignored or rounded the incremental filter
        return not (key in self.skip and order == start)

    def advance(self, record: NativeRecord, key: str) -> None:
        value = record.get(self.field) if self.field else None
        if value is None:
            return
        if value == self.value:  # the common case in a sorted stream: no parsing
            self.seen.add(key)
            return
        order = _order(value)
        if self.value is None or order > self._order:
            self.value, self.seen, self._order = value, {key}, order
        elif order == self._order:
            self.seen.add(key)

    def cursor(self) -> Cursor:
        value: CursorValue | None = Decimal(str(self.value)) if isinstance(self.value, float) else self.value
        return Cursor(value=value, seen_keys=tuple(sorted(self.seen)))


def _param(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def read_batches(client: RestClient, name: str, stream: RestStream, retry: RetryPolicy, cursor: Cursor | None,
                 batch_size: int) -> Iterator[Batch]:
    """Batches of at most ``batch_size`` records; one page is one request through the retry policy."""
    params: dict[str, Any] = dict(stream.params)
    if cursor is not None and cursor.value is not None and stream.incremental_param:
        params[stream.incremental_param] = _param(cursor.value)
    tracker = CursorTracker(stream.cursor_field, stream.primary_key, cursor)
    pages = paginator(stream.pagination)
    request: PageRequest | None = pages.first(stream.path, params)
    held: Batch | None = None  # unsorted streams: the last batch gets the final cursor
    while request is not None:
        response, body = retry.call(_fetch, client, request)
        records = dig(body, stream.records_path)
        if not isinstance(records, list):
            raise ConfigurationError(f"rest stream {name!r}: records_path {stream.records_path!r} is not a list")
        for start in range(0, len(records), batch_size):
            batch = _batch(records[start:start + batch_size], stream, tracker)
            if not (batch.records or batch.tombstones or batch.errors):
                continue  # all read before (the boundary's seen keys): nothing new, the cursor did not move
            if stream.cursor_sorted:
                batch.cursor = tracker.cursor()
                yield batch
                continue
            if held is not None:
                yield held
            batch.cursor = cursor or Cursor()
            held = batch
        request = pages.next(request, response, body, records)
    if held is not None:
        held.cursor = tracker.cursor()
        yield held


def _fetch(client: RestClient, request: PageRequest) -> tuple[Any, Any]:
    response = client.send("GET", request.target, params=request.params or None)
    return response, client.body(response, f"rest: GET {request.target.split('?')[0]}")


def _batch(records: list[Any], stream: RestStream, tracker: CursorTracker) -> Batch:
    batch = Batch(records=[])
    for record in records:
        key = key_of(record, stream.primary_key) if isinstance(record, dict) else None
        if key is None:
            batch.errors.append(RecordError("missing_key", "record without its key (or not an object)",
                                            fields=stream.primary_key, payload=record))
            continue
        if not tracker.keep(record, key):
            continue
        tracker.advance(record, key)
        if stream.deleted_field and record.get(stream.deleted_field) == stream.deleted_value:
            batch.tombstones.append(key)
        else:
            batch.records.append(record)
    return batch
