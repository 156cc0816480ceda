"""Deterministic fault injection and the daily API budget, both counted so tests can assert on them.

Faults are decided per data call from a seeded RNG that draws the same number of values on every call,
so one configuration and one call order give the same faults on every run, and changing one rate does
not move the others. Every injected fault is counted by kind.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from .config import FAULT_KINDS, FaultConfig
from .errors import (
    CONCURRENT_LONG_TXN,
    QUERY_TIMEOUT,
    SERVER_UNAVAILABLE,
    TOTAL_REQUESTS,
    SalesforceApiError,
)
from .timefmt import Clock

_RATED = ("server_unavailable", "concurrent_limit", "query_timeout", "drop", "slow")


class FaultInjector:
    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self._apply(config)
        self.injected: Counter[str] = Counter()

    def _apply(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._script = list(config.script)
        self._pattern = re.compile(config.path_pattern) if config.path_pattern else None
        self.calls = 0

    def configure(self, changes: dict[str, Any], reset_counters: bool = False) -> FaultConfig:
        """Change some settings (validated); the RNG restarts from the (new) seed."""
        with self._lock:
            config = FaultConfig.model_validate({**self.config.model_dump(), **changes})
            self._apply(config)
            if reset_counters:
                self.injected.clear()
            return config

    def reset(self) -> None:
        """No faults, counters at zero."""
        with self._lock:
            self._apply(FaultConfig())
            self.injected.clear()

    def decide(self, path: str, is_query: bool) -> list[str]:
        """The faults to inject into this call (possibly ``slow`` plus one failure), counted."""
        with self._lock:
            if self._pattern is not None and not self._pattern.search(path):
                return []
            self.calls += 1
            draws = [self._rng.random() for _ in _RATED]
            chosen: list[str] = []
            if self._script:
                chosen.append(self._script.pop(0))
            elif self.config.invalid_session_every and self.calls % self.config.invalid_session_every == 0:
                chosen.append("invalid_session")
            else:
                rates = {"server_unavailable": self.config.server_unavailable_rate,
                         "concurrent_limit": self.config.concurrent_limit_rate,
                         "query_timeout": self.config.query_timeout_rate if is_query else 0.0,
                         "drop": self.config.drop_rate, "slow": self.config.slow_rate}
                for kind, draw in zip(_RATED, draws, strict=True):
                    if draw < rates[kind] and (kind == "slow" or not any(k != "slow" for k in chosen)):
                        chosen.append(kind)
            self.injected.update(chosen)
            return chosen

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"config": self.config.model_dump(), "calls": self.calls,
                    "injected": {k: self.injected.get(k, 0) for k in FAULT_KINDS}}


def fault_error(kind: str) -> SalesforceApiError:
    """The response Salesforce sends for each failing fault kind."""
    if kind == "server_unavailable":
        return SalesforceApiError(503, "SERVER_UNAVAILABLE", SERVER_UNAVAILABLE)
    if kind == "concurrent_limit":
        return SalesforceApiError(403, "REQUEST_LIMIT_EXCEEDED", CONCURRENT_LONG_TXN)
    if kind == "query_timeout":
        return SalesforceApiError(400, "QUERY_TIMEOUT", QUERY_TIMEOUT)
    raise ValueError(kind)


class ApiBudget:
    """DailyApiRequests: every authenticated data call spends one; when spent, calls get 403 REQUEST_LIMIT_EXCEEDED.

    The count restarts when the UTC day changes (a real org uses a rolling 24 hours; a day boundary is
    close enough and keeps tests predictable with an injected clock).
    """

    def __init__(self, limit: int, clock: Clock) -> None:
        self.limit = limit
        self.used = 0
        self.refused = 0
        self._clock = clock
        self._day = self._today()
        self._lock = threading.Lock()

    def _today(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).date().isoformat()

    def spend(self) -> tuple[int, int]:
        """Count one call; raises SalesforceApiError(403) once the budget is spent. Returns (used, limit)."""
        with self._lock:
            today = self._today()
            if today != self._day:
                self._day, self.used = today, 0
            if self.used >= self.limit:
                self.refused += 1
                raise SalesforceApiError(403, "REQUEST_LIMIT_EXCEEDED", TOTAL_REQUESTS)
            self.used += 1
            return self.used, self.limit

    def usage(self) -> tuple[int, int]:
        with self._lock:
            return self.used, self.limit

    def set(self, limit: int | None = None, used: int | None = None) -> None:
        with self._lock:
            if limit is not None:
                self.limit = limit
            if used is not None:
                self.used = used

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"limit": self.limit, "used": self.used, "remaining": max(self.limit - self.used, 0),
                    "refused": self.refused}
