"""MemoryTransport: the same routing, errors and quorum-queue redelivery rules as the AMQP transport."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
import structlog

from hub.errors import BrokerBlocked, BrokerUnavailable, ConfigError, TopologyError, Unroutable
from hub.transport.base import Delivery, Transport
from hub.transport.factory import make_transport
from hub.transport.memory import MemoryTransport
from hub.transport.memory_delivery import MemoryDelivery
from hub.transport.policies import check_topology, queue_policies
from hub.transport.topology import BindingSpec, ExchangeSpec, QueueSpec, Topology, default_topology


def _regional_topology() -> Topology:
    return Topology(
        prefix="r",
        exchanges=(ExchangeSpec("r.ingest"), ExchangeSpec("r.dlx")),
        queues=(
            QueueSpec("r.jabar", dead_letter_exchange="r.dlx", delivery_limit=2),
            QueueSpec("r.ormas", dead_letter_exchange="r.dlx", delivery_limit=2),
            QueueSpec("r.dead"),
        ),
        bindings=(
            BindingSpec("r.ingest", "r.jabar", "32.#"),
            BindingSpec("r.ingest", "r.ormas", "*.*.ormas"),
            BindingSpec("r.ingest", "r.ormas", "32.01.#"),  # overlaps the line above on purpose
            BindingSpec("r.dlx", "r.dead", "#"),
        ),
        policy_name="r-work",
    )


@pytest.fixture
async def transport() -> AsyncIterator[MemoryTransport]:
    """A started memory transport on the default topology with delivery limit 2."""
    t = MemoryTransport(default_topology("t", delivery_limit=2))
    await t.start()
    yield t
    await t.close()


async def _next(iterator: AsyncIterator[MemoryDelivery], timeout: float = 1.0) -> MemoryDelivery:
    return await asyncio.wait_for(anext(iterator), timeout)


async def test_topic_routing_to_matching_queues_once_each() -> None:
    """A key goes once to every queue with a matching binding, even when two bindings of a queue match."""
    t = MemoryTransport(_regional_topology())
    await t.start()
    await t.publish("r.ingest", "32.01.ormas", b"1", message_id="a")
    await t.publish("r.ingest", "32.73.anggota", b"2", message_id="b")
    await t.publish("r.ingest", "31.71.ormas", b"3", message_id="c")
    assert [m.message_id for m in t.messages("r.jabar")] == ["a", "b"]
    assert [m.message_id for m in t.messages("r.ormas")] == ["a", "c"]
    assert t.published[0].queues == ("r.jabar", "r.ormas")
    await t.close()


async def test_unroutable_and_missing_exchange() -> None:
    """No bound queue raises Unroutable (nothing stored); an undeclared exchange raises TopologyError."""
    t = MemoryTransport(_regional_topology())
    await t.start()
    with pytest.raises(Unroutable):
        await t.publish("r.ingest", "31.71.anggota", b"{}", message_id="x")
    with pytest.raises(TopologyError):
        await t.publish("r.nope", "32.01", b"{}", message_id="y")
    assert t.published == [] and t.depth("r.jabar") == 0
    await t.close()


async def test_not_ready_blocked_and_not_started() -> None:
    """Publishing before start, while set unready or blocked raises the retriable broker errors."""
    t = MemoryTransport(default_topology("t"))
    with pytest.raises(BrokerUnavailable):
        await t.publish("t.ingest", "a", b"{}", message_id="m")
    await t.start()
    assert t.ready
    t.set_ready(False)
    assert not t.ready
    with pytest.raises(BrokerUnavailable) as unavailable:
        await t.publish("t.ingest", "a", b"{}", message_id="m")
    assert not isinstance(unavailable.value, BrokerBlocked)
    t.set_ready(True)
    t.set_blocked(True)
    assert not t.ready
    with pytest.raises(BrokerBlocked):
        await t.publish("t.ingest", "a", b"{}", message_id="m")
    t.set_blocked(False)
    await t.publish("t.ingest", "a", b"{}", message_id="m")
    assert t.depth("t.central") == 1
    await t.close()
    with pytest.raises(BrokerUnavailable):
        await t.publish("t.ingest", "a", b"{}", message_id="m2")


async def test_consume_and_ack(transport: MemoryTransport) -> None:
    """A delivery carries the published fields; ack removes the message for good."""
    typed: Transport = transport
    await typed.publish("t.ingest", "3171.x", b'{"a":1}', message_id="m1", headers={"schema": "ormas"})
    delivery = await _next(transport.consume("t.central", prefetch=5))
    assert isinstance(delivery, Delivery)
    assert (delivery.body, delivery.message_id, delivery.routing_key) == (b'{"a":1}', "m1", "3171.x")
    assert delivery.exchange == "t.ingest" and delivery.headers["schema"] == "ormas"
    assert (delivery.redelivered, delivery.delivery_count, delivery.user_id) == (False, 0, "guest")
    assert transport.unacked("t.central")[0].message_id == "m1"
    await delivery.ack()
    assert transport.depth("t.central") == 0
    assert "b'" not in repr(delivery)  # bodies stay out of reprs (and so out of logs)


async def test_reject_requeue_counts_deliveries(transport: MemoryTransport) -> None:
    """reject(requeue=True) redelivers first, with redelivered=True and x-delivery-count + 1."""
    await transport.publish("t.ingest", "a", b"1", message_id="m1")
    await transport.publish("t.ingest", "a", b"2", message_id="m2")
    consumer = transport.consume("t.central", prefetch=1)
    first = await _next(consumer)
    await first.reject(requeue=True)
    again = await _next(consumer)
    assert again.message_id == "m1"
    assert (again.redelivered, again.delivery_count, again.headers["x-delivery-count"]) == (True, 1, 1)
    await again.ack()
    assert (await _next(consumer)).message_id == "m2"


async def test_delivery_limit_dead_letters_to_dead_queue(transport: MemoryTransport) -> None:
    """Like a quorum queue: delivered limit+1 times (counts 0..limit), then dead-lettered, not dropped."""
    await transport.publish("t.ingest", "3171.p", b"poison", message_id="p1")
    consumer = transport.consume("t.central", prefetch=1)
    counts = []
    for _ in range(3):
        delivery = await _next(consumer)
        counts.append(delivery.delivery_count)
        await delivery.reject(requeue=True)
    assert counts == [0, 1, 2]
    assert transport.depth("t.central") == 0
    [dead] = transport.messages("t.dead")
    assert (dead.message_id, dead.body, dead.routing_key) == ("p1", b"poison", "3171.p")
    assert dead.headers["x-first-death-reason"] == "delivery_limit"
    assert dead.headers["x-first-death-queue"] == "t.central"
    assert transport.dropped == []


async def test_reject_without_requeue_dead_letters(transport: MemoryTransport) -> None:
    """reject(requeue=False) dead-letters at once with reason 'rejected'."""
    await transport.publish("t.ingest", "a", b"{}", message_id="m1")
    delivery = await _next(transport.consume("t.central", prefetch=1))
    await delivery.reject(requeue=False)
    [dead] = transport.messages("t.dead")
    assert dead.headers["x-first-death-reason"] == "rejected"


async def test_reject_on_queue_without_dlx_is_recorded_as_dropped(transport: MemoryTransport) -> None:
    """The dead queue has no DLX: a broker would drop a rejected message; the transport records that."""
    await transport.publish("t.ingest", "a", b"{}", message_id="m1")
    await (await _next(transport.consume("t.central", prefetch=1))).reject(requeue=False)
    dead = await _next(transport.consume("t.dead", prefetch=1))
    await dead.reject(requeue=False)
    assert [(q, m.message_id, r) for q, m, r in transport.dropped] == [("t.dead", "m1", "rejected")]


async def test_prefetch_bounds_unacked(transport: MemoryTransport) -> None:
    """With prefetch 2 a third delivery waits until one of the first two is acked."""
    for i in range(3):
        await transport.publish("t.ingest", "a", b"{}", message_id=f"m{i}")
    consumer = transport.consume("t.central", prefetch=2)
    first, _second = await _next(consumer), await _next(consumer)
    third = asyncio.ensure_future(anext(consumer))
    await asyncio.sleep(0.05)
    assert not third.done()
    await first.ack()
    assert (await asyncio.wait_for(third, 1)).message_id == "m2"


async def test_bounded_queue_refuses_publish_when_full() -> None:
    """A full queue refuses the publish like overflow=reject-publish (BrokerUnavailable, nothing stored)."""
    t = MemoryTransport(default_topology("t"), max_queue_length=2)
    await t.start()
    await t.publish("t.ingest", "a", b"{}", message_id="1")
    await t.publish("t.ingest", "a", b"{}", message_id="2")
    with pytest.raises(BrokerUnavailable, match="full"):
        await t.publish("t.ingest", "a", b"{}", message_id="3")
    assert t.depth("t.central") == 2
    await t.close()


async def test_connection_loss_redelivers_and_skips_stale_ack(transport: MemoryTransport) -> None:
    """After a simulated connection loss the old delivery's ack is logged and skipped; it is redelivered."""
    await transport.publish("t.ingest", "a", b"{}", message_id="m1")
    consumer = transport.consume("t.central", prefetch=5)
    held = await _next(consumer)
    assert transport.simulate_connection_loss() == 1
    with structlog.testing.capture_logs() as logs:
        await held.ack()
    assert [e["event"] for e in logs] == ["stale_ack_skipped"]
    again = await _next(consumer)
    assert (again.message_id, again.redelivered, again.delivery_count) == ("m1", True, 1)
    await again.ack()
    assert transport.depth("t.central") == 0


