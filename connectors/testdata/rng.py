"""Per-record randomness: every record draws from its own stream, keyed by (seed, stream, a, b).

That is what lets the generator build record 3,999,999 without building the ones before it, and the
Salesforce and ERP sides agree without sharing state. A keyed BLAKE2b digest gives 512 random bits
per refill, about five times cheaper than seeding a Mersenne Twister per record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from hashlib import blake2b
from statistics import NormalDist
from struct import Struct
from typing import TypeVar

T = TypeVar("T")
_KEY = Struct("<QQQQQ")
_WORDS = Struct("<16I")
_NORMAL = tuple(NormalDist().inv_cdf((i + 0.5) / 1024) for i in range(1024))
_MASK64 = (1 << 64) - 1


class Rng:
    """A small deterministic random source for one record: 16 x 32 random bits per BLAKE2b refill."""

    __slots__ = ("_key", "_vals", "_i", "_refills")

    def __init__(self, seed: int, stream: int, a: int = 0, b: int = 0) -> None:
        self._key = (seed & _MASK64, stream, a & _MASK64, b & _MASK64)
        self._refills = 0
        self._vals: tuple[int, ...] = ()
        self._i = 16

    def _next(self) -> int:
        if self._i == 16:
            self._vals = _WORDS.unpack(blake2b(_KEY.pack(*self._key, self._refills), digest_size=64).digest())
            self._refills += 1
            self._i = 0
        self._i += 1
        return self._vals[self._i - 1]

    def bits(self, n: int) -> int:
        """``n`` (<= 32) random bits."""
        return self._next() >> (32 - n)

    def below(self, n: int) -> int:
        """An integer in [0, n) for n up to 2**32 (bias below n / 2**32, irrelevant for test data)."""
        if self._i == 16:
            return (self._next() * n) >> 32
        self._i += 1
        return (self._vals[self._i - 1] * n) >> 32

    def between(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi]."""
        return lo + self.below(hi - lo + 1)

    def random(self) -> float:
        return self._next() / 4294967296.0

    def chance(self, p: float) -> bool:
        return self._next() < p * 4294967296.0

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.below(len(seq))]

    def weighted(self, seq: Sequence[tuple[T, int]], total: int) -> T:
        x = self.below(total)
        for item, weight in seq:
            if x < weight:
                return item
            x -= weight
        return seq[-1][0]

    def lognormal(self, mu: float, sigma: float) -> int:
        """A log-normal draw, rounded, from a 1024-quantile table (exact sampling is not needed here)."""
        return int(math.exp(mu + sigma * _NORMAL[self.below(1024)]))


def words(seed: int, stream: int, a: int = 0, b: int = 0) -> tuple[int, ...]:
    """Sixteen random 32-bit words for record (stream, a, b): the first block an Rng of that key gives.
    Hot builders index these directly instead of calling Rng methods (a third of the cost)."""
    return _WORDS.unpack(blake2b(_KEY.pack(seed & _MASK64, stream, a & _MASK64, b & _MASK64, 0),
                                 digest_size=64).digest())


def splitmix(x: int) -> int:
    """A fast 64-bit mixer for hash decisions that need no stream (variant kinds, shuffles)."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class Shuffle:
    """A seeded bijection of [0, n) (an affine map modulo n): spreads ranks over indices without a table."""

    __slots__ = ("n", "_mult", "_inv", "_add")

    def __init__(self, n: int, seed: int, salt: int) -> None:
        self.n = max(n, 1)
        mult = splitmix(seed * 1_000_003 + salt) % self.n | 1
        while math.gcd(mult, self.n) != 1:
            mult = (mult + 2) % self.n or 1
        self._mult = mult
        self._inv = pow(mult, -1, self.n)
        self._add = splitmix(seed * 7_919 + salt + 1) % self.n

    def __call__(self, i: int) -> int:
        return (i * self._mult + self._add) % self.n

    def inverse(self, r: int) -> int:
        return ((r - self._add) * self._inv) % self.n
