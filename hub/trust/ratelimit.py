"""Per-region token buckets for HTTP ingest: one office cannot starve the others.

Each office (the API key's office) has a bucket of ``burst`` tokens refilled at ``rate_per_s``; a request
takes one token or is told how long to wait (the 429's ``Retry-After``). Buckets live in memory per node
process: a restart forgives everyone, which is fine for a fairness limit. The number of buckets is bounded
by the number of configured API keys' offices.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RegionRateLimiter:
    """``take(office)`` returns 0 when the request may go on, else the seconds until a token is free."""

    def __init__(self, rate_per_s: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # office -> (tokens, last refill)

    def take(self, office: str) -> float:
        now = self._clock()
        tokens, last = self._buckets.get(office, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1.0:
            self._buckets[office] = (tokens - 1.0, now)
            return 0.0
        self._buckets[office] = (tokens, now)
        return (1.0 - tokens) / self._rate

    @staticmethod
    def retry_after(wait_s: float) -> int:
        """Whole seconds for a ``Retry-After`` header (at least 1)."""
        return max(1, math.ceil(wait_s))