async def test_double_ack_is_logged_not_sent(transport: MemoryTransport) -> None:
    """A second ack/reject of the same delivery does nothing but log (a broker would close the channel)."""
    await transport.publish("t.ingest", "a", b"{}", message_id="m1")
    await transport.publish("t.ingest", "a", b"{}", message_id="m2")
    consumer = transport.consume("t.central", prefetch=5)
    first = await _next(consumer)
    await first.ack()
    with structlog.testing.capture_logs() as logs:
        await first.reject(requeue=True)
    assert logs[0]["event"] == "delivery_already_settled"
    assert transport.depth("t.central") == 1


async def test_close_ends_iteration_and_returns_unacked() -> None:
    """close() ends a waiting consumer and puts unacked messages back, as a connection close does."""
    t = MemoryTransport(default_topology("t", delivery_limit=5))
    await t.start()
    await t.publish("t.ingest", "a", b"{}", message_id="m1")
    consumer = t.consume("t.central", prefetch=5)
    held = await _next(consumer)
    waiting = asyncio.ensure_future(anext(consumer, None))
    await asyncio.sleep(0.01)
    await t.close()
    assert await asyncio.wait_for(waiting, 1) is None
    [back] = t.messages("t.central")
    assert (back.message_id, back.redelivered, back.delivery_count) == ("m1", True, 1)
    assert held.stale
    assert not t.ready


