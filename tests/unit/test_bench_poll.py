"""The benchmark's warehouse poll (``bench.common.Warehouse.wait_for``): few counts, the end still seen.

A count is a full scan of the warehouse table, so polling every 0.1 s cost the path it measures (most of a
core on election day). These drive ``wait_for`` on a simulated clock: rows arrive at a steady rate, each
count returns what has arrived by then.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import bench.common as common


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


class _Rows(common.Warehouse):
    """Rows arrive at ``rate`` per second from ``start`` on, up to ``total``; every count is noted."""

    def __init__(self, clock: _Clock, rate: float, total: int, start: float = 0.5) -> None:
        super().__init__("unused")
        self.clock, self.rate, self.total, self.start = clock, rate, total, clock.now + start
        self.counts: list[int] = []

    async def count(self) -> int:
        seen = int(min(self.total, max(0.0, self.clock.now - self.start) * self.rate))
        self.counts.append(seen)
        return seen


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    c = _Clock()
    monkeypatch.setattr(common.time, "monotonic", c.monotonic)
    monkeypatch.setattr(common.asyncio, "sleep", c.sleep)
    return c


def _wait(wh: _Rows, n: int, timeout: float = 600.0, **kw: Any) -> tuple[int, float]:
    return asyncio.run(wh.wait_for(n, timeout, **kw))


def test_the_end_is_seen_within_a_tenth_of_a_second_with_few_counts(clock: _Clock) -> None:
    wh = _Rows(clock, rate=10_000, total=820_000)
    seen, done_at = _wait(wh, 820_000)
    finished = wh.start + 820_000 / 10_000
    assert seen == 820_000
    assert finished <= done_at <= finished + 0.1 + 1e-9
    # Every 0.1 s was ~820 counts of an ever larger table; now one per 2 s at most while far from the end.
    assert len(wh.counts) < 60


def test_marks_are_met_close_to_where_they_lie(clock: _Clock) -> None:
    wh = _Rows(clock, rate=6_000, total=1_000_000)
    ticks: list[int] = []
    _wait(wh, 1_000_000, on_tick=ticks.append, marks=(100_000,))
    first_past = next(t for t in ticks if t >= 100_000)
    assert first_past - 100_000 <= 6_000 * 0.1 + 1  # within one short poll of the mark


def test_a_stalled_warehouse_is_still_polled_every_two_seconds_until_the_timeout(clock: _Clock) -> None:
    wh = _Rows(clock, rate=1_000, total=5_000)  # stops at 5,000 of the 10,000 expected
    started = clock.now
    seen, done_at = _wait(wh, 10_000, timeout=60.0)
    assert seen == 5_000
    assert done_at >= started + 60.0
    gaps = len(wh.counts)
    assert gaps >= 60 / 2.0  # never slower than one count per 2 s
