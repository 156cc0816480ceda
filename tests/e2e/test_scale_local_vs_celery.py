"""The same sync on the local executor and on Celery workers gives the same target, key by key and value by value.

Three runs of one source (some records invalid, so quarantined): ``crmsync sync`` (the local
runner), ``crmsync submit --executor local`` (partitions in threads) and ``crmsync submit`` on two
``crmsync worker`` processes over RabbitMQ; each into its own target and state store.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrator.executors.testing import (
    ScaleProject,
    WorkerProcess,
    drop_project,
    fresh_statistics,
    make_project,
    target_rows,
)
from orchestrator.state import StateStore

N = 4000
pytestmark = pytest.mark.slow
BLANK = (0, 17, 2321, 3999)  # blank names: the mapping rejects them (required_missing)


def quarantined(project: ScaleProject) -> list[tuple[str, str, tuple[str, ...]]]:
    with StateStore.open(project.postgres_url, schema=project.state_schema) as store:
        items = store.list_quarantine("copy", limit=100)
    return sorted((q.native_key, q.stage, tuple(sorted(r.code for r in q.reasons))) for q in items)


def run(project: ScaleProject, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(project.command(*args), env=project.env(), cwd=project.workdir, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def projects(tmp_path: Path, postgres_url: str, amqp_url: str) -> dict[str, ScaleProject]:
    made = {}
    try:
        for name in ("sync", "local", "celery"):
            (tmp_path / name).mkdir()
            made[name] = make_project(tmp_path / name, postgres_url, amqp_url, N, batch_size=500,
                                      lease_ttl_s=10.0, time_slice_s=15.0, blank_names=BLANK)
        yield made
    finally:
        for project in made.values():
            drop_project(project)


def test_local_and_celery_executors_give_identical_targets(projects: dict[str, ScaleProject]) -> None:
    sync, local, celery = projects["sync"], projects["local"], projects["celery"]
    with fresh_statistics(sync):
        done = run(sync, "sync", "copy")
    assert done.returncode == 0, done.stderr[-2000:]  # quarantined records do not fail a run
    with fresh_statistics(local):
        done = run(local, "submit", "--executor", "local", "--partitions", "4", "--threads", "2")
    assert done.returncode == 0 and "succeeded" in done.stdout, done.stderr[-2000:]
    workers = [WorkerProcess(celery, 1, "--reap-every", "5") for _ in range(2)]
    try:
        with fresh_statistics(celery):
            done = run(celery, "submit", "--partitions", "4", "--queue", celery.queue, "--timeout", "500")
    finally:
        for worker in workers:
            worker.stop()
    assert done.returncode == 0 and "succeeded" in done.stdout, done.stderr[-2000:] + done.stdout[-2000:]

    expected = target_rows(sync)
    assert len(expected) == N - len(BLANK)
    assert target_rows(local) == expected
    assert target_rows(celery) == expected
    reasons = quarantined(sync)
    assert [k for k, _, _ in reasons] == sorted(f"C{n:06d}" for n in BLANK)
    assert quarantined(local) == reasons and quarantined(celery) == reasons