async def test_aclose_returns_that_consumers_unacked(transport: MemoryTransport) -> None:
    """Closing one consume iterator returns only its own unacknowledged messages."""
    await transport.publish("t.ingest", "a", b"{}", message_id="m1")
    await transport.publish("t.ingest", "a", b"{}", message_id="m2")
    one = transport.consume("t.central", prefetch=1)
    two = transport.consume("t.central", prefetch=1)
    d1, d2 = await _next(one), await _next(two)
    await one.aclose()  # type: ignore[attr-defined]
    assert [m.message_id for m in transport.messages("t.central")] == [d1.message_id]
    await d2.ack()
    assert transport.depth("t.central") == 1


async def test_consume_unknown_queue_or_before_start() -> None:
    """An undeclared queue raises TopologyError, consuming before start() RuntimeError; prefetch 0 refused."""
    t = MemoryTransport(default_topology("t"))
    with pytest.raises(RuntimeError):
        await anext(t.consume("t.central", prefetch=1))
    await t.start()
    with pytest.raises(TopologyError):
        await anext(t.consume("t.nope", prefetch=1))
    with pytest.raises(ValueError):
        t.consume("t.central", prefetch=0)
    await t.close()


async def test_declared_introspection_lists_policies(transport: MemoryTransport) -> None:
    """declared shows exchanges, queues, bindings and the DLX policy of each work queue (none on dead)."""
    declared = transport.declared
    assert declared.exchanges == {"t.ingest", "t.quarantine", "t.dlx"}
    assert set(declared.queues) == {"t.central", "t.quarantine", "t.dead"}
    assert declared.policies["t.central"] == {
        "dead-letter-exchange": "t.dlx",
        "delivery-limit": 2,
        "dead-letter-strategy": "at-least-once",
        "overflow": "reject-publish",
    }
    assert "t.dead" not in declared.policies
    await transport.start()  # idempotent
    assert len(transport.declared.bindings) == 3


