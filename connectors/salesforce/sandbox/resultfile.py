"""Bulk query results on disk: CSV line files plus row-offset indexes, served as byte ranges.

A result is one or more parts (several when the job was written by parallel workers, each over its own
rowid range), each a file of ready CSV lines and a sidecar of 8-byte row start offsets. Any page
(``locator`` = first row, ``maxRecords`` rows) is then a contiguous byte range of one or more parts:
serving a page copies bytes and never looks at a row.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20
_FIRST = itemgetter(0)
_FETCH = 10_000


@dataclass
class ResultPart:
    data: Path
    index: Path
    rows: int = 0
    size: int = 0

    def write(self, conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> None:
        """Run ``sql`` (one BLOB column: a whole CSV line, line ending included) and append the lines to this
        part; every step runs in C (join, lengths, running offsets)."""
        with open(self.data, "wb") as data, open(self.index, "wb") as index:
            cur = conn.execute(sql, params)
            while rows := cur.fetchmany(_FETCH):
                lines = list(map(_FIRST, rows))
                array("Q", accumulate(map(len, lines[:-1]), initial=self.size)).tofile(index)
                chunk = b"".join(lines)
                data.write(chunk)
                self.size += len(chunk)
                self.rows += len(rows)

    def offset(self, row: int) -> int:
        """Byte offset where ``row`` (0-based, local to this part) starts; the file size past the end."""
        if row >= self.rows:
            return self.size
        with open(self.index, "rb") as index:
            index.seek(row * 8)
            values = array("Q")
            values.frombytes(index.read(8))
            return int(values[0])

    def stream(self, first: int, last: int) -> Iterator[bytes]:
        """Rows ``[first, last)`` as bytes, in chunks of at most 1 MiB."""
        start, end = self.offset(first), self.offset(last)
        with open(self.data, "rb") as data:
            data.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = data.read(min(_CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    def remove(self) -> None:
        self.data.unlink(missing_ok=True)
        self.index.unlink(missing_ok=True)


@dataclass
class ResultSet:
    parts: list[ResultPart] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    def stream(self, start: int, end: int) -> Iterator[bytes]:
        """Rows ``[start, end)`` across parts, in order."""
        base = 0
        for part in self.parts:
            lo, hi = max(start - base, 0), min(end - base, part.rows)
            if lo < hi:
                yield from part.stream(lo, hi)
            base += part.rows
            if base >= end:
                return

    def remove(self) -> None:
        for part in self.parts:
            part.remove()
