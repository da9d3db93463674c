"""The batching publisher: grouping by routing key, confirms, failures and backpressure."""

from __future__ import annotations

import asyncio

import pytest

from hub.errors import BrokerUnavailable
from hub.ingest.publisher import BatchingPublisher
from hub.metrics import Metrics
from hub.model import codec
from hub.transport.memory import MemoryTransport
from hub.transport.topology import default_topology
from tests.helpers import stall_publishes


async def _transport() -> MemoryTransport:
    transport = MemoryTransport(default_topology("t"))
    await transport.start()
    return transport


async def test_records_with_one_key_share_a_message_and_all_are_confirmed() -> None:
    """250 records on one key with max 100 per message give 3 messages holding all 250, in order."""
    transport = await _transport()
    pub = BatchingPublisher(transport, "t.ingest", Metrics(), max_records=100, linger_s=0.01)
    items = [codec.dumps({"n": i}) for i in range(250)]
    await asyncio.gather(*(pub.submit("s.v1.32", it, f"id{i}") for i, it in enumerate(items)))
    bodies = transport.bodies("t.central")
    assert len(bodies) == 3
    assert [e["n"] for b in bodies for e in codec.split_batch(b)] == list(range(250))


async def test_different_keys_never_share_a_message() -> None:
    """Records for two routing keys travel in separate messages."""
    transport = await _transport()
    pub = BatchingPublisher(transport, "t.ingest", Metrics(), linger_s=0.01)
    await asyncio.gather(pub.submit("a.v1.32", b'{"k":"a"}', "1"), pub.submit("b.v1.33", b'{"k":"b"}', "2"))
    keys = sorted(m.routing_key for m in transport.messages("t.central"))
    assert keys == ["a.v1.32", "b.v1.33"]


async def test_byte_limit_splits_batches() -> None:
    """A batch never exceeds max_bytes (records of 600 bytes, limit 2000 -> at most 3 per message)."""
    transport = await _transport()
    pub = BatchingPublisher(transport, "t.ingest", Metrics(), max_bytes=2000, linger_s=0.01)
    item = codec.dumps({"x": "y" * 590})
    await asyncio.gather(*(pub.submit("k.v1.32", item, str(i)) for i in range(10)))
    sizes = [len(b) for b in transport.bodies("t.central")]
    assert all(size <= 2000 for size in sizes)
    assert sum(len(codec.split_batch(b)) for b in transport.bodies("t.central")) == 10


async def test_failed_publish_reaches_every_waiter() -> None:
    """When the broker is unavailable every record of the batch sees BrokerUnavailable."""
    transport = await _transport()
    transport.set_ready(False)
    pub = BatchingPublisher(transport, "t.ingest", Metrics(), linger_s=0.01)
    results = await asyncio.gather(
        *(pub.submit("k.v1.32", b"{}", str(i)) for i in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, BrokerUnavailable) for r in results)


async def test_pending_records_are_bounded() -> None:
    """With max_pending=4 and a stalled broker, a fifth submit waits instead of buffering."""
    transport = await _transport()
    gate = stall_publishes(transport)
    metrics = Metrics()
    pub = BatchingPublisher(transport, "t.ingest", metrics, max_records=1, linger_s=0, max_pending=4)
    tasks = [asyncio.create_task(pub.submit("k.v1.32", b"{}", str(i))) for i in range(6)]
    await asyncio.sleep(0.05)
    assert metrics.pending_records._value.get() == 4
    gate.set()
    await asyncio.gather(*tasks)
    assert metrics.pending_records._value.get() == 0
    assert len(transport.messages("t.central")) == 6


@pytest.mark.parametrize("count", [1, 7])
async def test_drain_sends_open_batches(count: int) -> None:
    """drain() flushes a lingering batch at once."""
    transport = await _transport()
    pub = BatchingPublisher(transport, "t.ingest", Metrics(), linger_s=60)
    tasks = [asyncio.create_task(pub.submit("k.v1.32", b"{}", str(i))) for i in range(count)]
    await asyncio.sleep(0)
    await pub.drain()
    await asyncio.gather(*tasks)
    assert len(transport.messages("t.central")) == 1


async def test_submit_many_reports_each_record_and_shares_messages() -> None:
    """submit_many: records with one key share a message; a failed message fails exactly its records."""
    transport = await _transport()
    original = transport.publish

    async def refuse_b(exchange: str, routing_key: str, body: bytes, **kwargs: object) -> None:
        if routing_key.startswith("b."):
            raise BrokerUnavailable("nacked")
        await original(exchange, routing_key, body, **kwargs)  # type: ignore[arg-type]

    transport.publish = refuse_b  # type: ignore[method-assign]
    metrics = Metrics()
    pub = BatchingPublisher(transport, "t.ingest", metrics, linger_s=0.01)
    items = [("a.v1.32", b'{"i":%d}' % i, f"a{i}") for i in range(5)]
    items += [("b.v1.33", b'{"i":%d}' % i, f"b{i}") for i in range(3)]
    results = await pub.submit_many(items)
    assert results[:5] == [None] * 5
    assert all(isinstance(r, BrokerUnavailable) for r in results[5:])
    bodies = transport.bodies("t.central")
    assert len(bodies) == 1 and len(codec.split_batch(bodies[0])) == 5
    assert metrics.pending_records._value.get() == 0


async def test_submit_many_is_bounded_by_the_pending_slots() -> None:
    """More records than max_pending: later records wait for earlier confirms; all slots come back."""
    transport = await _transport()
    metrics = Metrics()
    pub = BatchingPublisher(transport, "t.ingest", metrics, max_records=2, linger_s=0, max_pending=3)
    peak = 0
    original = transport.publish

    async def watch(*args: object, **kwargs: object) -> None:
        nonlocal peak
        peak = max(peak, int(metrics.pending_records._value.get()))
        await asyncio.sleep(0.01)
        await original(*args, **kwargs)  # type: ignore[arg-type]

    transport.publish = watch  # type: ignore[method-assign]
    results = await pub.submit_many([("k.v1.32", b"{}", str(i)) for i in range(10)])
    assert results == [None] * 10
    assert peak <= 3
    assert metrics.pending_records._value.get() == 0
    assert sum(len(codec.split_batch(b)) for b in transport.bodies("t.central")) == 10


async def test_a_quiet_publisher_sends_at_once_without_lingering() -> None:
    """Nothing in flight: a lone record leaves on the next loop turn, not after the (here 60 s) linger."""
    transport = await _transport()
    pub = BatchingPublisher(transport, "t.ingest", Metrics(), linger_s=60)
    await asyncio.wait_for(pub.submit("k.v1.32", b"{}", "1"), 2)
    assert len(transport.messages("t.central")) == 1


async def test_records_linger_and_share_a_message_behind_a_send_in_flight() -> None:
    """Nagle's rule: while a message waits for its confirm, the next records wait for company."""
    transport = await _transport()
    gate = stall_publishes(transport)
    pub = BatchingPublisher(transport, "t.ingest", Metrics(), linger_s=0.05)
    first = asyncio.create_task(pub.submit("k.v1.32", b'{"n":0}', "0"))
    await asyncio.sleep(0.01)  # the first message is sent at once and waits for its confirm
    rest = [asyncio.create_task(pub.submit("k.v1.32", b'{"n":%d}' % i, str(i))) for i in range(1, 6)]
    for _ in range(3):  # one at a time, spread over the linger
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.1)
    gate.set()
    await asyncio.gather(first, *rest)
    assert [len(codec.split_batch(b)) for b in transport.bodies("t.central")] == [1, 5]
