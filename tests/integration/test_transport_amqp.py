"""AmqpTransport against the real RabbitMQ: each test in its own throw-away vhost (see conftest.py)."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aio_pika
import pytest
import structlog
from aiormq import spec

from hub.errors import BrokerBlocked, BrokerUnavailable, TopologyError, Unroutable
from hub.transport.amqp import AmqpDelivery, AmqpTransport
from hub.transport.base import Delivery, Transport
from hub.transport.management import ManagementClient
from hub.transport.topology import BindingSpec, ExchangeSpec, QueueSpec, Topology, default_topology

pytestmark = pytest.mark.broker

T = TypeVar("T")


def _name() -> str:
    return f"simpul-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def make_transport(
    amqp_url: str, management_url: str
) -> AsyncIterator[Callable[..., Awaitable[AmqpTransport]]]:
    """Factory of started transports on this test's vhost; all are closed after the test."""
    made: list[AmqpTransport] = []

    async def make(topology: Topology | None = None, **kwargs: Any) -> AmqpTransport:
        kwargs.setdefault("name", _name())
        kwargs.setdefault("management_url", management_url)
        url = kwargs.pop("url", amqp_url)
        transport = AmqpTransport(url, topology or default_topology("t", delivery_limit=3), **kwargs)
        made.append(transport)
        await transport.start()
        return transport

    yield make
    for transport in made:
        await transport.close()


async def _next(iterator: AsyncIterator[T], timeout: float = 10.0) -> T:
    return await asyncio.wait_for(anext(iterator), timeout)


async def _eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0, interval: float = 0.1) -> T:
    """Retry ``check`` (which raises or returns a falsy value) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
            if result:
                return result
        except (BrokerUnavailable, Unroutable, AssertionError):
            if time.monotonic() >= deadline:
                raise
        if time.monotonic() >= deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def _queue_totals(api: ManagementClient, vhost: str) -> dict[str, dict[str, Any]]:
    """Queue records (type, policy) straight from the broker; their message totals lag by seconds."""
    return {q["name"]: q for q in await api.list_queues(vhost, stats=False)}


async def _ready_count(amqp_url: str, queue: str) -> int:
    """Messages ready in ``queue`` right now (a passive declare; management totals lag by seconds)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        count = declared.declaration_result.message_count
        return int(count or 0)
    finally:
        await connection.close()


async def test_publish_confirm_then_consume_and_ack(make_transport, amqp_url) -> None:
    """A confirmed publish is consumed with its id, key and headers, and the ack empties the queue."""
    transport: Transport = await make_transport()
    assert transport.ready
    await transport.publish(
        "t.ingest", "3171.ormas", b'{"n": 1}', message_id="m-1", headers={"schema": "ormas", "v": 2}
    )
    consumer = transport.consume("t.central", prefetch=5)
    delivery = await _next(consumer)
    assert isinstance(delivery, Delivery)
    assert (delivery.body, delivery.message_id, delivery.routing_key) == (b'{"n": 1}', "m-1", "3171.ormas")
    assert delivery.exchange == "t.ingest"
    assert delivery.headers["schema"] == "ormas" and delivery.headers["v"] == 2
    assert (delivery.redelivered, delivery.delivery_count) == (False, 0)
    await delivery.ack()
    await transport.close()  # anything left unacked would now be back in the queue
    assert await _ready_count(amqp_url, "t.central") == 0


async def test_received_message_is_persistent_with_user_id(make_transport) -> None:
    """Messages are published persistent, with the login user as user_id and the content type set."""
    transport = await make_transport()
    await transport.publish("t.ingest", "3171.a", b"{}", message_id="m-p", content_type="application/json")
    delivery = await _next(transport.consume("t.central", prefetch=1))
    assert isinstance(delivery, AmqpDelivery)
    assert delivery.persistent is True
    assert delivery.user_id == "guest"
    assert delivery.content_type == "application/json"
    await delivery.ack()


async def test_unroutable_publish_raises_and_channel_survives(make_transport) -> None:
    """A key no binding matches raises Unroutable; a missing exchange raises TopologyError; both recover."""
    topology = Topology(
        prefix="u",
        exchanges=(ExchangeSpec("u.ingest"), ExchangeSpec("u.dlx")),
        queues=(QueueSpec("u.q3171", dead_letter_exchange="u.dlx", delivery_limit=2), QueueSpec("u.dead")),
        bindings=(BindingSpec("u.ingest", "u.q3171", "3171.#"), BindingSpec("u.dlx", "u.dead", "#")),
        policy_name="u-work",
    )
    transport = await make_transport(topology)
    with pytest.raises(Unroutable):
        await transport.publish("u.ingest", "3172.ormas", b"{}", message_id="m-u")
    with pytest.raises(TopologyError):
        await transport.publish("u.no-such-exchange", "3171.x", b"{}", message_id="m-x")

    async def routable() -> bool:
        await transport.publish("u.ingest", "3171.ormas", b"{}", message_id="m-ok")
        return True

    await _eventually(routable, timeout=10)  # the channel closed by the 404 is reopened
    delivery = await _next(transport.consume("u.q3171", prefetch=1))
    assert delivery.message_id == "m-ok"
    await delivery.ack()


