"""A test hook that kills the process at named points, to prove crash safety end to end.

``CRMSYNC_TEST_KILL_AT=<point>:<n>[,<point>:<n>...]`` makes the ``n``-th arrival at ``point`` send
SIGKILL to this very process: no cleanup, no ``finally``, no flush, exactly as the OOM killer or a
pulled plug would. Points used by the runner: ``after_read``, ``after_write_before_commit``,
``after_commit``. Unset (the normal case) it costs one dictionary lookup per point.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Mapping

ENV = "CRMSYNC_TEST_KILL_AT"
POINTS = ("after_read", "after_write_before_commit", "after_commit")


class KillSwitch:
    """Counts arrivals at each point and kills the process at the configured arrival."""

    def __init__(self, targets: Mapping[str, int]) -> None:
        unknown = sorted(set(targets) - set(POINTS))
        if unknown:
            raise ValueError(f"{ENV}: unknown kill point {unknown[0]!r} (known: {', '.join(POINTS)})")
        self._targets = dict(targets)
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KillSwitch:
        """Parse ``CRMSYNC_TEST_KILL_AT``; an empty or missing value kills nothing."""
        text = (os.environ if environ is None else environ).get(ENV, "").strip()
        targets: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            point, _, count = item.partition(":")
            if not count.isdigit() or int(count) < 1:
                raise ValueError(f"{ENV}: expected <point>:<n> with n >= 1, got {item!r}")
            targets[point] = int(count)
        return cls(targets)

    def hit(self, point: str) -> None:
        """Note one arrival at ``point``; SIGKILL this process if it is the configured one."""
        if point not in self._targets:
            return
        with self._lock:
            self._seen[point] += 1
            if self._seen[point] == self._targets[point]:
                os.kill(os.getpid(), signal.SIGKILL)
