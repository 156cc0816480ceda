"""Writing a file stream: append lines, or upsert by rewriting into a new file swapped in atomically.

``append`` adds one line per record at the end (created=True for each; no deletes). If writing
fails midway the file is cut back to its old size, so a retry never duplicates lines.
``upsert`` streams the current file into a temporary file next to it: a record whose key is
written replaces the first record with that key (fields merged, later duplicates dropped), a
deleted key's records are left out, every other line (bad lines included) is copied byte for
byte, and new keys are appended at the end; then the temporary file replaces the old one with
os.replace, so readers see the old file or the new one, never half of either. Cost: one pass over
the file per write call; memory: the records of the call.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from connectors.base import NativeRecord, RecordResult, WriteResult
from connectors.errors import ConnectorError, RecordError
from connectors.files.errors import translate
from connectors.files.formats import FileStart, RecordFormat
from connectors.files.lines import read_lines
from connectors.retry import RetryPolicy


def key_of(record: NativeRecord, key: Sequence[str]) -> str | None:
    """A record's key as text (a JSON array for a composite key); None when a part is missing."""
    values = [record.get(k) for k in key]
    if any(v is None or v == "" for v in values):
        return None
    return str(values[0]) if len(values) == 1 else json.dumps([str(v) for v in values])


@dataclass
class _Pending:
    """The records of one write call, merged by key in order (the last one wins field by field)."""

    order: list[str] = field(default_factory=list)
    merged: dict[str, NativeRecord] = field(default_factory=dict)
    indexes: dict[str, list[int]] = field(default_factory=dict)

    def add(self, key: str, index: int, record: NativeRecord) -> None:
        if key not in self.merged:
            self.order.append(key)
            self.merged[key], self.indexes[key] = dict(record), []
        else:
            self.merged[key].update(record)
        self.indexes[key].append(index)


