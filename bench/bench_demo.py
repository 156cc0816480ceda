"""Benchmark ``demo``: wall time of ``crmsync demo`` (10,000 accounts) once the environment is built.

Runs the command as a user would, in a temporary directory, and measures its process tree (the
sandbox it starts is a child process, so it counts). Target: under 60 s on this 2-core machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import emit, run_measured

ACCOUNTS = int(os.environ.get("CRMSYNC_BENCH_DEMO_ACCOUNTS", "10000"))


def main() -> int:
    crmsync = Path(sys.executable).with_name("crmsync")
    with tempfile.TemporaryDirectory(prefix="crmsync-bench-demo-") as tmp:
        seconds, rss, result = run_measured([str(crmsync), "demo", "--dir", str(Path(tmp) / "demo"),
                                             "--accounts", str(ACCOUNTS)], stdout=subprocess.DEVNULL)
    if result.returncode != 0:
        print(f"demo: crmsync demo exited {result.returncode}", file=sys.stderr)
        return 1
    emit("demo", seconds, "s", peak_rss_mb=rss, accounts=ACCOUNTS, target_met=seconds < 60,
         load_avg_1m=round(os.getloadavg()[0], 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
