"""Exponential back-off, the one rule every retry loop of the hub uses (a foundation: imports nothing).

Attempt ``n`` (from 0) waits up to ``min(cap_s, base_s * 2**n)``. With ``jitter`` (the default) the wait
is drawn uniformly below that ceiling ("full jitter"), so many retriers that failed together do not come
back together; without it the wait is the ceiling itself, a plain doubling.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """``delay(attempt, floor)``: the wait before retry number ``attempt``, never below ``floor``."""

    base_s: float = 0.2
    cap_s: float = 30.0
    jitter: bool = True

    def ceiling(self, attempt: int) -> float:
        """The longest wait of ``attempt``: ``min(cap_s, base_s * 2**attempt)``."""
        # 2**attempt grows without bound; past ~64 doublings any base is above any sane cap.
        return min(self.cap_s, self.base_s * float(2 ** min(attempt, 64)))

    def delay(self, attempt: int, floor: float = 0.0) -> float:
        ceiling = self.ceiling(attempt)
        return max(floor, random.uniform(0, ceiling) if self.jitter else ceiling)
