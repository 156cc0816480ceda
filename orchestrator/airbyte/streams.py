"""Airbyte streams: one per canonical entity, plus findings and rejected records.

An entity stream reads each native object that maps to the entity (Salesforce Task and Event both
give ``activities``), one slice per object, with the connector's own typed cursor kept per object
in the stream state. Records are canonical, with ``id`` set to the system's native key (this source
has no cross-reference) and deletes marked with ``_ab_cdc_deleted_at``. A record the mapping rejects
is never dropped silently: it is counted in the log by reason and emitted on ``rejections``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, SyncMode, Type
from airbyte_cdk.sources.streams import CheckpointMixin, Stream

from connectors.base import Connector, Cursor
from mappings import Mapper, MappingContext
from orchestrator.airbyte.errors import airbyte_errors

DELETED_AT = "_ab_cdc_deleted_at"
UPDATED_AT = "_ab_cdc_updated_at"
log = logging.getLogger("airbyte")


class Rejections:
    """Collects mapping rejections (native key, object, reason codes and fields; never values)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()

    def add(self, stream: str, obj: str, key: str | None, reasons: Iterable[Any]) -> None:
        reasons = [{"code": r.code, "field": r.field} for r in reasons]
        self.counts.update(f"{r['code']} on {r['field']}" for r in reasons)
        self.items.append({"stream": stream, "object": obj, "native_key": key, "reasons": reasons,
                           "rejected_at": _now()})


class EntityStream(Stream, CheckpointMixin):
    """Canonical records of one entity, incremental by ``updated_at`` with per-object connector cursors."""

    primary_key = "id"
    cursor_field = UPDATED_AT  # the system's own change stamp (SystemModstamp, changed_ts), in UTC

    def __init__(self, name: str, schema: dict[str, Any], connector: Connector, mappers: list[Mapper],
                 context: MappingContext, rejections: Rejections, timezone: str = "UTC") -> None:
        self._name, self._schema, self._connector = name, schema, connector
        self._zone = ZoneInfo(timezone)

        self._mappers = {m.spec.object: m for m in mappers}
        self._context, self._rejections = context, rejections
        self._committed: dict[str, Any] = {}
        self._stamps: dict[str, str | None] = {}
        self._last_stamp: tuple[Any, str | None] = (None, None)

    @property
    def name(self) -> str:
        return self._name

    @property
    def state_checkpoint_interval(self) -> int | None:
        """A state message per connector batch at most: the committed cursor moves once per batch."""
        return self._connector.capabilities.max_batch

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._committed

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._committed = dict(value or {})
        self._stamps = {obj: self._stamp((c or {}).get("value"))
                        for obj, c in self._committed.get("cursors", {}).items()}

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # the CDK caches it
        return self._schema

    def stream_slices(self, **_: Any) -> Iterable[Mapping[str, Any] | None]:
        return [{"object": obj} for obj in self._mappers]

    def read_records(self, sync_mode: SyncMode, cursor_field: list[str] | None = None,
                     stream_slice: Mapping[str, Any] | None = None,
                     stream_state: Mapping[str, Any] | None = None) -> Iterator[AirbyteMessage]:
        with airbyte_errors():
            yield from self._read_object((stream_slice or {})["object"], sync_mode)

    def _read_object(self, obj: str, sync_mode: SyncMode) -> Iterator[AirbyteMessage]:
        start = None
        if sync_mode == SyncMode.incremental:
            start = Cursor.from_json(self._committed.get("cursors", {}).get(obj))
        for batch in self._connector.read(obj, start):
            yield from self._records(obj, batch.records)
            for key in batch.tombstones:
                stamp = self._stamp(batch.cursor.value if batch.cursor else None) or _now()
                yield _message(self.name, {"id": key, DELETED_AT: stamp, UPDATED_AT: stamp})
            for error in batch.errors:
                self._rejections.add(self.name, obj, error.key, [_ReadReason(error.code, ",".join(error.fields))])
            if batch.cursor is not None:
                self._advance(obj, batch.cursor)
        self._log_rejections(obj)

    def _records(self, obj: str, records: list[dict[str, Any]]) -> Iterator[AirbyteMessage]:
        """Canonical records as RECORD messages: built here, the CDK passes them on without copying."""
        mapper = self._mappers[obj]
        stamp_field = mapper.spec.cursor
        good, bad = mapper.map_batch(records, self._context)
        name, native_key, stamp = self.name, mapper.native_key, self._stamp
        for index, canonical in good:
            native = records[index]
            data = canonical.model_dump(mode="json")
            data["id"] = native_key(native)
            data[DELETED_AT] = None
            data[UPDATED_AT] = stamp(native.get(stamp_field)) if stamp_field else None
            yield _message(name, data)
        for index, rejection in bad:
            self._rejections.add(self.name, obj, mapper.native_key(records[index]), rejection.reasons)

    def _advance(self, obj: str, cursor: Cursor) -> None:
        """Commit the cursor after its batch was emitted: a state message never runs ahead of records."""
        cursors = dict(self._committed.get("cursors", {}))
        cursors[obj] = cursor.to_json()
        self._stamps[obj] = self._stamp(cursor.value)
        known = [s for o, s in self._stamps.items() if s is not None]
        # The stream-level stamp is the oldest object's: no object has records older than it left to send.
        self._committed = {"cursors": cursors, UPDATED_AT: min(known) if known else None}

    def _stamp(self, value: Any) -> str | None:
        """A change stamp as ISO 8601 UTC (naive values are in the system's time zone).

        The last conversion is kept: records of a batch come in cursor order, and neighbours often
        share a stamp (bulk loads, mass updates), so many records skip the parse and format.
        """
        if value is None or value == "":
            return None
        if value == self._last_stamp[0]:
            return self._last_stamp[1]
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
        self._last_stamp = (value, text)
        return text

    def _log_rejections(self, obj: str) -> None:
        if self._rejections.counts:
            summary = ", ".join(f"{reason}: {n}" for reason, n in self._rejections.counts.most_common())
            log.warning("%s: records rejected by the mapping (kept on the rejections stream): %s", obj, summary)


