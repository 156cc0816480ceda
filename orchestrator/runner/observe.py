"""What a run tells the outside while it works: per-batch and per-stream reports.

The runner calls an observer; the progress bar, the metrics and tests are observers. Keeping them
out of the runner keeps ``run_partition`` the same under any executor (a Celery worker observes
with metrics only, a terminal with a progress bar too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from connectors.retry import RetryEvent
from orchestrator.metrics import SyncMetrics


@dataclass(frozen=True, slots=True)
class BatchReport:
    """Counts of one committed batch (never record content)."""

    sync: str
    stream: str
    read: int
    written: int
    quarantined: int
    deleted: int = 0
    conflicts: int = 0
    skipped: int = 0
    ms: float = 0.0


@dataclass(frozen=True, slots=True)
class StreamReport:
    """How one stream ended: ``status`` is success, failed, partial or cancelled."""

    sync: str
    stream: str
    status: str
    reason: str = ""
    code: str = ""
    seconds: float = 0.0


class RunObserver(Protocol):
    def stream_started(self, sync: str, stream: str) -> None: ...

    def batch_committed(self, report: BatchReport) -> None: ...

    def stream_finished(self, report: StreamReport) -> None: ...

    def retry_scheduled(self, sync: str, stream: str, event: RetryEvent) -> None: ...


class NullObserver:
    """Observes nothing (the default, and a base for observers that care about a few calls)."""

    def stream_started(self, sync: str, stream: str) -> None:
        return None

    def batch_committed(self, report: BatchReport) -> None:
        return None

    def stream_finished(self, report: StreamReport) -> None:
        return None

    def retry_scheduled(self, sync: str, stream: str, event: RetryEvent) -> None:
        return None


class MetricsObserver(NullObserver):
    """Feeds a run's Prometheus metrics."""

    def __init__(self, metrics: SyncMetrics) -> None:
        self.metrics = metrics

    def batch_committed(self, report: BatchReport) -> None:
        m, labels = self.metrics, (report.sync, report.stream)
        m.read.labels(*labels).inc(report.read)
        m.written.labels(*labels).inc(report.written)
        m.deleted.labels(*labels).inc(report.deleted)
        m.batches.labels(*labels).inc()
        if report.quarantined:
            m.quarantined.labels(*labels, "batch").inc(report.quarantined)
        if report.conflicts:
            m.conflicts.labels(*labels, "found").inc(report.conflicts)

    def stream_finished(self, report: StreamReport) -> None:
        self.metrics.stream_seconds.labels(report.sync, report.stream).set(report.seconds)
        if report.code:
            self.metrics.errors.labels(report.sync, report.stream, report.code).inc()

    def retry_scheduled(self, sync: str, stream: str, event: RetryEvent) -> None:
        self.metrics.retries.labels(sync, event.error_code).inc()


class Fanout(NullObserver):
    """Passes every call to several observers, in order."""

    def __init__(self, observers: Sequence[RunObserver]) -> None:
        self.observers = list(observers)

    def stream_started(self, sync: str, stream: str) -> None:
        for o in self.observers:
            o.stream_started(sync, stream)

    def batch_committed(self, report: BatchReport) -> None:
        for o in self.observers:
            o.batch_committed(report)

    def stream_finished(self, report: StreamReport) -> None:
        for o in self.observers:
            o.stream_finished(report)

    def retry_scheduled(self, sync: str, stream: str, event: RetryEvent) -> None:
        for o in self.observers:
            o.retry_scheduled(sync, stream, event)
