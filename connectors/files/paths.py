"""Which files a stream is, in which order, and how a file is recognised again after a restart."""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from connectors.files.config import FileStreamConfig

GLOB_CHARS = frozenset("*?[")
FINGERPRINT_BYTES = 4096


@dataclass(frozen=True, slots=True)
class StreamFiles:
    """The files of a stream, sorted by their name relative to ``root`` (the cursor's file name)."""

    root: Path
    single: Path | None  # the one file of a file stream (which may not exist yet)
    pattern: str

    def files(self) -> list[tuple[str, Path]]:
        if self.single is not None:
            return [(self.single.name, self.single)] if self.single.is_file() else []
        matches = glob.glob(self.pattern, root_dir=self.root, recursive=True)
        found = [(Path(m).as_posix(), self.root / m) for m in matches]
        return sorted((name, path) for name, path in found if path.is_file())


def stream_files(config: FileStreamConfig, base_dir: str | None, default_pattern: str) -> StreamFiles:
    path = Path(config.path)
    if not path.is_absolute():
        path = Path(base_dir or os.getcwd()) / path
    parts = path.parts
    wild = next((i for i, part in enumerate(parts) if GLOB_CHARS & set(part)), None)
    if wild is not None:
        return StreamFiles(Path(*parts[:wild]), None, str(Path(*parts[wild:])))
    if path.is_dir():
        return StreamFiles(path, None, config.pattern or default_pattern)
    return StreamFiles(path.parent, path, path.name)


def fingerprint(fd: int, length: int) -> str:
    """A hash of a file's first bytes (up to 4 KiB): tells an appended file from a replaced one."""
    head = os.pread(fd, min(length, FINGERPRINT_BYTES), 0)
    return hashlib.blake2b(head, digest_size=8).hexdigest()