def test_unsafe_topology_refused() -> None:
    """A delivery limit without a dead-letter exchange (the broker would drop poison) is a TopologyError."""
    bad = Topology(exchanges=(ExchangeSpec("x"),), queues=(QueueSpec("q", delivery_limit=3),))
    with pytest.raises(TopologyError, match="drop"):
        check_topology(bad)
    dangling = Topology(exchanges=(ExchangeSpec("x"),), bindings=(BindingSpec("x", "missing", "#"),))
    with pytest.raises(TopologyError):
        check_topology(dangling)


def test_queue_policies_match_exactly_the_work_queues() -> None:
    """Policy patterns are anchored and escaped: they match the work queues and nothing else."""
    topology = _regional_topology()
    [policy] = queue_policies(topology)
    assert policy.name == "r-work" and policy.queues == ("r.jabar", "r.ormas")
    pattern = re.compile(policy.pattern)
    assert pattern.search("r.jabar") and pattern.search("r.ormas")
    for other in ("r.dead", "rxjabar", "r.jabar.x", "xr.ormas", "r.jabarr"):
        assert not pattern.search(other), other
    body = policy.as_api_body()
    assert body["apply-to"] == "queues" and body["definition"]["delivery-limit"] == 2


def test_queue_policies_one_per_settings_group() -> None:
    """Queues with different limits get separate policies with suffixed names."""
    topology = Topology(
        prefix="g",
        exchanges=(ExchangeSpec("g.dlx"),),
        queues=(
            QueueSpec("g.a", dead_letter_exchange="g.dlx", delivery_limit=3),
            QueueSpec("g.b", dead_letter_exchange="g.dlx", delivery_limit=9),
        ),
    )
    policies = queue_policies(topology)
    names = [(p.name, p.queues) for p in policies]
    assert names == [("g-work-queues", ("g.a",)), ("g-work-queues-2", ("g.b",))]


def test_make_transport_by_scheme() -> None:
    """memory:// builds a MemoryTransport; an unknown scheme is a ConfigError."""
    assert isinstance(make_transport("memory://", default_topology()), MemoryTransport)
    with pytest.raises(ConfigError):
        make_transport("kafka://x", default_topology())


async def test_queue_stats_blocked_and_inflight_seams(transport: MemoryTransport) -> None:
    """The figures the observer reads through the Transport protocol: depth (waiting + unacked) and
    active consumers per queue, unknown queues left out; ``blocked`` follows the alarm; nothing in flight."""
    for n in range(3):
        await transport.publish("t.ingest", "3171.ormas", b"{}", message_id=f"qs-{n}")
    consumer = transport.consume("t.central", prefetch=1)
    held = await _next(consumer)  # one unacked still counts in the depth
    stats = await transport.queue_stats(["t.central", "t.quarantine", "t.nonexistent"])
    assert {q: tuple(s) for q, s in stats.items()} == {"t.central": (3, 1), "t.quarantine": (0, 0)}
    await held.ack()
    assert (await transport.queue_stats(["t.central"]))["t.central"].messages == 2
    assert transport.inflight == 0 and transport.blocked is False
    transport.set_blocked(True)
    assert transport.blocked is True and not transport.ready
