"""Per-product facts as compact arrays, so that building a listing of thousands is cheap.

Every fact of product ``k`` derives from ``mix(seed, k, ...)``, a SplitMix64-style hash.

A listing of a real-size store holds thousands of products (a View all, a sale list):
filtering, sorting and counting them through per-product Python calls (hashes, dataclasses)
would cost seconds.  A ``Column`` computes one fact for every product at once, the first
time a listing needs it, and extends itself as products arrive; a ``FreshnessOrder`` ranks
every product once per catalog state, so that a listing sorts with a C-level key.
"""

from __future__ import annotations

import bisect
import threading
import typing as t
from array import array

MASK = (1 << 64) - 1


def mix(*parts: int) -> int:
    """Deterministic 64-bit hash of integers (SplitMix64 finaliser per part)."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = ((x ^ (part & MASK)) * 0xBF58476D1CE4E5B9) & MASK
        x ^= x >> 31
        x = (x * 0x94D049BB133111EB) & MASK
        x ^= x >> 29
    return x


class Column:
    """One integer fact of every product 0..count-1, computed on first need."""

    def __init__(self, typecode: str, fact: t.Callable[[int], int]) -> None:
        """``fact(k)``: a pure function of the product (so values never go stale)."""
        self._fact = fact
        self.values: array[int] = array(typecode)
        self._lock = threading.Lock()

    def upto(self, count: int) -> array[int]:
        """The values, covering at least products 0..count-1."""
        if len(self.values) < count:
            with self._lock:
                fact = self._fact
                self.values.extend(fact(k) for k in range(len(self.values), count))
        return self.values


class FreshnessOrder:
    """Every product ranked as ``sort=freshness`` lists them: newest day first, then id."""

    def __init__(self, days: list[int], ids: array[int], today: int) -> None:
        """``days[k]``: the day product k is sorted and banded by; ``ids``: product ids."""
        order = sorted(range(len(days)), key=lambda k: (-days[k], ids[k]))
        self.rank = array("I", bytes(4 * len(order)))
        for position, k in enumerate(order):
            self.rank[k] = position
        # Newest day first: -day ascends along the order.
        self._minus_days = [-days[k] for k in order]
        self._today = today

    def cutoff(self, days: int) -> int:
        """How many products were listed in the last ``days`` days (rank below it)."""
        return bisect.bisect_left(self._minus_days, -(self._today - days + 1) + 1)

    def count_within(self, ranks: list[int], days: int) -> int:
        """How many of some products' (sorted) ranks fall in the last ``days`` days."""
        return bisect.bisect_left(ranks, self.cutoff(days))
