"""Logging setup, done by the CLI only: JSON lines for machines, a console renderer for people.

Two processors keep secrets and personal data out of every rendered line: one replaces each
registered secret value (and values of secret-looking keys) with ``****``; the other drops keys
that carry record content (payloads, bodies, field values) unless ``debug_values`` is on.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

MASK = "****"
_SECRET_KEY = re.compile(r"(pass(word)?|secret|token|authorization|api[_-]?key|session[_-]?id|private[_-]?key)",
                         re.IGNORECASE)
VALUE_KEYS = frozenset({"record", "records", "payload", "body", "values", "value", "row", "response_body"})


class SecretMasker:
    """Replaces registered secret values anywhere in an event, and values of secret-looking keys."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        # Short strings would mangle ordinary words; real secrets are longer than this.
        self._secrets.update(s for s in secrets if s and len(s) >= 6)
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def mask_text(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text

    def _mask(self, key: str, value: Any) -> Any:
        if _SECRET_KEY.search(key) and value not in (None, "", False):
            return MASK
        if isinstance(value, str):
            return self.mask_text(value)
        if isinstance(value, dict):
            return {k: self._mask(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._mask(key, v) for v in value]
        return value

    def __call__(self, _: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        return {k: self._mask(k, v) for k, v in event.items()}


def drop_values(debug_values: bool) -> Any:
    """A processor removing record content from events: counts and ids only, never values."""

    def processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if debug_values:
            return event
        for key in VALUE_KEYS & event.keys():
            event[key] = "<omitted>"
        return event

    return processor


MASKER = SecretMasker()
"""The process-wide masker; config loading registers every secret it resolves."""


def configure(*, json: bool | None = None, level: str = "INFO", stream: TextIO | None = None,
              debug_values: bool = False) -> None:
    """Configure structlog (and stdlib logging under it). JSON unless the stream is a terminal."""
    out = stream or sys.stderr
    use_json = (not out.isatty()) if json is None else json
    renderer: Any = (structlog.processors.JSONRenderer(sort_keys=False) if use_json
                     else structlog.dev.ConsoleRenderer(colors=out.isatty()))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            drop_values(debug_values),
            MASKER,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
