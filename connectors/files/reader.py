"""Reading a stream of files in batches, with a cursor of file, byte offset and line.

Files are read in name order; a cursor names the file and the offset after the last record handed
out, so an append-only file (or a directory that gains files whose names sort later) is read
incrementally. The cursor also keeps the file's inode and a hash of its first bytes: a file that
was replaced (rotated, rewritten by an upsert) is read again from its start rather than from an
offset that no longer means anything. One batch is the unit the retry policy repeats: a failure
reopens the file at the last committed position.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import structlog

from connectors.base import Batch, Cursor, NativeRecord
from connectors.errors import ConfigurationError, RecordError
from connectors.files.errors import translate
from connectors.files.formats import Parsed, RecordFormat
from connectors.files.lines import read_lines
from connectors.files.paths import fingerprint
from connectors.retry import RetryPolicy

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class FilePosition:
    """Where a read got to: a file, the byte offset and line number that come next."""

    file: str
    offset: int
    line: int
    inode: int = 0
    fingerprint: str = ""

    def cursor(self) -> Cursor:
        return Cursor(value=self.file, extra={"offset": self.offset, "line": self.line, "inode": self.inode,
                                              "fingerprint": self.fingerprint})

    @classmethod
    def from_cursor(cls, cursor: Cursor | None) -> FilePosition | None:
        if cursor is None or cursor.value is None:
            return None
        try:
            extra = cursor.extra
            return cls(str(cursor.value), int(extra["offset"]), int(extra.get("line", 1)),
                       int(extra.get("inode", 0)), str(extra.get("fingerprint", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError("files: the cursor is not one this connector wrote") from exc


class FileScan:
    """The files of one read and the committed position; ``next_batch`` is retried as a unit.

    The committed position (``index``, ``offset``, ``line``) moves only when a batch is complete;
    the open file (``_at``) runs ahead of it while a batch fills, and is dropped on a failure.
    """

    def __init__(self, fmt: RecordFormat, files: list[tuple[str, Path]], start: FilePosition | None,
                 batch_size: int, max_bytes: int, wait_for_newline: bool) -> None:
        self.fmt, self.files, self.batch_size = fmt, files, batch_size
        self.max_bytes, self.wait = max_bytes, wait_for_newline
        self.index, self.offset, self.line = self._resume(start)
        self._at: int | None = None
        self._handle: IO[bytes] | None = None
        self._items: Iterator[Parsed] | None = None

    def _resume(self, start: FilePosition | None) -> tuple[int, int, int]:
        """File index, offset and line to start from; a replaced cursor file is read from its start."""
        if start is None:
            return 0, 0, 1
        index = next((i for i, (name, _) in enumerate(self.files) if name >= start.file), len(self.files))
        if index == len(self.files) or self.files[index][0] != start.file:
            return index, 0, 1
        path = self.files[index][1]
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                same = (stat.st_ino == start.inode and stat.st_size >= start.offset
                        and fingerprint(handle.fileno(), start.offset) == start.fingerprint)
        except OSError as exc:
            raise translate(exc, f"files: open {start.file}") from exc
        if not same:
            log.info("files.read.file_replaced", file=start.file)
            return index, 0, 1
        return index, start.offset, start.line

    def next_batch(self) -> Batch | None:
        records: list[NativeRecord] = []
        errors: list[RecordError] = []
        end: tuple[int, int, int] | None = None
        try:
            while len(records) + len(errors) < self.batch_size:
                item = self._next_item()
                if item is None:
                    break
                if item.record is not None:
                    records.append(item.record)
                elif item.error is not None:
                    errors.append(item.error)
                assert self._at is not None
                end = (self._at, item.end, item.last_line + 1)
            if end is None:
                return None
            self.index, self.offset, self.line = end
            return Batch(records=records, errors=errors, cursor=self._position().cursor())
        except OSError as exc:
            self.close()  # the retry reopens at the committed position
            raise translate(exc, f"files: read {self._name()}") from exc

    def _next_item(self) -> Parsed | None:
        while True:
            if self._items is None:
                if self._at is None:
                    self._at = self.index
                if self._at >= len(self.files):
                    return None
                self._open(self._at)
            assert self._items is not None and self._at is not None
            item = next(self._items, None)
            if item is not None or self._at + 1 >= len(self.files):
                return item
            self._close_file()
            self._at += 1

    def _open(self, at: int) -> None:
        name, path = self.files[at]
        self._handle = path.open("rb")
        start = self.fmt.start(self._handle, name)
        offset, line = (self.offset, self.line) if at == self.index else (0, 1)
        if offset < start.offset:
            offset, line = start.offset, start.line
        self._handle.seek(offset)
        lines = read_lines(self._handle, offset, line, max_bytes=self.max_bytes, wait_for_newline=self.wait)
        self._items = self.fmt.parse(lines, start, name)

    def _position(self) -> FilePosition:
        name, path = self.files[self.index]
        handle: Any = self._handle
        if handle is not None and self._at == self.index:
            return FilePosition(name, self.offset, self.line, os.fstat(handle.fileno()).st_ino,
                                fingerprint(handle.fileno(), self.offset))
        with path.open("rb") as fresh:
            return FilePosition(name, self.offset, self.line, os.fstat(fresh.fileno()).st_ino,
                                fingerprint(fresh.fileno(), self.offset))

    def _name(self) -> str:
        at = self._at if self._at is not None else self.index
        return self.files[at][0] if at < len(self.files) else "(end)"

    def _close_file(self) -> None:
        handle, self._handle, self._items = self._handle, None, None
        if handle is not None:
            handle.close()

    def close(self) -> None:
        self._close_file()
        self._at = None


def read_batches(fmt: RecordFormat, files: list[tuple[str, Path]], cursor: Cursor | None, retry: RetryPolicy,
                 batch_size: int, max_bytes: int, wait_for_newline: bool) -> Iterator[Batch]:
    """Batches from the cursor on; each carries the position after its last record or bad line."""
    scan = FileScan(fmt, files, FilePosition.from_cursor(cursor), batch_size, max_bytes, wait_for_newline)
    try:
        while (batch := retry.call(scan.next_batch)) is not None:
            yield batch
    finally:
        scan.close()
