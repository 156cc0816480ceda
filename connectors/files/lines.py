"""Physical lines of a file with their byte offsets and numbers, read in bounded pieces.

Everything above this works on ``Line`` values, so a cursor can say "file, byte offset, line" and
a bad line can be named by its number. A line longer than the record limit is never held whole:
it is reported as ``oversize`` with its first bytes and skipped to its end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

BOM = b"\xef\xbb\xbf"


@dataclass(slots=True, frozen=True)
class Line:
    number: int  # 1-based physical line number
    start: int  # byte offset of the first byte
    end: int  # byte offset after the terminator
    raw: bytes  # with its terminator; only the first max bytes when oversize
    oversize: bool = False


def read_lines(handle: BinaryIO, offset: int, number: int, *, max_bytes: int,
               wait_for_newline: bool) -> Iterator[Line]:
    """Lines from ``offset`` (whose line number is ``number``); ``handle`` must be at ``offset``."""
    position = offset
    while True:
        raw = handle.readline(max_bytes + 1)
        if not raw:
            return
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            end = position + len(raw) + _skip_to_newline(handle, max_bytes)
            yield Line(number, position, end, raw[:max_bytes], oversize=True)
            position, number = end, number + 1
            continue
        if wait_for_newline and not raw.endswith(b"\n"):
            return  # the writer has not finished this line: leave it for the next read
        if position == 0 and raw.startswith(BOM):
            raw, position = raw[len(BOM):], len(BOM)
        yield Line(number, position, position + len(raw), raw)
        position, number = position + len(raw), number + 1


def _skip_to_newline(handle: BinaryIO, size: int) -> int:
    skipped = 0
    while piece := handle.readline(size):
        skipped += len(piece)
        if piece.endswith(b"\n"):
            break
    return skipped


class Pushback:
    """An iterator of lines that can be given lines back (to re-parse after giving up on a record)."""

    def __init__(self, lines: Iterable[Line]) -> None:
        self._lines = iter(lines)
        self._back: deque[Line] = deque()

    def __iter__(self) -> Iterator[Line]:
        return self

    def __next__(self) -> Line:
        return self._back.popleft() if self._back else next(self._lines)

    def give_back(self, lines: Iterable[Line]) -> None:
        self._back.extendleft(reversed(list(lines)))
