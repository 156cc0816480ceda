"""Validated settings of the CSV and JSON Lines connectors (entry points ``csv`` and ``jsonl``)."""

from __future__ import annotations

import codecs
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class FileStreamConfig(BaseModel):
    """One stream: a file, a directory of files, or a glob, read in name order as one stream."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    """A file, a directory (every file matching ``pattern`` in it) or a glob (``exports/*.csv``, ``**`` allowed)."""
    primary_key: tuple[str, ...]
    pattern: str | None = None
    """Files of a directory path to read; defaults to ``*.csv`` / ``*.jsonl``."""
    encoding: str = "utf-8"
    """Any ASCII-compatible codec (utf-8, latin-1, cp1252...); a UTF-8 BOM is skipped."""

    @field_validator("encoding")
    @classmethod
    def _ascii_compatible(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        if "\n\r,;\t\"|".encode(value, "strict") != b"\n\r,;\t\"|":
            raise ValueError(f"encoding {value!r} is not ASCII-compatible; lines cannot be split by byte")
        return value

    @field_validator("primary_key")
    @classmethod
    def _has_key(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one key field")
        return value


class CsvStreamConfig(FileStreamConfig):
    """CSV dialect options follow Python's csv module; names of the columns come from the header."""

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    escapechar: str | None = Field(default=None, min_length=1, max_length=1)
    doublequote: bool = True
    header: bool = True
    """The first record names the columns (skipped when ``columns`` is set)."""
    columns: tuple[str, ...] | None = None
    """Column names, required when the files have no header; the order of fields in written files."""
    null_values: tuple[str, ...] = ("",)
    """Cell texts read as None; None is written as the first of them."""
    line_terminator: Literal["\n", "\r\n"] = "\r\n"
    """For new files (RFC 4180); an existing file keeps its own."""

    @model_validator(mode="after")
    def _columns_without_header(self) -> CsvStreamConfig:
        if not self.header and not self.columns:
            raise ValueError("a CSV without header needs 'columns'")
        return self


class JsonlStreamConfig(FileStreamConfig):
    """One JSON object per line."""


class _FilesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_dir: str | None = None
    """Relative stream paths are resolved against this directory (default: the working directory)."""
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    write_mode: Literal["upsert", "append"] = "upsert"
    """``upsert``: rewrite into a new file swapped in atomically; ``append``: add lines at the end."""
    wait_for_newline: bool = False
    """Leave a last line without a newline for the next read (a file another process is appending to)."""
    max_record_bytes: int = Field(default=1 << 20, ge=1024)
    """A record longer than this (a runaway quote, a binary file) is reported as an error and skipped."""
    fsync: bool = True
    """Flush written files (and the directory after a swap) to disk before reporting success."""


class CsvConfig(_FilesConfig):
    streams: dict[str, CsvStreamConfig]


class JsonlConfig(_FilesConfig):
    streams: dict[str, JsonlStreamConfig]
