"""Shared benchmark plumbing: peak memory of a process tree, the JSON line, the RESULTS.md table.

Every benchmark ends with ``emit(...)``: one JSON line on stdout and its row replaced in
bench/RESULTS.md (one row per benchmark, the latest run).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "| bench | crmsync | unit | peer | peer value | crmsync peak RSS MB | peer peak RSS MB | extra | when |\n"
    "|---|---|---|---|---|---|---|---|---|\n"
)


def self_peak_rss_mb() -> float:
    """Peak RSS of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """Largest peak RSS among waited-for child processes (for a command run as a subprocess)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_measured(cmd: Sequence[str], **kwargs: Any) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """Run ``cmd``; return (seconds, peak RSS MB of its process tree, result).

    Uses ``/usr/bin/time``-free accounting: wait4's rusage of the child, which covers the child and
    the descendants it waited for.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = subprocess.CompletedProcess(cmd, proc.returncode)
    return seconds, usage.ru_maxrss / 1024, result


def emit(bench: str, value: float, unit: str, *, peer: str | None = None, peer_value: float | None = None,
         peak_rss_mb: float, peer_peak_rss_mb: float | None = None, **extra: Any) -> dict[str, Any]:
    """Print the benchmark's JSON line and update its row in RESULTS.md."""
    line: dict[str, Any] = {
        "bench": bench, "value": round(value, 3), "unit": unit, "peer": peer,
        "peer_value": None if peer_value is None else round(peer_value, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "peer_peak_rss_mb": None if peer_peak_rss_mb is None else round(peer_peak_rss_mb, 1),
        **extra,
    }
    print(json.dumps(line), flush=True)
    _update_results(line)
    return line


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def _update_results(line: dict[str, Any]) -> None:
    core = {"bench", "value", "unit", "peer", "peer_value", "peak_rss_mb", "peer_peak_rss_mb"}
    extra = ", ".join(f"{k}={_fmt(v)}" for k, v in line.items() if k not in core)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    row = "| " + " | ".join([
        line["bench"], _fmt(line["value"]), line["unit"], _fmt(line["peer"]), _fmt(line["peer_value"]),
        _fmt(line["peak_rss_mb"]), _fmt(line["peer_peak_rss_mb"]), extra or "–", when,
    ]) + " |\n"
    rows = {}
    if RESULTS.exists():
        for text in RESULTS.read_text().splitlines(keepends=True):
            if text.startswith("| ") and not text.startswith("| bench |"):
                rows[text.split("|")[1].strip()] = text
    rows[line["bench"]] = row
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    RESULTS.write_text(
        "# Benchmark results\n\nLatest run of each benchmark (`make bench`, or `make bench B=NAME`), "
        f"on {machine}.\nValues are records per second unless the unit says otherwise.\n\n"
        + HEADER + "".join(rows[k] for k in sorted(rows))
    )
