"""The ``crmsync sync`` progress bar: one line per stream, on a terminal only.

Rich draws to stderr so stdout stays a clean summary; when stderr is not a terminal (cron, CI, a
log shipper) nothing is drawn and the JSON log lines are the whole story.
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from orchestrator.runner.observe import BatchReport, NullObserver, StreamReport


class SyncProgress(NullObserver):
    """A run observer drawing per-stream counters; a no-op unless ``console`` is a terminal."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal
        self._progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.fields[stream]}"), BarColumn(),
            TextColumn("read {task.fields[read]:,}  written {task.fields[written]:,}  "
                       "quarantined {task.fields[quarantined]:,}  {task.fields[status]}"),
            TimeElapsedColumn(), console=self.console, transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> SyncProgress:
        if self.enabled:
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.enabled:
            self._progress.stop()

    def stream_started(self, sync: str, stream: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._tasks[stream] = self._progress.add_task(stream, total=None, stream=stream, read=0, written=0,
                                                          quarantined=0, status="")

    def batch_committed(self, report: BatchReport) -> None:
        task = self._tasks.get(report.stream)
        if task is None:
            return
        fields = self._progress.tasks[task].fields
        self._progress.update(task, advance=report.read, read=fields["read"] + report.read,
                              written=fields["written"] + report.written,
                              quarantined=fields["quarantined"] + report.quarantined)

    def stream_finished(self, report: StreamReport) -> None:
        task = self._tasks.get(report.stream)
        if task is not None:
            done = self._progress.tasks[task].completed
            self._progress.update(task, total=max(done, 1), completed=max(done, 1), status=report.status)
