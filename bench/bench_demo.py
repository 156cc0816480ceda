"""Benchmark ``demo``: wall time of ``crmsync demo`` (10,000 accounts) once the environment is built.

Runs the command as a user would, in a temporary directory, and measures its process tree (the
sandbox it starts is a child process, so it counts). Target: under 60 s on this 2-core machine.
Extra keys: the CPU seconds of the process tree (steadier than wall time on a shared machine) and
each phase's wall seconds as the demo logged them (``demo.step`` events).
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import emit, run_measured

ACCOUNTS = int(os.environ.get("CRMSYNC_BENCH_DEMO_ACCOUNTS", "10000"))


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def phases(log_file: Path) -> dict[str, float]:
    """``{"<phase>_s": seconds}`` from the demo's log, e.g. ``two_way_sync_s``."""
    out: dict[str, float] = {}
    if not log_file.exists():
        return out
    for line in log_file.read_text().splitlines():
        if '"demo.step"' not in line:
            continue
        event = json.loads(line)
        key = re.sub(r"[^a-z0-9]+", "_", str(event["step"]).lower()).strip("_")
        out[f"{key}_s"] = event["seconds"]
    return out


def main() -> int:
    crmsync = Path(sys.executable).with_name("crmsync")
    with tempfile.TemporaryDirectory(prefix="crmsync-bench-demo-") as tmp:
        directory = Path(tmp) / "demo"
        cpu_before = children_cpu_seconds()
        seconds, rss, result = run_measured([str(crmsync), "demo", "--dir", str(directory),
                                             "--accounts", str(ACCOUNTS)], stdout=subprocess.DEVNULL)
        cpu = children_cpu_seconds() - cpu_before
        steps = phases(directory / "logs" / "crmsync.log")
    if result.returncode != 0:
        print(f"demo: crmsync demo exited {result.returncode}", file=sys.stderr)
        return 1
    extra: dict[str, Any] = {"cpu_s": round(cpu, 1), **steps}
    emit("demo", seconds, "s", peak_rss_mb=rss, accounts=ACCOUNTS, target_met=seconds < 60,
         load_avg_1m=round(os.getloadavg()[0], 1), **extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
