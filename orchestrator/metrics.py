"""Run metrics in the Prometheus text format, for a node-exporter textfile collector.

We use prometheus_client rather than printing the format by hand: it escapes label values, keeps
counters thread-safe across stream threads, and its ``write_to_textfile`` writes to a temporary
file and renames it, so the collector never scrapes half a file. Each registry is per run (never
the process-global one), so two runs in one process, or tests, never mix their numbers.
"""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, write_to_textfile

STATUS_VALUES = {"success": 0, "partial": 1, "failed": 2, "cancelled": 3}


class SyncMetrics:
    """Counters and gauges of one ``crmsync sync`` run, labelled by sync and stream."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("sync", "stream")
        self.read = Counter("crmsync_records_read", "Native records read from the source.", labels,
                            registry=self.registry)
        self.written = Counter("crmsync_records_written", "Records the target accepted.", labels,
                               registry=self.registry)
        self.quarantined = Counter("crmsync_records_quarantined", "Records sent to quarantine.",
                                   (*labels, "stage"), registry=self.registry)
        self.deleted = Counter("crmsync_records_deleted", "Deletes applied at the target.", labels,
                               registry=self.registry)
        self.conflicts = Counter("crmsync_conflicts", "Two-way conflicts found.", (*labels, "outcome"),
                                 registry=self.registry)
        self.errors = Counter("crmsync_errors", "Stream-stopping errors, by error code.", (*labels, "code"),
                              registry=self.registry)
        self.retries = Counter("crmsync_retries", "Requests retried by the retry policy, by error code.",
                               ("sync", "code"), registry=self.registry)
        self.batches = Counter("crmsync_batches", "Batches committed.", labels, registry=self.registry)
        self.stream_seconds = Gauge("crmsync_stream_duration_seconds", "Wall time of each stream.", labels,
                                    registry=self.registry)
        self.run_seconds = Gauge("crmsync_run_duration_seconds", "Wall time of the run.", ("sync",),
                                 registry=self.registry)
        self.run_status = Gauge("crmsync_run_status", "0 success, 1 partial, 2 failed, 3 cancelled.",
                                ("sync",), registry=self.registry)
        self.run_finished = Gauge("crmsync_run_finished_timestamp_seconds", "When the run ended (Unix time).",
                                  ("sync",), registry=self.registry)

    def finish_run(self, sync: str, status: str, seconds: float, now: float | None = None) -> None:
        self.run_seconds.labels(sync).set(seconds)
        self.run_status.labels(sync).set(STATUS_VALUES.get(status, 2))
        self.run_finished.labels(sync).set(time.time() if now is None else now)

    def write(self, path: Path) -> None:
        """Write every metric to ``path`` atomically (temporary file, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), self.registry)
