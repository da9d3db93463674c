"""``BatchConsumer(concurrency=N)``: up to N groups handled at once, each acked by its own handler call;
stopping finishes the groups in hand; cancelling cancels them (their deliveries stay unacked)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from hub.consume.consumer import BatchConsumer
from hub.transport.base import Delivery
from hub.transport.memory import MemoryTransport
from hub.transport.topology import default_topology


async def _setup(messages: int) -> MemoryTransport:
    transport = MemoryTransport(default_topology("t", delivery_limit=3))
    await transport.start()
    for i in range(messages):
        await transport.publish("t.ingest", "ormas.v1.32.01", b"[]", message_id=f"m-{i}")
    return transport


async def _run_with(concurrency: int) -> tuple[int, list[str | None], MemoryTransport]:
    transport = await _setup(12)
    active = peak = 0
    acked: list[str | None] = []
    release = asyncio.Event()

    async def handler(group: Sequence[Delivery]) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)  # the "commit"
        if len(acked) >= 8:
            await release.wait()
        active -= 1
        for delivery in group:
            acked.append(delivery.message_id)
            await delivery.ack()

    consumer = BatchConsumer(
        transport,
        "t.central",
        handler,
        name="c",
        prefetch=12,
        max_messages=2,
        linger_s=0,
        concurrency=concurrency,
    )
    task = asyncio.create_task(consumer.run())
    for _ in range(200):
        if len(acked) >= 8:
            break
        await asyncio.sleep(0.01)
    stopping = asyncio.create_task(consumer.stop())  # groups in hand are finished, not dropped
    release.set()
    await stopping
    await asyncio.wait_for(task, 5)
    return peak, acked, transport


async def test_groups_overlap_up_to_the_concurrency_and_each_is_acked() -> None:
    peak, acked, transport = await _run_with(3)
    assert peak == 3
    assert len(acked) == len(set(acked)) >= 8
    assert transport.unacked("t.central") == []


async def test_concurrency_one_handles_one_group_at_a_time() -> None:
    peak, acked, _transport = await _run_with(1)
    assert peak == 1
    assert len(acked) >= 8


async def test_cancelling_the_consumer_cancels_the_groups_in_hand() -> None:
    transport = await _setup(4)
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def handler(group: Sequence[Delivery]) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    consumer = BatchConsumer(transport, "t.central", handler, name="c", prefetch=4, linger_s=0, concurrency=2)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled and len(transport.unacked("t.central")) == 4


async def test_stop_lets_the_group_in_hand_ack_before_the_subscription_closes() -> None:
    """A group being committed when ``stop`` is called is acked on its still-open subscription: not
    returned to the queue and redelivered (found in a real broker run: the ack raced the channel close)."""
    transport = await _setup(1)
    in_hand = asyncio.Event()

    async def handler(group: Sequence[Delivery]) -> None:
        in_hand.set()
        await asyncio.sleep(0.2)  # the commit
        for delivery in group:
            await delivery.ack()

    consumer = BatchConsumer(transport, "t.central", handler, name="c", prefetch=4, linger_s=0)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(in_hand.wait(), 5)
    await consumer.stop()
    await asyncio.wait_for(task, 5)
    assert transport.depth("t.central") == 0 and transport.unacked("t.central") == []


def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        BatchConsumer(
            MemoryTransport(default_topology("t")), "t.central", lambda g: None, name="c", concurrency=0
        )  # type: ignore[arg-type,return-value]


async def test_an_idle_consumer_hands_a_lone_delivery_over_at_once() -> None:
    """Group commit: with no group in hand there is nothing to wait behind, so no linger (here 60 s)."""
    transport = await _setup(1)
    handled = asyncio.Event()

    async def handler(group: Sequence[Delivery]) -> None:
        for delivery in group:
            await delivery.ack()
        handled.set()

    consumer = BatchConsumer(transport, "t.central", handler, name="c", linger_s=60)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(handled.wait(), 2)
    await consumer.stop()
    await asyncio.wait_for(task, 5)
    assert transport.unacked("t.central") == []
