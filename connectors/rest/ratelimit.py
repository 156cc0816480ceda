"""A token bucket: at most ``rate`` requests per second on average, ``burst`` at once.

The clock and sleep are injected (the retry policy's), so tests run without real waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.rate, self.burst, self.clock, self.sleep = rate, burst, clock, sleep
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until there is one; returns the seconds slept."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + max(0.0, now - self._last) * self.rate)
            self._last = max(self._last, now)
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            wait = (1 - self._tokens) / self.rate
            self.sleep(wait)
            self._tokens = 0.0
            self._last += wait  # the token that accrued while we slept is the one we take
            return wait
