"""hub.http.admission: places in arrival order, a bounded line, bounded waits, no place lost to a caller
that went away."""

from __future__ import annotations

import asyncio

import pytest

from hub.http.admission import Admission


async def test_places_then_line_then_refusal() -> None:
    gate = Admission(2, max_waiting=1, max_wait_s=10)
    assert await gate.enter() and await gate.enter()
    waiter = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    assert gate.waiting == 1
    assert await gate.enter() is False  # the line is full: refused at once
    gate.leave()
    assert await waiter is True
    assert (gate.active, gate.waiting) == (2, 0)
    gate.leave()
    gate.leave()
    assert gate.active == 0


async def test_places_pass_in_arrival_order_and_newcomers_do_not_overtake() -> None:
    gate = Admission(1, max_waiting=10, max_wait_s=10)
    assert await gate.enter()
    order: list[int] = []

    async def waiter(n: int) -> None:
        assert await gate.enter()
        order.append(n)
        await asyncio.sleep(0)
        gate.leave()

    tasks = [asyncio.create_task(waiter(n)) for n in range(5)]
    await asyncio.sleep(0)
    gate.leave()
    assert gate.try_enter() is False  # the freed place went to the first in line, not to a newcomer
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4] and gate.active == 0


async def test_a_wait_that_runs_out_is_refused_and_leaves_the_line() -> None:
    gate = Admission(1, max_waiting=5, max_wait_s=0.05)
    assert await gate.enter()
    assert await gate.enter() is False
    assert (gate.active, gate.waiting) == (1, 0)
    gate.leave()
    assert gate.active == 0


async def test_without_a_line_refusal_is_immediate() -> None:
    gate = Admission(1)
    assert await gate.enter()
    assert await gate.enter() is False


@pytest.mark.parametrize("granted_first", [False, True])
async def test_a_cancelled_waiter_takes_no_place_with_it(granted_first: bool) -> None:
    gate = Admission(1, max_waiting=5, max_wait_s=10)
    assert await gate.enter()
    waiter = asyncio.create_task(gate.enter())
    behind = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    if granted_first:
        gate.leave()  # the place is handed to the waiter, which is cancelled before it runs
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    if not granted_first:
        gate.leave()
    assert await behind is True  # the place reached the next in line either way
    assert (gate.active, gate.waiting) == (1, 0)
    gate.leave()
    assert gate.active == 0


async def test_retry_after_is_the_time_the_line_ahead_takes() -> None:
    gate = Admission(4, max_waiting=100, max_wait_s=10)
    for _ in range(4):
        assert await gate.enter()
    for _ in range(50):  # the mean hold time converges on 2 s; the places are taken again at once
        gate.leave(2.0)
        assert gate.try_enter()
    waiters = [asyncio.create_task(gate.enter()) for _ in range(39)]
    await asyncio.sleep(0)
    # 40 ahead (39 waiting + the refused one), 4 places, ~2 s each: ~20 s.
    assert 19 <= gate.retry_after() <= 21
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    assert gate.waiting == 0
