"""The connector contract: what every connector offers and the typed values it exchanges.

A connector is constructed from its validated pydantic config and a retry policy handed in by the
orchestrator. It reads batches of native records with a cursor and writes native records by
idempotent upsert. The types here are the stable interface every other part builds on: change
them deliberately.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from connectors.errors import RecordError
from connectors.retry import RetryPolicy

NativeRecord = dict[str, Any]
"""A record as its system knows it: field names and values exactly as native."""

FieldType = Literal[
    "string", "text", "id", "reference", "integer", "decimal", "boolean", "date", "datetime",
    "time", "picklist", "multipicklist", "email", "phone", "url", "base64", "json",
]
CursorValue = datetime | int | Decimal | str


class FieldSpec(BaseModel):
    """One native field: its type and what reconciliation and writes must know about it."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: FieldType = "string"
    nullable: bool = True
    length: int | None = None
    formula: bool = False  # computed by the system: may change without touching the cursor field
    picklist_values: tuple[str, ...] | None = None  # allowed values, for picklists
    restricted: bool = False  # a picklist that rejects values outside picklist_values
    reference_to: tuple[str, ...] = ()  # target objects of a reference field
    external_id: bool = False
    writable: bool = True


class StreamSpec(BaseModel):
    """A stream a connector offers: a Salesforce object, a table, a file, an API resource."""

    model_config = ConfigDict(frozen=True)

    name: str
    primary_key: tuple[str, ...]
    cursor_field: str | None = None
    fields: tuple[FieldSpec, ...] = ()
    supports_deletes: bool = False

    def field(self, name: str) -> FieldSpec | None:
        """The field called ``name``, or None."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def external_id_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.external_id)


class Capabilities(BaseModel):
    """What a connector can do; the orchestrator plans around these, never around its class."""

    model_config = ConfigDict(frozen=True)

    incremental: bool = False
    upsert: bool = False
    deletes: bool = False
    bulk: bool = False
    checksums: bool = False
    ranges: bool = False
    max_batch: int = 1000


class Cursor(BaseModel):
    """Where a read got to: the cursor field's value plus the keys already emitted at that value.

    Reads use a closed lower bound (``>= value``) and skip ``seen_keys``, so records that share the
    boundary value are re-read and de-duplicated, never skipped. ``extra`` holds connector-private
    resumption data (a bulk job locator); it must be JSON-serialisable.
    """

    model_config = ConfigDict(frozen=True)

    value: CursorValue | None = None
    seen_keys: tuple[str, ...] = ()
    extra: dict[str, Any] = {}

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Cursor | None:
        return None if data is None else cls.model_validate(data)


class KeyRange(BaseModel):
    """Half-open range of primary-key values ``[start, end)``; None means unbounded."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["key"] = "key"
    start: str | int | None = None
    end: str | int | None = None


class TimeWindow(BaseModel):
    """Half-open window ``[start, end)`` over the stream's cursor field."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["time"] = "time"
    start: datetime | None = None
    end: datetime | None = None


ReadRange = KeyRange | TimeWindow


@dataclass(slots=True)
class Batch:
    """One batch of a read: records, keys deleted at the source, bad records, and the cursor after them."""

    records: list[NativeRecord]
    cursor: Cursor | None = None
    tombstones: list[str] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    # Deleted rows as the source still holds them, where it does (Salesforce's recycle bin keeps a merge
    # loser's MasterRecordId): reconciliation reads them; their keys are in ``tombstones`` as well.
    deleted_records: list[NativeRecord] = field(default_factory=list)


@dataclass(slots=True)
class RecordResult:
    """The outcome of writing one record (by position in the written sequence)."""

    index: int
    key: str | None = None  # native id after the write (e.g. the Salesforce Id created)
    created: bool | None = None
    error: RecordError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class WriteResult:
    """Per-record results of a write, plus per-key results of deletes."""

    results: list[RecordResult] = field(default_factory=list)
    deleted: list[RecordResult] = field(default_factory=list)

    @property
    def failed(self) -> list[RecordResult]:
        return [r for r in self.results + self.deleted if r.error is not None]


@dataclass(slots=True, frozen=True)
class CheckItem:
    """One thing ``check()`` tried: a login, a permission, a table. ``reason`` says why it failed."""

    name: str
    ok: bool
    reason: str = ""


@dataclass(slots=True)
class CheckReport:
    items: list[CheckItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.items)


@dataclass(slots=True, frozen=True)
class RangeChecksum:
    """Count and order-independent hash of a key range, computed where the data lives."""

    count: int
    digest: str


@runtime_checkable
class Connector(Protocol):
    """What every connector implements. ``type_name`` is the entry-point name."""

    type_name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    capabilities: Capabilities

    def check(self) -> CheckReport: ...

    def discover(self) -> list[StreamSpec]: ...

    def read(
        self, stream: str, cursor: Cursor | None = None, range: ReadRange | None = None
    ) -> Iterator[Batch]: ...

    def write(
        self,
        stream: str,
        records: Sequence[NativeRecord],
        deletes: Sequence[str] = (),
        upsert_key: str | None = None,
    ) -> WriteResult: ...

    def close(self) -> None: ...


@runtime_checkable
class ChecksumConnector(Connector, Protocol):
    """A connector that can hash key ranges in place (for mirrors of the same shape)."""

    def range_checksums(
        self, stream: str, columns: Sequence[str], ranges: Sequence[KeyRange]
    ) -> list[RangeChecksum]: ...


class ConnectorFactory(Protocol):
    """A connector class as registered: constructed from its config and a retry policy."""

    type_name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]

    def __call__(self, config: Any, retry: RetryPolicy) -> Connector: ...