class FileWriter:
    """Writes one single-file stream."""

    def __init__(self, fmt: RecordFormat, path: Path, name: str, key: Sequence[str], columns: Sequence[str] | None,
                 *, mode: str, retry: RetryPolicy, fsync: bool, max_bytes: int) -> None:
        self.fmt, self.path, self.name, self.key = fmt, path, name, tuple(key)
        self.columns, self.mode, self.retry, self.fsync, self.max_bytes = columns, mode, retry, fsync, max_bytes

    def write(self, records: Sequence[NativeRecord], deletes: Sequence[str], upsert_key: str | None) -> WriteResult:
        key = (upsert_key,) if upsert_key else self.key
        results: dict[int, RecordResult] = {}
        pending = _Pending()
        columns = self._columns(records)
        for index, record in enumerate(records):
            error = self._check(record, key, columns)
            if error is not None:
                results[index] = RecordResult(index, error=error)
            else:
                pending.add(key_of(record, key) or "", index, record)
        if self.mode == "append":
            return self._append(records, deletes, pending, results, columns)
        created = self.retry.call(self._rewrite, pending, set(deletes), key, columns) if pending.order or deletes \
            else set()
        for k in pending.order:
            for n, index in enumerate(pending.indexes[k]):
                results[index] = RecordResult(index, key=k, created=(k in created) if n == 0 else False)
        return WriteResult([results[i] for i in range(len(records))],
                           [RecordResult(i, key=k) for i, k in enumerate(deletes)])

    def _columns(self, records: Sequence[NativeRecord]) -> list[str] | None:
        """CSV columns: configured, else the file's header, else the fields of these records in order."""
        if self.columns:
            return list(self.columns)
        if not self.fmt.columnar:
            return None  # JSON Lines: each record has its own fields
        start = self._start()
        if start.columns:
            return list(start.columns)
        names = dict.fromkeys(self.key)
        for record in records:
            names.update(dict.fromkeys(record))
        return list(names)

    def _check(self, record: NativeRecord, key: Sequence[str], columns: list[str] | None) -> RecordError | None:
        if key_of(record, key) is None:
            return RecordError("missing_key", "key field missing", fields=tuple(key), payload=record)
        if columns is not None:
            unknown = tuple(f for f in record if f not in columns)
            if unknown:
                return RecordError("unknown_field", "fields not among the file's columns", fields=unknown,
                                   payload=record)
        return None

    def _start(self) -> FileStart:
        try:
            with self.path.open("rb") as handle:
                return self.fmt.start(handle, self.name)
        except FileNotFoundError:
            return self.fmt.start(io.BytesIO(), self.name)  # a new file: the configured terminator
        except OSError as exc:
            raise translate(exc, f"files: open {self.name}") from exc

    # -- append ----------------------------------------------------------------------------------

    def _append(self, records: Sequence[NativeRecord], deletes: Sequence[str], pending: _Pending,
                results: dict[int, RecordResult], columns: list[str] | None) -> WriteResult:
        good = sorted((i, k) for k in pending.order for i in pending.indexes[k])
        self.retry.call(self._append_lines, [records[i] for i, _ in good], columns)
        for index, k in good:
            results[index] = RecordResult(index, key=k, created=True)
        refused = [RecordResult(i, key=k, error=RecordError("unsupported", "an append-only stream cannot delete",
                                                              key=k)) for i, k in enumerate(deletes)]
        return WriteResult([results[i] for i in range(len(records))], refused)

    def _append_lines(self, records: list[NativeRecord], columns: list[str] | None) -> None:
        start = self._start()
        try:
            with self.path.open("ab") as out:
                size = out.seek(0, os.SEEK_END)
                try:
                    out.write(self._lines(records, columns, start, size))
                    self._flush(out)
                except OSError:
                    out.truncate(size)  # a retry must not find half of this write
                    raise
        except OSError as exc:
            raise translate(exc, f"files: append to {self.name}") from exc

    def _lines(self, records: list[NativeRecord], columns: list[str] | None, start: FileStart, size: int) -> bytes:
        parts = []
        if size == 0 and columns is not None:
            parts.append(self.fmt.header(columns, start.terminator))
        elif size and not self._ends_with_newline():
            parts.append(start.terminator)
        parts.extend(self.fmt.encode(r, columns, start.terminator) for r in records)
        return b"".join(parts)

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    # -- upsert ----------------------------------------------------------------------------------

    def _rewrite(self, pending: _Pending, deletes: set[str], key: Sequence[str], columns: list[str] | None) -> set[str]:
        """Stream old file + changes into a temporary file and swap it in; returns the keys created."""
        temp = self.path.with_name(f".{self.path.name}.crmsync-{uuid.uuid4().hex[:8]}.tmp")
        try:
            with temp.open("wb") as out:
                seen = self._copy_merging(out, pending, deletes, key, columns)
                created = [k for k in pending.order if k not in seen]
                terminator = self._start().terminator
                out.write(b"".join(self.fmt.encode(pending.merged[k], columns, terminator) for k in created))
                self._flush(out)
            os.replace(temp, self.path)
            self._sync_directory()
            return set(created)
        except ConnectorError:
            raise
        except OSError as exc:
            raise translate(exc, f"files: rewrite {self.name}") from exc
        finally:
            temp.unlink(missing_ok=True)

    def _copy_merging(self, out: IO[bytes], pending: _Pending, deletes: set[str], key: Sequence[str],
                      columns: list[str] | None) -> set[str]:
        """Copy the current file into ``out`` with pending records merged in; the keys it already had."""
        seen: set[str] = set()
        try:
            source = self.path.open("rb")
        except FileNotFoundError:
            if columns is not None:
                out.write(self.fmt.header(columns, self._start().terminator))
            return seen
        with source:
            start = self.fmt.start(source, self.name)
            source.seek(0)
            out.write(source.read(start.offset))  # the header, byte for byte
            if start.offset == 0 and columns is not None:
                out.write(self.fmt.header(columns, start.terminator))  # b"" unless the format has headers
            source.seek(start.offset)
            lines = read_lines(source, start.offset, start.line, max_bytes=self.max_bytes, wait_for_newline=False)
            for item in self.fmt.parse(lines, start, self.name):
                k = key_of(item.record, key) if item.record is not None else None
                if k is None:
                    out.write(_terminated(item.raw, start.terminator))
                elif k in deletes or k in seen and k in pending.merged:
                    continue
                elif k in pending.merged:
                    seen.add(k)
                    merged: dict[str, Any] = {**(item.record or {}), **pending.merged[k]}
                    out.write(self.fmt.encode(merged, columns, start.terminator))
                else:
                    out.write(_terminated(item.raw, start.terminator))
        return seen

    def _flush(self, out: IO[bytes]) -> None:
        out.flush()
        if self.fsync:
            os.fsync(out.fileno())

    def _sync_directory(self) -> None:
        """Make the rename itself durable (POSIX: fsync the directory)."""
        if not self.fsync:
            return
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _terminated(raw: bytes, terminator: bytes) -> bytes:
    return raw if raw.endswith(b"\n") else raw + terminator
