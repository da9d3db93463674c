"""A downstream outage (the sink raises a retriable error) must not push deliveries to the dead queue.

Found by the dead-link scenario: the kabupaten node's ``amqp_sink`` raises ``BrokerUnavailable`` while
the province is unreachable; the consumer rejected every failing delivery with requeue, which counts
towards the quorum queue's delivery limit, so an outage longer than about limit x (attempts x back-off)
moved healthy records into ``simpul.dead``, to wait for an operator. A retriable error says nothing about
the message: the consumer must hold the group and retry it, not burn its delivery count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hub.consume.consumer import BatchConsumer
from hub.errors import SinkUnavailable
from hub.transport.base import Delivery
from hub.transport.memory import MemoryTransport
from hub.transport.topology import default_topology


async def test_a_sink_outage_longer_than_the_delivery_limit_dead_letters_nothing() -> None:
    """Eight retriable failures in a row with a delivery limit of 3: the message is applied, not parked."""
    transport = MemoryTransport(default_topology("t", delivery_limit=3))
    await transport.start()
    await transport.publish("t.ingest", "ormas.v1.32.01", b"[]", message_id="m-1")
    failures = 0
    applied: list[str | None] = []

    async def handler(group: Sequence[Delivery]) -> None:
        nonlocal failures
        if failures < 8:
            failures += 1
            raise SinkUnavailable("the receiving node is unreachable")
        for delivery in group:
            applied.append(delivery.message_id)
            await delivery.ack()

    consumer = BatchConsumer(transport, "t.central", handler, name="forward", prefetch=4, linger_s=0)
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(30):
            while not applied:  # noqa: ASYNC110 (the handler runs in the consumer's task)
                await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
        await asyncio.gather(task, return_exceptions=True)
    assert applied == ["m-1"]
    assert transport.depth("t.dead") == 0, "a downstream outage must not dead-letter healthy messages"
    await transport.close()
