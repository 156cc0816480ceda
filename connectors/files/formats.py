"""CSV and JSON Lines: turning physical lines into records (or record errors) and records into bytes.

A ``Parsed`` item keeps the raw bytes of its lines, so an upsert rewrite copies every record it
does not change (bad lines included) byte for byte. CSV records may span lines inside quotes; a
quote that never closes is given up on after ``max_record_bytes``: its first line becomes an error
and the lines after it are parsed again, so one stray quote costs one record, not the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, BinaryIO, Protocol

import orjson

from connectors.base import NativeRecord
from connectors.errors import RecordError, StreamError
from connectors.files.config import CsvStreamConfig, FileStreamConfig
from connectors.files.errors import bad_line
from connectors.files.lines import Line, Pushback, read_lines


@dataclass(slots=True)
class Parsed:
    """One record or one bad record, where it ends, and its raw bytes."""

    record: NativeRecord | None
    error: RecordError | None
    line: int  # first physical line
    last_line: int
    end: int  # byte offset after it
    raw: bytes
    cells: list[str] | None = None  # a CSV row before its cells are named


@dataclass(slots=True, frozen=True)
class FileStart:
    """Where records of a file begin (after a CSV header) and the columns they have."""

    columns: tuple[str, ...] | None
    offset: int
    line: int
    terminator: bytes = b"\n"


class RecordFormat(Protocol):
    """What the reader and writer need from a file format."""

    default_pattern: str
    columnar: bool  # records share one list of columns (CSV), or each has its own fields (JSON Lines)

    def start(self, handle: BinaryIO, path: str) -> FileStart: ...

    def parse(self, lines: Iterator[Line], start: FileStart, path: str) -> Iterator[Parsed]: ...

    def header(self, columns: Sequence[str], terminator: bytes) -> bytes: ...

    def encode(self, record: NativeRecord, columns: Sequence[str] | None, terminator: bytes) -> bytes: ...


def text_of(value: Any) -> Any:
    """A JSON/CSV-friendly form of values that came from other systems (dates, decimals)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


def _dialect(options: CsvStreamConfig, *, strict: bool) -> type[csv.Dialect]:
    attributes = {"delimiter": options.delimiter, "quotechar": options.quotechar, "escapechar": options.escapechar,
                  "doublequote": options.doublequote, "skipinitialspace": False, "lineterminator": "\r\n",
                  "quoting": csv.QUOTE_MINIMAL, "strict": strict}
    return type("CrmsyncDialect", (csv.Dialect,), attributes)


class _Feed:
    """The single-string input of one persistent csv.reader (cheaper than a reader per record)."""

    def __init__(self) -> None:
        self.text: str | None = None

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        text, self.text = self.text, None
        if text is None:
            raise StopIteration
        return text


