"""The CSV and JSON Lines connectors: files, directories and globs as streams.

Entry points ``csv`` and ``jsonl`` (one class each, sharing this implementation, so crmsync.yaml
says ``type: csv`` and gets only CSV options). Reads stream the files in name order with a cursor
of file + byte offset + line; writes append or upsert (see connectors/files/writer.py).
"""

from __future__ import annotations

import itertools
import os
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
from connectors.files.config import CsvConfig, CsvStreamConfig, FileStreamConfig, JsonlConfig
from connectors.files.formats import CsvFormat, JsonlFormat, RecordFormat
from connectors.files.paths import StreamFiles, stream_files
from connectors.files.reader import read_batches
from connectors.files.writer import FileWriter
from connectors.retry import RetryPolicy

SAMPLE = 200  # JSON Lines records looked at to describe a stream's fields


class _FilesConnector:
    """Shared implementation; subclasses fix the format."""

    type_name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]

    def __init__(self, config: CsvConfig | JsonlConfig, retry: RetryPolicy) -> None:
        self.config, self.retry = config, retry
        upsert = config.write_mode == "upsert"
        self.capabilities = Capabilities(incremental=True, upsert=upsert, deletes=upsert, max_batch=config.batch_size)

    def _format(self, settings: FileStreamConfig) -> RecordFormat:
        raise NotImplementedError

    def _settings(self, stream: str) -> FileStreamConfig:
        streams: dict[str, Any] = dict(self.config.streams)
        if stream not in streams:
            raise ConfigurationError(f"{self.type_name}: no stream {stream!r} configured (have {sorted(streams)})")
        return streams[stream]

    def _files(self, settings: FileStreamConfig) -> StreamFiles:
        return stream_files(settings, self.config.base_dir, self._format(settings).default_pattern)

    def check(self) -> CheckReport:
        items = []
        for name in self.config.streams:
            try:
                items.append(self._check_stream(name))
            except ConnectorError as exc:
                items.append(CheckItem(f"stream {name}", False, str(exc)))
        return CheckReport(items)

    def _check_stream(self, name: str) -> CheckItem:
        files = self._files(self._settings(name))
        label = f"stream {name} ({files.single or files.root / files.pattern})"
        if files.single is not None and files.single.exists():
            readable = os.access(files.single, os.R_OK)
            return CheckItem(label, readable, "" if readable else "file not readable")
        if files.single is not None:
            writable = os.access(files.root, os.W_OK)
            return CheckItem(label, writable, "" if writable else "file missing and its directory not writable")
        exists = files.root.is_dir()
        return CheckItem(label, exists, "" if exists else f"directory {files.root} not found")

    def discover(self) -> list[StreamSpec]:
        return [self._spec(name) for name in self.config.streams]

    def _spec(self, name: str) -> StreamSpec:
        settings = self._settings(name)
        string: FieldType = "string"
        fields = dict.fromkeys(settings.primary_key, string)
        fields.update(self._sample_fields(name, settings))
        specs = tuple(FieldSpec(name=f, type=t, nullable=f not in settings.primary_key) for f, t in fields.items())
        return StreamSpec(name=name, primary_key=settings.primary_key, fields=specs,
                          supports_deletes=self.capabilities.deletes)

    def _sample_fields(self, name: str, settings: FileStreamConfig) -> dict[str, FieldType]:
        if isinstance(settings, CsvStreamConfig):
            if settings.columns:
                return dict.fromkeys(settings.columns, "string")
            files = self._files(settings).files()
            if not files:
                return {}
            with files[0][1].open("rb") as handle:
                start = self._format(settings).start(handle, files[0][0])
            return dict.fromkeys(start.columns or (), "string")
        found: dict[str, FieldType] = {}
        records = (r for b in self.read(name) for r in b.records)
        for record in itertools.islice(records, SAMPLE):
            for field, value in record.items():
                kind = _json_type(value)
                if value is not None:
                    found[field] = kind if found.get(field, kind) == kind else "string"
                else:
                    found.setdefault(field, "string")
        return found

    def read(self, stream: str, cursor: Cursor | None = None, range: ReadRange | None = None) -> Iterator[Batch]:
        if range is not None:
            raise ConfigurationError(f"{self.type_name}: streams cannot be read by key range or time window")
        settings = self._settings(stream)
        files = self._files(settings).files()
        return read_batches(self._format(settings), files, cursor, self.retry, self.config.batch_size,
                            self.config.max_record_bytes, self.config.wait_for_newline)

    def write(self, stream: str, records: Sequence[NativeRecord], deletes: Sequence[str] = (),
              upsert_key: str | None = None) -> WriteResult:
        settings = self._settings(stream)
        files = self._files(settings)
        if files.single is None:
            raise ConfigurationError(f"{self.type_name}: stream {stream!r} is a directory or glob; write to one file")
        columns = settings.columns if isinstance(settings, CsvStreamConfig) else None
        writer = FileWriter(self._format(settings), files.single, files.single.name, settings.primary_key, columns,
                            mode=self.config.write_mode, retry=self.retry, fsync=self.config.fsync,
                            max_bytes=self.config.max_record_bytes)
        return writer.write(records, deletes, upsert_key)

    def close(self) -> None:
        """Nothing held open between calls."""


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


class CsvConnector(_FilesConnector):
    """CSV files (entry point ``csv``); every value is read as text, None for configured null texts."""

    type_name: ClassVar[str] = "csv"
    config_model: ClassVar[type[BaseModel]] = CsvConfig

    def _format(self, settings: FileStreamConfig) -> RecordFormat:
        assert isinstance(settings, CsvStreamConfig)
        return CsvFormat(settings, self.config.max_record_bytes)


class JsonlConnector(_FilesConnector):
    """JSON Lines files (entry point ``jsonl``): one object per line, values as JSON types."""

    type_name: ClassVar[str] = "jsonl"
    config_model: ClassVar[type[BaseModel]] = JsonlConfig

    def _format(self, settings: FileStreamConfig) -> RecordFormat:
        return JsonlFormat(settings, self.config.max_record_bytes)