async def test_policies_applied_to_work_queues(make_transport, management, broker_vhost) -> None:
    """Work queues are quorum queues with the DLX + delivery-limit policy in effect; the dead queue none."""
    await make_transport(default_topology("t", delivery_limit=4))
    records = await _queue_totals(management, broker_vhost)
    for name in ("t.central", "t.quarantine"):
        assert records[name]["type"] == "quorum"
        assert records[name]["policy"] == "t-work-queues"
    assert records["t.dead"].get("policy") is None
    policy = await management.get_policy(broker_vhost, "t-work-queues")
    assert policy is not None
    assert policy["definition"] == {
        "dead-letter-exchange": "t.dlx",
        "delivery-limit": 4,
        "dead-letter-strategy": "at-least-once",
        "overflow": "reject-publish",
    }
    assert policy["apply-to"] == "queues"

    async def effective() -> dict[str, Any] | None:  # the statistics view catches up within ~10 s
        info = await management.get_queue(broker_vhost, "t.central")
        result: dict[str, Any] | None = (info or {}).get("effective_policy_definition")
        return result

    definition = await _eventually(effective, timeout=30, interval=0.5)
    assert definition["dead-letter-exchange"] == "t.dlx" and definition["delivery-limit"] == 4


async def test_start_fails_when_a_stronger_policy_overrides(make_transport, management, broker_vhost) -> None:
    """If an operator policy of higher priority wins, start() raises TopologyError naming the queue."""
    await management.put_policy(
        broker_vhost, "operator-catch-all", pattern=".*", definition={"max-length": 1000}, priority=100
    )
    with pytest.raises(TopologyError, match=r"t\.central|t\.quarantine"):
        await make_transport(policy_timeout=1.0)


async def test_poison_message_lands_in_dead_queue(make_transport, amqp_url) -> None:
    """A message rejected with requeue beyond the delivery limit is dead-lettered, not dropped."""
    transport = await make_transport(default_topology("t", delivery_limit=2))
    await transport.publish("t.ingest", "3171.poison", b'{"bad": true}', message_id="poison-1")
    consumer = transport.consume("t.central", prefetch=1)
    counts = []
    for _ in range(3):  # delivered with x-delivery-count 0, 1, 2; the third return exceeds the limit
        delivery = await _next(consumer)
        counts.append(delivery.delivery_count)
        await delivery.reject(requeue=True)
    assert counts == [0, 1, 2]
    dead = await _next(transport.consume("t.dead", prefetch=1))
    assert dead.message_id == "poison-1" and dead.body == b'{"bad": true}'
    assert dead.headers["x-first-death-reason"] == "delivery_limit"
    assert dead.headers["x-first-death-queue"] == "t.central"
    await dead.ack()
    await transport.close()
    assert await _ready_count(amqp_url, "t.central") == 0
    assert await _ready_count(amqp_url, "t.dead") == 0


async def test_blocked_connection_refuses_publish_fast(make_transport) -> None:
    """While the broker has sent connection.blocked, ready is False and publish raises BrokerBlocked at once.

    The shared broker's alarms must not be touched, so the Connection.Blocked frame is injected into the
    real aiormq connection through aiormq's own frame handler; a real memory/disk alarm test belongs to the
    fault suite, which runs its own broker node.
    """
    transport = await make_transport()
    underlay = transport._pub_conn.transport.connection  # type: ignore[union-attr]
    await underlay._Connection__handle_connection_blocked(spec.Connection.Blocked(reason="test alarm"))
    assert transport.blocked and not transport.ready
    started = time.monotonic()
    with pytest.raises(BrokerBlocked):
        await transport.publish("t.ingest", "3171.b", b"{}", message_id="m-blocked")
    assert time.monotonic() - started < 0.5
    await underlay._Connection__handle_connection_unblocked(spec.Connection.Unblocked())
    assert transport.ready
    await transport.publish("t.ingest", "3171.b", b"{}", message_id="m-after")