class CsvFormat:
    """RFC 4180 CSV with Python's csv dialect options; every value read is a string (or None)."""

    default_pattern = "*.csv"
    columnar = True

    def __init__(self, options: CsvStreamConfig, max_record_bytes: int) -> None:
        self.options, self.max_bytes = options, max_record_bytes
        self.encoding = options.encoding
        self._dialect = _dialect(options, strict=False)
        self._strict = _dialect(options, strict=True)
        self._feed = _Feed()
        self._reader = csv.reader(self._feed, self._dialect)
        self._nulls = frozenset(options.null_values)

    def start(self, handle: BinaryIO, path: str) -> FileStart:
        handle.seek(0)
        first = handle.readline(self.max_bytes)
        terminator = b"\r\n" if first.endswith(b"\r\n") else b"\n" if first else self.options.line_terminator.encode()
        handle.seek(0)
        if not self.options.header:
            return FileStart(self.options.columns, 0, 1, terminator)
        lines = read_lines(handle, 0, 1, max_bytes=self.max_bytes, wait_for_newline=False)
        for item in self._records(Pushback(lines), path):
            if item.error is not None:
                raise StreamError(f"{path}: the header cannot be read ({item.error.code})")
            names = tuple(item.cells or ())
            if not self.options.columns and (len(set(names)) != len(names) or "" in names):
                raise StreamError(f"{path}: the header has empty or repeated column names")
            return FileStart(self.options.columns or names, item.end, item.last_line + 1, terminator)
        return FileStart(self.options.columns, 0, 1, terminator)  # an empty file: no header yet

    def parse(self, lines: Iterator[Line], start: FileStart, path: str) -> Iterator[Parsed]:
        columns = start.columns or ()
        for item in self._records(Pushback(lines), path):
            if item.error is not None or item.cells is None:
                yield item
                continue
            row = item.cells
            if len(row) != len(columns):
                error = bad_line("bad_csv_line", f"expected {len(columns)} fields, found {len(row)}",
                                 [Line(item.line, 0, 0, item.raw)], self.encoding, path)
                yield Parsed(None, error, item.line, item.last_line, item.end, item.raw)
                continue
            nulls = self._nulls
            item.record = {c: (None if v in nulls else v) for c, v in zip(columns, row, strict=True)}
            item.cells = None
            yield item

    def _records(self, lines: Pushback, path: str) -> Iterator[Parsed]:
        """Rows as ``Parsed`` with unnamed ``cells`` (column names come later) or an error."""
        pending: list[Line] = []
        size = 0
        while True:
            line = next(lines, None)
            if line is None:
                if not pending:
                    return
                yield self._give_up(pending, lines, path)  # end of file inside a quoted field
                pending, size = [], 0
                continue
            if not pending and not line.oversize and not line.raw.strip():
                continue  # blank line between records
            if line.oversize or size + len(line.raw) > self.max_bytes:
                yield self._give_up(pending + [line], lines, path)
                pending, size = [], 0
                continue
            pending.append(line)
            size += len(line.raw)
            raw = line.raw if len(pending) == 1 else b"".join(p.raw for p in pending)
            try:
                text: str | None = raw.decode(self.encoding)
            except UnicodeDecodeError:
                text = None
            state = self._state(text) if text is not None else "complete"
            if state == "open":
                continue
            if state == "malformed" and len(pending) > 1:  # lines joined by a stray quote: not one record
                yield self._give_up(pending, lines, path)
            else:
                yield self._row(pending, raw, text, path)
            pending, size = [], 0

    def _give_up(self, pending: list[Line], lines: Pushback, path: str) -> Parsed:
        """Report the first line of a record that never closed; the lines after it are parsed again."""
        first = pending[0]
        code, message = ("record_too_large", "line longer than max_record_bytes") if first.oversize else (
            "bad_csv_line", "quoted field never closed")
        error = bad_line(code, message, [first], self.encoding, path)
        lines.give_back(pending[1:])
        return Parsed(None, error, first.number, first.number, first.end, first.raw)

    def _state(self, text: str) -> str:
        """``open`` inside a quoted field, ``malformed`` if strict CSV refuses it, else ``complete``.

        Counting quotes is the fast path; only an odd count is confirmed by a strict parse.
        """
        quote = self.options.quotechar
        escape = self.options.escapechar
        counted = text.replace(escape + quote, "") if escape else text
        if counted.count(quote) % 2 == 0:
            return "complete"
        try:
            list(csv.reader([text], self._strict))
        except csv.Error as exc:
            return "open" if "unexpected end of data" in str(exc) else "malformed"
        return "complete"

    def _row(self, pending: list[Line], raw: bytes, text: str | None, path: str) -> Parsed:
        first, last = pending[0], pending[-1]
        if text is None:
            error = bad_line("undecodable", f"bytes that are not {self.encoding}", pending, self.encoding, path)
            return Parsed(None, error, first.number, last.number, last.end, raw)
        self._feed.text = text
        try:
            cells = next(self._reader)
        except (csv.Error, StopIteration) as exc:
            error = bad_line("bad_csv_line", str(exc) or "unparseable", pending, self.encoding, path)
            return Parsed(None, error, first.number, last.number, last.end, raw)
        return Parsed(None, None, first.number, last.number, last.end, raw, cells)

    def header(self, columns: Sequence[str], terminator: bytes) -> bytes:
        return self._line(list(columns), terminator) if self.options.header else b""

    def encode(self, record: NativeRecord, columns: Sequence[str] | None, terminator: bytes) -> bytes:
        assert columns is not None
        null = self.options.null_values[0] if self.options.null_values else ""
        return self._line([null if record.get(c) is None else text_of(record[c]) for c in columns], terminator)

    def _line(self, cells: list[Any], terminator: bytes) -> bytes:
        out = io.StringIO()
        csv.writer(out, self._dialect, lineterminator=terminator.decode()).writerow(cells)
        return out.getvalue().encode(self.encoding)


class JsonlFormat:
    """One JSON object per line; blank lines are skipped."""

    default_pattern = "*.jsonl"
    columnar = False

    def __init__(self, options: FileStreamConfig, max_record_bytes: int) -> None:
        self.encoding, self.max_bytes = options.encoding, max_record_bytes
        self._utf8 = options.encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig")

    def start(self, handle: BinaryIO, path: str) -> FileStart:
        return FileStart(None, 0, 1)

    def parse(self, lines: Iterator[Line], start: FileStart, path: str) -> Iterator[Parsed]:
        for line in lines:
            if line.oversize:
                error = bad_line("record_too_large", "line longer than max_record_bytes", [line], self.encoding, path)
                yield Parsed(None, error, line.number, line.number, line.end, line.raw)
                continue
            body = line.raw.strip()
            if not body:
                continue
            try:
                value = orjson.loads(body if self._utf8 else body.decode(self.encoding))
            except (orjson.JSONDecodeError, UnicodeDecodeError) as exc:
                code = "undecodable" if isinstance(exc, UnicodeDecodeError) or "utf-8" in str(exc).lower() else (
                    "bad_json_line")
                error = bad_line(code, "not a JSON value" if code == "bad_json_line" else "bytes that do not decode",
                                 [line], self.encoding, path)
                yield Parsed(None, error, line.number, line.number, line.end, line.raw)
                continue
            if not isinstance(value, dict):
                error = bad_line("not_an_object", "a JSON value that is not an object", [line], self.encoding, path)
                yield Parsed(None, error, line.number, line.number, line.end, line.raw)
                continue
            yield Parsed(value, None, line.number, line.number, line.end, line.raw)

    def header(self, columns: Sequence[str], terminator: bytes) -> bytes:
        return b""

    def encode(self, record: NativeRecord, columns: Sequence[str] | None, terminator: bytes) -> bytes:
        body = orjson.dumps(record, default=_json_default)
        return body + terminator if self._utf8 else body.decode().encode(self.encoding) + terminator


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)  # Decimal and other exact values keep their text
