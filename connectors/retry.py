"""Retry policies: tenacity objects the orchestrator configures and hands to connectors.

A connector wraps one request (a page, a batch write) in ``policy.call(...)``, so a failed page 37
is retried on its own and never restarts the query. Only ``RetryableError`` is retried; a server's
Retry-After is honoured; attempts and total time are capped. Sleep and clock are injectable so
tests need no patching of time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from connectors.errors import RetryableError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """What a policy tells its observer before it sleeps: for logs and metrics (no payloads)."""

    attempt: int
    wait: float
    error_code: str
    error_type: str


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped by attempts and by total elapsed seconds."""

    max_attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    max_total: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    on_retry: Callable[[RetryEvent], None] | None = field(default=None, repr=False, compare=False)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` and retry it on ``RetryableError``; the last error is re-raised unchanged."""
        retrying = Retrying(
            retry=retry_if_exception_type(RetryableError),
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_total),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        return retrying(fn, *args, **kwargs)

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait)(state)
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None)
        return max(backoff, float(hint)) if hint else backoff

    def _before_sleep(self, state: RetryCallState) -> None:
        if self.on_retry is None or state.outcome is None:
            return
        exc = state.outcome.exception()
        wait = state.next_action.sleep if state.next_action else 0.0
        code = getattr(exc, "code", "error")
        self.on_retry(RetryEvent(state.attempt_number, wait, str(code), type(exc).__name__))


NO_RETRY = RetryPolicy(max_attempts=1, max_total=0.0)
"""For tests and for calls that must not repeat (a non-idempotent create)."""