async def test_publish_times_out_when_confirms_never_come(tcp_proxy, make_transport, broker_vhost) -> None:
    """On a dead link (proxy blackhole) publish raises BrokerUnavailable after publish_timeout, no hang."""
    url = tcp_proxy.url_for(broker_vhost)
    transport = await make_transport(url=url, publish_timeout=0.5, close_timeout=1.0)
    await transport.publish("t.ingest", "3171.t", b"{}", message_id="m-before")
    tcp_proxy.blackhole = True
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as info:
        await transport.publish("t.ingest", "3171.t", b"{}", message_id="m-lost")
    elapsed = time.monotonic() - started
    assert not isinstance(info.value, BrokerBlocked)
    assert 0.4 < elapsed < 2.0
    assert transport.inflight == 0


async def _transport_connections(api: ManagementClient, vhost: str, name: str, count: int) -> list[str]:
    async def listed() -> list[str]:
        connections = await api.list_connections(vhost)
        mine = [
            c["name"]
            for c in connections
            if str((c.get("client_properties") or {}).get("connection_name", "")).startswith(f"{name}:")
        ]
        return mine if len(mine) >= count else []

    return await _eventually(listed, timeout=20, interval=0.25)


async def test_consumer_survives_forced_connection_close(
    make_transport, management, broker_vhost, amqp_url
) -> None:
    """After both connections are force-closed: stale ack is skipped, unacked is redelivered, flow resumes."""
    transport = await make_transport(reconnect_interval=0.2)
    consumer = transport.consume("t.central", prefetch=10)
    await transport.publish("t.ingest", "3171.a", b"{}", message_id="m-unacked")
    held = await _next(consumer)
    assert held.message_id == "m-unacked" and not held.redelivered

    names = await _transport_connections(management, broker_vhost, transport.name, 2)
    for name in names:
        assert await management.close_connection(name, reason="simpul test: forced close")

    redelivered = await _next(consumer, timeout=20)
    assert redelivered.message_id == "m-unacked" and redelivered.redelivered
    with structlog.testing.capture_logs() as logs:
        await held.ack()  # stale: must not raise, must not ack anything on the new channel
    assert any(e["event"] == "stale_ack_skipped" for e in logs)

    async def publish_after() -> bool:
        await transport.publish("t.ingest", "3171.a", b"{}", message_id="m-after")
        return True

    await _eventually(publish_after, timeout=20)
    after = await _next(consumer, timeout=20)
    assert after.message_id == "m-after"
    await redelivered.ack()
    await after.ack()
    assert transport.ready
    await transport.close()
    assert await _ready_count(amqp_url, "t.central") == 0


async def test_queue_deleted_under_consumer_is_redeclared(make_transport, management, broker_vhost) -> None:
    """When the queue is deleted under a consumer, the topology is re-declared and consumption continues."""
    transport = await make_transport()
    consumer = transport.consume("t.central", prefetch=5)
    await transport.publish("t.ingest", "3171.a", b"{}", message_id="m-1")
    first = await _next(consumer)
    await first.ack()

    with structlog.testing.capture_logs() as logs:
        assert await management.delete_queue(broker_vhost, "t.central")

        async def recreated() -> bool:
            record = (await _queue_totals(management, broker_vhost)).get("t.central")
            return record is not None and record["policy"] == "t-work-queues"

        await _eventually(recreated, timeout=20)

        async def publish_again() -> bool:
            await transport.publish("t.ingest", "3171.a", b"{}", message_id="m-2")
            return True

        await _eventually(publish_again, timeout=20)  # Unroutable until the binding is back
        second = await _next(consumer, timeout=20)
    assert second.message_id == "m-2"
    await second.ack()
    assert any(e["event"] == "consumer_cancelled_by_broker" for e in logs)


async def test_concurrent_publishes_bounded_by_max_inflight(make_transport, amqp_url) -> None:
    """200 concurrent publishes never have more than max_inflight awaiting confirms, and all arrive."""
    transport = await make_transport(max_inflight=4)
    peak = 0
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, transport.inflight)
            await asyncio.sleep(0)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(
        *(transport.publish("t.ingest", f"3171.{i}", b"{}", message_id=f"m-{i}") for i in range(200))
    )
    stop.set()
    await sampler
    assert peak == 4
    assert transport.inflight == 0
    assert await _ready_count(amqp_url, "t.central") == 200


async def test_close_ends_consumer_iteration(make_transport) -> None:
    """close() ends a consumer waiting for messages; a publish afterwards raises BrokerUnavailable."""
    transport = await make_transport()
    consumer = transport.consume("t.central", prefetch=2)
    waiting = asyncio.create_task(anext(consumer, None))
    await asyncio.sleep(0.3)
    await transport.close()
    assert await asyncio.wait_for(waiting, 5) is None
    assert not transport.ready
    with pytest.raises(BrokerUnavailable):
        await transport.publish("t.ingest", "3171.a", b"{}", message_id="m-closed")


