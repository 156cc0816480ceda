"""scale_out: records/s of one 200,000-record PostgreSQL-to-PostgreSQL sync on the celery executor with 1, 2 and 4
``crmsync worker`` processes (RabbitMQ, state in PostgreSQL), beside the local executor (``crmsync sync``).

Each configuration gets a fresh project (source, empty target, empty state store) and a warmed-up
worker pool: the clock runs from ``crmsync submit`` until the run is finished in the state store.
The layout is given as 16 explicit key ranges (sampling the source would add one read of it, once
per layout). The value is the one-worker figure: what the Celery path costs against the local
runner on the same machine; the local runner runs first and last, and the better run counts.
Environment: CRMSYNC_TEST_POSTGRES_URL, CRMSYNC_TEST_AMQP_URL, CRMSYNC_BENCH_SCALE_ROWS (default 200000).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import kombu

from bench.common import emit, run_measured
from orchestrator.executors.testing import (
    ScaleProject,
    WorkerProcess,
    drop_project,
    fresh_statistics,
    key,
    make_project,
    target_rows,
)

POSTGRES = os.environ.get("CRMSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
AMQP = os.environ.get("CRMSYNC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
ROWS = int(os.environ.get("CRMSYNC_BENCH_SCALE_ROWS", "200000"))
PARTITIONS = 16
BATCH = 2500


def _project(workdir: Path) -> ScaleProject:
    return make_project(workdir, POSTGRES, AMQP, ROWS, batch_size=BATCH, lease_ttl_s=30.0, time_slice_s=120.0)


def _check(project: ScaleProject) -> None:
    rows = target_rows(project)
    if len(rows) != ROWS or len({k for k, _ in rows}) != ROWS:
        raise SystemExit(f"scale_out: the target holds {len(rows)} rows, expected {ROWS} distinct")


def local_rate(workdir: Path) -> tuple[float, float]:
    """records/s and peak RSS of ``crmsync sync`` (the local executor, one partition)."""
    project = _project(workdir)
    try:
        with fresh_statistics(project):
            seconds, rss, done = run_measured(project.command("sync", "copy"), env=project.env(), cwd=workdir,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if done.returncode != 0:
            raise SystemExit(f"scale_out: crmsync sync exited {done.returncode}")
        _check(project)
        return ROWS / seconds, rss
    finally:
        drop_project(project)


def _consumers(project: ScaleProject) -> int:
    try:
        with kombu.Connection(project.broker_url) as conn:
            return int(conn.default_channel.queue_declare(project.queue, passive=True)[2])
    except Exception:  # the queue does not exist until the first worker declared it
        return 0


def celery_rate(workdir: Path, workers: int) -> tuple[float, float]:
    """records/s of ``crmsync submit`` on ``workers`` single-process workers; peak RSS of one worker tree."""
    project = _project(workdir)
    procs: list[WorkerProcess] = []
    try:
        with fresh_statistics(project):
            procs = [WorkerProcess(project, 1, "--reap-every", "10") for _ in range(workers)]
            deadline = time.monotonic() + 120
            while _consumers(project) < workers and time.monotonic() < deadline:
                time.sleep(0.5)
            points = ",".join(key(ROWS * i // PARTITIONS) for i in range(1, PARTITIONS))
            seconds, _, done = run_measured(project.command("submit", "--split-points", points, "--queue",
                                                            project.queue, "--timeout", "3600"),
                                            env=project.env(), cwd=workdir, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        if done.returncode != 0:
            raise SystemExit(f"scale_out: crmsync submit exited {done.returncode} (see {workdir})")
        _check(project)
        return ROWS / seconds, _stop(procs)
    finally:
        for proc in procs:
            proc.stop()
        drop_project(project)


def _stop(procs: list[WorkerProcess]) -> float:
    peak = max((proc.peak_rss_mb() for proc in procs), default=0.0)
    for proc in procs:
        proc.stop()
    return peak


def main() -> int:
    """Local, then 1, 2 and 4 workers, then local again: on a shared machine the load changes under a
    benchmark, so the local figure is the better of two runs (the comparison errs against Celery)."""
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(tmp)
        local_runs = []
        (root / "local1").mkdir()
        local_runs.append(local_rate(root / "local1"))
        by_workers: dict[str, float] = {}
        rss = 0.0
        for workers in (1, 2, 4):
            (root / f"celery{workers}").mkdir()
            by_workers[str(workers)], peak = celery_rate(root / f"celery{workers}", workers)
            rss = max(rss, peak)
            print(f"scale_out: {workers} worker(s): {by_workers[str(workers)]:,.0f} records/s", flush=True)
        (root / "local2").mkdir()
        local_runs.append(local_rate(root / "local2"))
    local, local_rss = max(local_runs)
    print(f"scale_out: local: {', '.join(f'{r:,.0f}' for r, _ in local_runs)} records/s", flush=True)
    emit("scale_out", by_workers["1"], "records/s", peer="local", peer_value=local, peak_rss_mb=rss,
         peer_peak_rss_mb=local_rss, by_workers={k: round(v, 1) for k, v in by_workers.items()},
         local_runs=[round(r, 1) for r, _ in local_runs], one_worker_vs_local=round(by_workers["1"] / local, 3),
         rows=ROWS, partitions=PARTITIONS, batch=BATCH)
    return 0
