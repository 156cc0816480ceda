"""Run metrics in the Prometheus text format, and the kill-point hook's parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.retry import RetryEvent
from orchestrator.metrics import SyncMetrics
from orchestrator.runner.killpoints import KillSwitch
from orchestrator.runner.observe import BatchReport, MetricsObserver, StreamReport


def test_metrics_file_holds_counts_retries_and_status(tmp_path: Path) -> None:
    metrics = SyncMetrics()
    observer = MetricsObserver(metrics)
    observer.batch_committed(BatchReport("erp-to-crm", "Account", read=10, written=8, quarantined=2))
    observer.batch_committed(BatchReport("erp-to-crm", "Account", read=5, written=5, quarantined=0))
    observer.retry_scheduled("erp-to-crm", "Account", RetryEvent(1, 0.5, "REQUEST_LIMIT_EXCEEDED", "RateLimitedError"))
    observer.stream_finished(StreamReport("erp-to-crm", "Contact", "failed", "boom", "stream_failed", 1.5))
    metrics.finish_run("erp-to-crm", "partial", 3.0, now=1700000000.0)
    path = tmp_path / "node" / "crmsync.prom"
    metrics.write(path)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(path.read_text()) for s in family.samples}
    labels = (("stream", "Account"), ("sync", "erp-to-crm"))
    assert samples[("crmsync_records_read_total", labels)] == 15
    assert samples[("crmsync_records_written_total", labels)] == 13
    assert samples[("crmsync_records_quarantined_total", (("stage", "batch"), *labels))] == 2
    assert samples[("crmsync_retries_total", (("code", "REQUEST_LIMIT_EXCEEDED"), ("sync", "erp-to-crm")))] == 1
    assert samples[("crmsync_run_status", (("sync", "erp-to-crm"),))] == 1
    assert not list(path.parent.glob("*.tmp*"))  # written through a temporary file, renamed into place


def test_kill_switch_parses_points_and_rejects_typos() -> None:
    switch = KillSwitch.from_env({"CRMSYNC_TEST_KILL_AT": "after_read:3, after_commit:1"})
    switch.hit("after_read")  # first and second arrivals do nothing
    switch.hit("after_read")
    switch.hit("after_write_before_commit")  # not armed
    assert KillSwitch.from_env({}).hit("after_read") is None
    with pytest.raises(ValueError, match="unknown kill point"):
        KillSwitch.from_env({"CRMSYNC_TEST_KILL_AT": "after_reed:1"})
    with pytest.raises(ValueError, match="n >= 1"):
        KillSwitch.from_env({"CRMSYNC_TEST_KILL_AT": "after_read:0"})