async def test_abandoned_consumer_returns_its_messages(make_transport) -> None:
    """A consume iterator dropped without close (its task cancelled) releases its unacked messages."""
    transport = await make_transport()
    await transport.publish("t.ingest", "3171.a", b"{}", message_id="m-abandoned")

    async def take_one() -> str | None:
        consumer = transport.consume("t.central", prefetch=5)
        delivery = await _next(consumer)
        return delivery.message_id  # neither acked nor rejected; the iterator is dropped on return

    assert await take_one() == "m-abandoned"
    gc.collect()
    again = await _next(transport.consume("t.central", prefetch=5), timeout=15)
    assert again.message_id == "m-abandoned" and again.redelivered
    await again.ack()


async def test_bodies_never_logged_even_at_debug(make_transport, caplog, capsys) -> None:
    """With aiormq at DEBUG (it logs every frame) a message body still never reaches any log output."""
    secret = "3171012345678901"  # looks like a NIK
    caplog.set_level(logging.DEBUG, logger="aiormq")
    caplog.set_level(logging.DEBUG, logger="aio_pika")
    transport = await make_transport()
    await transport.publish("t.ingest", "3171.a", f'{{"nik": "{secret}"}}'.encode(), message_id="m-secret")
    delivery = await _next(transport.consume("t.central", prefetch=1))
    assert secret.encode() in delivery.body
    await delivery.reject(requeue=True)
    await transport.close()
    assert any("frame" in r.getMessage() for r in caplog.records)  # the frames were logged...
    assert secret not in caplog.text  # ...without the body
    captured = capsys.readouterr()
    assert secret not in captured.out and secret not in captured.err


async def test_publisher_channel_replaced_when_not_restored(make_transport) -> None:
    """If the publisher channel stays closed while connected, the transport opens a new one by itself."""
    transport = await make_transport()
    assert transport._pub_channel is not None
    await transport._pub_channel.close()  # an explicit close: aio-pika will not restore this channel
    assert not transport.ready
    with pytest.raises(BrokerUnavailable):
        await transport.publish("t.ingest", "3171.a", b"{}", message_id="m-1")

    async def healed() -> bool:
        return transport.ready

    await _eventually(healed, timeout=10)
    await transport.publish("t.ingest", "3171.a", b"{}", message_id="m-2")
    delivery = await _next(transport.consume("t.central", prefetch=1))
    assert delivery.message_id == "m-2"
    await delivery.ack()


async def test_inflight_publish_caught_by_a_block_times_out_as_blocked(
    tcp_proxy, make_transport, broker_vhost
) -> None:
    """A publish already waiting when the broker blocks ends at publish_timeout with BrokerBlocked."""
    transport = await make_transport(
        url=tcp_proxy.url_for(broker_vhost), publish_timeout=0.5, close_timeout=1.0
    )
    tcp_proxy.blackhole = True  # the confirm will not come
    publishing = asyncio.create_task(transport.publish("t.ingest", "3171.b", b"{}", message_id="m-stuck"))
    await asyncio.sleep(0.1)
    underlay = transport._pub_conn.transport.connection  # type: ignore[union-attr]
    await underlay._Connection__handle_connection_blocked(spec.Connection.Blocked(reason="test alarm"))
    with pytest.raises(BrokerBlocked):
        await asyncio.wait_for(publishing, 2)


async def test_queue_stats_blocked_and_inflight_seams(make_transport) -> None:
    """What the observer reads through the Transport protocol: depth and consumers per queue from the
    management API (one client, closed with the transport), unknown queues left out, not blocked, idle."""
    transport = await make_transport()
    for n in range(3):
        await transport.publish("t.ingest", "3171.ormas", b"{}", message_id=f"qs-{n}")
    consumer = transport.consume("t.quarantine", prefetch=1)
    waiter = asyncio.ensure_future(anext(consumer))  # subscribes; nothing arrives on that queue

    async def figures() -> dict[str, Any] | None:
        stats = await transport.queue_stats(["t.central", "t.quarantine", "t.nonexistent"])
        wanted = {"t.central": (3, 0), "t.quarantine": (0, 1)}
        return stats if {q: tuple(s) for q, s in stats.items()} == wanted else None

    stats = await _eventually(figures)  # the management statistics lag a few seconds
    assert "t.nonexistent" not in stats
    assert transport.blocked is False and transport.inflight == 0
    waiter.cancel()
    await transport.close()
    assert transport._stats_api is None
    with pytest.raises(BrokerUnavailable):  # no client opened after the close, to leak
        await transport.queue_stats(["t.central"])
