"""Retry policies as the runner hands them to connectors: the config's policy plus an observer.

The policy itself (attempts, waits, total time, which errors) comes from config; the runner only
adds the ``on_retry`` hook so each retry is counted and logged as ``retry.scheduled`` in the
context of the stream that made the request (structlog contextvars carry run_id, sync, stream).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import structlog

from connectors.retry import RetryEvent, RetryPolicy

log = structlog.get_logger(__name__)


def observed(policy: RetryPolicy, count: Callable[[RetryEvent], None]) -> RetryPolicy:
    """``policy`` with an ``on_retry`` hook that logs the retry and passes it to ``count``.

    An ``on_retry`` the config already set is kept and called first.
    """
    previous = policy.on_retry

    def on_retry(event: RetryEvent) -> None:
        if previous is not None:
            previous(event)
        log.warning("retry.scheduled", attempt=event.attempt, wait_s=round(event.wait, 3),
                    error_code=event.error_code, error_type=event.error_type)
        count(event)

    return dataclasses.replace(policy, on_retry=on_retry)