class _ReadReason:
    """A read-side record error in the shape of a mapping Reason (code and field)."""

    def __init__(self, code: str, field: str) -> None:
        self.code, self.field = code, field


class RejectionsStream(Stream):
    """Records the mapping or the reader rejected in this read, with reasons (codes and fields only)."""

    primary_key = None

    def __init__(self, rejections: Rejections) -> None:
        self._rejections = rejections

    @property
    def name(self) -> str:
        return "rejections"

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # the CDK caches it
        reason = {"type": "object", "properties": {"code": {"type": "string"}, "field": {"type": "string"}}}
        return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {
            "stream": {"type": "string"}, "object": {"type": "string"}, "native_key": {"type": ["null", "string"]},
            "reasons": {"type": "array", "items": reason}, "rejected_at": {"type": "string", "format": "date-time"},
        }}

    def read_records(self, sync_mode: SyncMode, cursor_field: list[str] | None = None,
                     stream_slice: Mapping[str, Any] | None = None,
                     stream_state: Mapping[str, Any] | None = None) -> Iterator[Mapping[str, Any]]:
        yield from self._rejections.items


class FindingsStream(Stream):
    """Reconciliation findings of one job from the crmsync state store (full refresh: the current view)."""

    primary_key = "fingerprint"

    def __init__(self, state_url: str, job: str) -> None:
        self._state_url, self._job = state_url, job

    @property
    def name(self) -> str:
        return "findings"

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # the CDK caches it
        text, stamp = {"type": ["null", "string"]}, {"type": ["null", "string"], "format": "date-time"}
        return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {
            "fingerprint": {"type": "string"}, "job": {"type": "string"}, "code": {"type": "string"},
            "entity": {"type": "string"}, "severity": text, "status": {"type": "string"},
            "keys": {"type": "object"}, "fields": {"type": "array", "items": {"type": "string"}},
            "first_seen": stamp, "last_seen": stamp, "resolved_at": stamp,
        }}

    def read_records(self, sync_mode: SyncMode, cursor_field: list[str] | None = None,
                     stream_slice: Mapping[str, Any] | None = None,
                     stream_state: Mapping[str, Any] | None = None) -> Iterator[Mapping[str, Any]]:
        from orchestrator.state import StateStore  # the state store is only needed for this stream

        store = StateStore.open(self._state_url, migrate=False)
        try:
            for f in store.list_findings(self._job, "all"):
                yield {"fingerprint": f.fingerprint, "job": f.job, "code": f.code, "entity": f.entity,
                       "severity": f.severity, "status": f.status, "keys": f.keys, "fields": list(f.fields),
                       "first_seen": _iso(f.first_seen), "last_seen": _iso(f.last_seen),
                       "resolved_at": _iso(f.resolved_at)}
        finally:
            store.close()


def _message(stream: str, data: dict[str, Any]) -> AirbyteMessage:
    """What the CDK would make of ``data`` (no transform is configured), without its copy of the dict."""
    record = AirbyteRecordMessage(stream=stream, data=data, emitted_at=time.time_ns() // 1_000_000)
    return AirbyteMessage(type=Type.RECORD, record=record)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
