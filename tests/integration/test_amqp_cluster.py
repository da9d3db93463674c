"""The AMQP transport over several addresses: skipping dead ones at start, moving to another address when
its connection dies, and failing over on a real 3-node cluster (``ops/scripts/cluster.sh``) when the node
it publishes through is killed with ``kill -9``."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

import aio_pika
import pytest
import structlog.testing
from yarl import URL

from hub.errors import BrokerUnavailable, ConfigError
from hub.transport import amqp_connection
from hub.transport.amqp import AmqpTransport
from hub.transport.amqp_connection import last_frame_at
from hub.transport.topology import Topology, default_topology, with_replicas
from tests.cluster_node import Cluster
from tests.proxy import FaultyLink

pytestmark = pytest.mark.broker

DEAD_AMQP = "amqp://guest:guest@127.0.0.1:1/"  # nothing listens on port 1: connection refused at once
DEAD_MGMT = "http://guest:guest@127.0.0.1:1"


def _topology() -> Topology:
    return default_topology("simpul", delivery_limit=5)


async def _publish_until(
    transport: AmqpTransport,
    start: int,
    stop: int,
    confirmed: list[tuple[int, float]],
    halfway: asyncio.Event | None = None,
) -> None:
    """Publish messages ``start..stop-1`` in order, each retried until confirmed (at-least-once); sets
    ``halfway`` after a fifth of them."""
    exchange = transport.topology.ingest_exchange
    for n in range(start, stop):
        while True:
            try:
                await transport.publish(exchange, "t.v1.32", b"{}", message_id=f"m-{n}")
                confirmed.append((n, time.monotonic()))
                if halfway is not None and n - start >= (stop - start) // 5:
                    halfway.set()
                break
            except BrokerUnavailable:
                await asyncio.sleep(0.1)


async def _drain(transport: AmqpTransport, queue: str, want: set[str], timeout: float) -> set[str]:
    seen: set[str] = set()
    async with asyncio.timeout(timeout):
        async for delivery in transport.consume(queue, prefetch=100):
            seen.add(delivery.message_id or "")
            await delivery.ack()
            if want <= seen:
                break
    return seen


async def test_start_skips_unreachable_addresses(broker_vhost: str) -> None:
    """Dead addresses (AMQP and management) are skipped, whatever the shuffle; the live one is used."""
    live = f"amqp://guest:guest@127.0.0.1:5672/{quote(broker_vhost, safe='')}"
    dead = DEAD_AMQP + quote(broker_vhost, safe="")
    transport = AmqpTransport(
        dead,
        _topology(),
        urls=[dead.replace(":1/", ":2/"), live],
        management_url=DEAD_MGMT,
        management_urls=["http://guest:guest@127.0.0.1:15672"],
        connect_timeout=3,
    )
    await transport.start()
    try:
        assert transport.connected_address("publish") == "127.0.0.1:5672"
        assert transport.connected_address("consume") == "127.0.0.1:5672"
        confirmed: list[tuple[int, float]] = []
        await _publish_until(transport, 0, 3, confirmed)
        assert [n for n, _ in confirmed] == [0, 1, 2]
    finally:
        await transport.close()


async def test_only_dead_addresses_is_broker_unavailable(broker_vhost: str) -> None:
    transport = AmqpTransport(
        DEAD_AMQP, _topology(), urls=[DEAD_AMQP.replace(":1/", ":2/")], connect_timeout=2
    )
    with pytest.raises(BrokerUnavailable):
        await transport.start()


async def test_an_unknown_vhost_is_a_setting_not_an_outage() -> None:
    """A vhost the broker does not have is refused in answer to ``Connection.Open``. Every address saying
    so is a ``ConfigError`` naming the vhost (the node stops with a setting to fix); with one address
    refusing and another unreachable it may be that node's trouble, so it stays ``BrokerUnavailable``."""
    wrong = f"amqp://guest:guest@127.0.0.1:5672/no-such-vhost-{uuid.uuid4().hex[:8]}"

    async def connect(*urls: str) -> None:
        connection = await amqp_connection.connect(
            [URL(u) for u in urls], name="t", heartbeat=5, reconnect_interval=1, timeout=5, vhost="v"
        )
        await connection.close()  # not reached

    with pytest.raises(ConfigError, match="broker_url: broker refused the vhost"):
        await connect(wrong)
    with pytest.raises(ConfigError, match="refused the vhost"):
        await connect(wrong, wrong)
    with pytest.raises(BrokerUnavailable):
        await connect(wrong, DEAD_AMQP)


@pytest.fixture
async def two_links() -> AsyncIterator[list[FaultyLink]]:
    links = [FaultyLink("127.0.0.1", 5672), FaultyLink("127.0.0.1", 5672)]
    for link in links:
        await link.start()
    try:
        yield links
    finally:
        for link in links:
            await link.close()


async def test_reconnects_through_another_address_when_its_link_dies(
    broker_vhost: str, two_links: list[FaultyLink]
) -> None:
    """The address in use goes away for good: the next reconnect attempt uses the other address, publishes
    confirm again within seconds, and the consumer resumes there (aio-pika alone would retry the dead one)."""
    urls = [link.url_for(broker_vhost) for link in two_links]
    transport = AmqpTransport(urls[0], _topology(), urls=urls[1:], heartbeat=5, reconnect_interval=0.5)
    await transport.start()
    try:
        confirmed: list[tuple[int, float]] = []
        await _publish_until(transport, 0, 20, confirmed)
        in_use = transport.connected_address("publish")
        by_address = {f"127.0.0.1:{link.port}": link for link in two_links}
        cut = time.monotonic()
        await by_address[str(in_use)].close()  # the listener closes too: reconnecting there is refused
        await _publish_until(transport, 20, 40, confirmed)
        after = [t for n, t in confirmed if n >= 20]
        assert after[0] - cut < 10, f"first confirm {after[0] - cut:.1f} s after the cut"
        assert transport.connected_address("publish") != in_use
        seen = await _drain(transport, transport.topology.central_queue, {f"m-{n}" for n in range(40)}, 30)
        assert {f"m-{n}" for n in range(40)} <= seen
    finally:
        await transport.close()


async def test_cluster_publisher_survives_kill_9_of_its_node(cluster: Cluster, fresh_vhost: str) -> None:
    """On the 3-node cluster, with quorum queues on 3 replicas: kill -9 of the node the publisher is
    connected to mid-stream. Publishing resumes on another node within 10 s, and every confirmed message is
    in the central queue afterwards (the consumer may have been on the killed node too)."""
    vhost = fresh_vhost
    urls = cluster.urls(vhost)
    topology = with_replicas(_topology(), cluster.size)
    transport = AmqpTransport(
        urls[0],
        topology,
        urls=urls[1:],
        management_url=cluster.management(1),
        management_urls=cluster.management_urls()[1:],
        heartbeat=5,
        publish_timeout=5,
    )
    await transport.start()
    try:
        members = await cluster.members(vhost, topology.central_queue)
        assert len(members) == cluster.size, members
        confirmed: list[tuple[int, float]] = []
        halfway = asyncio.Event()
        publishing = asyncio.create_task(_publish_until(transport, 0, 1500, confirmed, halfway))
        await asyncio.wait_for(halfway.wait(), 60)
        victim = cluster.index_of(transport.connected_address("publish"))
        killed_at = await cluster.kill(victim)
        await asyncio.wait_for(publishing, 120)
        after = [t for _, t in confirmed if t > killed_at]
        recovery = after[0] - killed_at
        print(f"\ncluster kill -9 of the publisher's node {victim}: first confirm after {recovery:.2f} s")
        assert recovery < 10
        assert cluster.index_of(transport.connected_address("publish")) != victim
        want = {f"m-{n}" for n, _ in confirmed}
        assert len(want) == 1500
        seen = await _drain(transport, topology.central_queue, want, 60)
        assert want <= seen, f"{len(want - seen)} confirmed messages missing"
    finally:
        await transport.close()


async def test_a_nack_renews_the_publisher_channel_once_per_burst(amqp_url: str, management_url: str) -> None:
    """A nack makes the transport publish on a new channel (issue 19: on RabbitMQ 3.10 a channel whose
    quorum-queue client was set up while the leader's node was down nacks every publish until that node is
    back). A burst of nacks on one channel costs one new channel; the old one stays open for
    ``publish_timeout`` (confirms may still be on their way) and is closed then. Here a length-0
    reject-publish queue bound next to the central queue makes the broker nack every publish."""
    transport = AmqpTransport(amqp_url, _topology(), management_url=management_url, publish_timeout=1.0)
    await transport.start()
    connection = await aio_pika.connect(amqp_url)
    exchange = transport.topology.ingest_exchange

    async def nacked(n: int) -> None:
        with pytest.raises(BrokerUnavailable, match="nacked"):
            await transport.publish(exchange, "t.v1.32", b"{}", message_id=f"m-{n}")

    try:
        channel = await connection.channel()
        refusing = await channel.declare_queue(
            "refuses-all", auto_delete=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
        )
        await refusing.bind(exchange, "#")
        first = transport._pub_channel
        assert first is not None
        await asyncio.gather(*(nacked(n) for n in range(20)))
        for _ in range(50):
            if transport._pub_channel is not first:
                break
            await asyncio.sleep(0.1)
        second = transport._pub_channel
        assert second is not None and second is not first, "the nacks did not renew the channel"
        await asyncio.sleep(0.5)
        assert transport._pub_channel is second, "one burst of nacks renewed the channel more than once"
        assert not first.is_closed, "closed while publishes on it could still be waiting for confirms"
        await asyncio.sleep(1.0)  # publish_timeout after the renewal
        assert first.is_closed
        await nacked(20)  # more than a second after the renewal: renewed again
        for _ in range(50):
            if transport._pub_channel is not second:
                break
            await asyncio.sleep(0.1)
        assert transport._pub_channel is not second
        await refusing.unbind(exchange, "#")
        await transport.publish(exchange, "t.v1.32", b"{}", message_id="m-21")  # confirmed
    finally:
        await connection.close()
        await transport.close()


async def _queue_member(cluster: Cluster, i: int, vhost: str, queue: str, action: str) -> None:
    """``stop_server`` or ``restart_server`` of node ``i``'s Raft member of quorum queue ``queue`` (the
    node itself keeps running: no pause_minority, only that queue loses a replica)."""
    erlang = (
        f'{{ok, Q}} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"{vhost}">>, queue, <<"{queue}">>)), '
        "{Name, _} = amqqueue:get_pid(Q), "
        f"rabbit_quorum_queue:{action}({{Name, node()}})."
    )
    out = await cluster.node(i, "ctl", "eval", erlang, timeout=60)
    assert out.strip() == "ok", out


async def test_cluster_publish_recovers_from_a_channel_set_up_while_the_leader_was_gone(
    cluster: Cluster, fresh_vhost: str
) -> None:
    """Issue 19, made deterministic. RabbitMQ 3.10 sets up a channel's quorum-queue client on its first
    publish to the queue, with the leader the queue record names then; if that node is down, every later
    publish on the channel is nacked until the node is back, new leader or not. Here the central queue's
    leader c1 is killed while c2's replica is stopped (no quorum, so the record keeps naming c1), the
    transport (on c3 only) publishes once (nacked), then c2's replica comes back and c2/c3 elect a leader.
    The transport must confirm again within 10 s although c1 stays down (without renewing the channel
    after the nack, it was nacked until c1 was restarted)."""
    vhost = fresh_vhost
    topology = with_replicas(_topology(), cluster.size)
    central = topology.central_queue
    declare = AmqpTransport(cluster.amqp(1, vhost), topology, management_url=cluster.management(1))
    await declare.start()  # a new quorum queue's leader is the declaring connection's node
    await declare.close()
    assert await cluster.leader(vhost, central) == 1
    transport = AmqpTransport(
        cluster.amqp(3, vhost), topology, management_url=cluster.management(3), publish_timeout=5
    )
    await transport.start()  # no publish yet: the channel has no client for the central queue
    try:
        await _queue_member(cluster, 2, vhost, central, "stop_server")
        await cluster.kill(1)
        exchange = topology.ingest_exchange
        with pytest.raises(BrokerUnavailable):  # no quorum: nacked (the channel's client names c1)
            await transport.publish(exchange, "t.v1.32", b"{}", message_id="m-0")
        await _queue_member(cluster, 2, vhost, central, "restart_server")
        for _ in range(150):
            with contextlib.suppress(AssertionError):
                if await cluster.leader(vhost, central, avoid=1) != 1:
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("c2 and c3 elected no leader within 15 s")
        elected = time.monotonic()
        confirmed: list[tuple[int, float]] = []
        try:
            await asyncio.wait_for(_publish_until(transport, 1, 6, confirmed), 30)
        except TimeoutError:
            raise AssertionError("still nacked 30 s after c2 and c3 elected a leader") from None
        waited = confirmed[0][1] - elected
        print(f"\nfirst confirm {waited:.2f} s after the new leader was seen (c1 still down)")
        assert waited < 10
        assert not await cluster.running(1)
        seen = await _drain(transport, central, {f"m-{n}" for n in range(1, 6)}, 30)
        assert {f"m-{n}" for n in range(1, 6)} <= seen
    finally:
        await transport.close()


def _abandoned(logs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for e in logs if e.get("event") == "publisher_connection_abandoned"]


async def test_aiormq_still_exposes_what_the_silent_link_rule_reads(broker_vhost: str) -> None:
    """The rule reads aiormq's last-frame time and drops a link through its stuck-connection path (private
    names); if an aiormq upgrade renames them, the rule would silently switch off, so this fails first."""
    url = f"amqp://guest:guest@127.0.0.1:5672/{quote(broker_vhost, safe='')}"
    transport = AmqpTransport(url, _topology(), heartbeat=5)
    await transport.start()
    try:
        connection = transport._pub_conn
        assert connection is not None and connection.transport is not None
        last = last_frame_at(connection)
        assert last is not None and 0 <= asyncio.get_running_loop().time() - last < 10
        inner = connection.transport.connection
        assert isinstance(getattr(inner, "_Connection__heartbeat_grace_timeout", None), int | float)
        assert callable(getattr(getattr(inner, "_reader_task", None), "cancel", None))
    finally:
        await transport.close()


async def test_a_silent_link_is_abandoned_for_another_address_well_before_aiormq_notices(
    broker_vhost: str, two_links: list[FaultyLink]
) -> None:
    """Issue 19: the link in use goes silent (no FIN, no RST: a partition). aiormq's heartbeat would notice
    after 3 x (4 + 1) = 15-17 s (measured without the rule: 20.1 s at heartbeat 5); with a confirm overdue
    and no frame for 1.5 heartbeats (6 s) the publish connection is dropped, the next address is used, and
    publishes confirm again within 10 s of the cut."""
    urls = [link.url_for(broker_vhost) for link in two_links]
    transport = AmqpTransport(
        urls[0], _topology(), urls=urls[1:], heartbeat=4, publish_timeout=2, reconnect_interval=0.5
    )
    await transport.start()
    by_address = {f"127.0.0.1:{link.port}": link for link in two_links}
    try:
        confirmed: list[tuple[int, float]] = []
        await _publish_until(transport, 0, 10, confirmed)
        in_use = transport.connected_address("publish")
        with structlog.testing.capture_logs() as logs:
            cut = time.monotonic()
            by_address[str(in_use)].stall()
            await _publish_until(transport, 10, 20, confirmed)
        after = [t for n, t in confirmed if n >= 10]
        assert after[0] - cut < 10, f"first confirm {after[0] - cut:.1f} s after the cut"
        assert transport.connected_address("publish") != in_use
        assert len(_abandoned(logs)) == 1, _abandoned(logs)
    finally:
        for link in two_links:
            link.heal()
        await transport.close()


async def test_a_silent_single_broker_link_is_dropped_once_and_publishing_resumes_after_the_heal(
    broker_vhost: str,
) -> None:
    """One address: the silent link is dropped once (the reconnect then hangs in its handshake on the same
    dead link, no storm of reconnects), and once the link heals the publishes confirm again, every one
    confirmed (at-least-once: the timed-out ones are republished)."""
    link = FaultyLink("127.0.0.1", 5672)
    await link.start()
    transport = AmqpTransport(
        link.url_for(broker_vhost), _topology(), heartbeat=2, publish_timeout=1, reconnect_interval=0.5
    )
    await transport.start()
    try:
        confirmed: list[tuple[int, float]] = []
        await _publish_until(transport, 0, 5, confirmed)
        with structlog.testing.capture_logs() as logs:
            link.stall()
            task = asyncio.create_task(_publish_until(transport, 5, 15, confirmed))
            await asyncio.sleep(8)
            assert len(confirmed) == 5
            dropped = _abandoned(logs)
            link.heal()
            healed = time.monotonic()
            await asyncio.wait_for(task, timeout=30)
        assert len(dropped) == 1, dropped
        assert [n for n, _ in confirmed] == list(range(15))
        assert confirmed[5][1] - healed < 15
    finally:
        link.heal()
        await transport.close()
        await link.close()


async def test_a_slow_link_that_still_carries_frames_is_not_abandoned(broker_vhost: str) -> None:
    """Confirms overdue on a slow but live link (every chunk delayed 1.5 s: each confirm takes >= 3 s
    against a 1 s timeout, yet a frame arrives at least every ~2 s, under 1.5 x the 2 s heartbeat): the
    link is kept, publishes fail with BrokerUnavailable and succeed once it is fast again."""
    link = FaultyLink("127.0.0.1", 5672)
    await link.start()
    transport = AmqpTransport(link.url_for(broker_vhost), _topology(), heartbeat=2, publish_timeout=1)
    await transport.start()
    exchange = transport.topology.ingest_exchange
    try:
        with structlog.testing.capture_logs() as logs:
            link.latency_s = 1.5
            timeouts = 0
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                with contextlib.suppress(BrokerUnavailable):
                    await transport.publish(exchange, "t.v1.32", b"{}", message_id="slow")
                    continue
                timeouts += 1
            link.latency_s = 0.0
            await asyncio.sleep(2)
            await transport.publish(exchange, "t.v1.32", b"{}", message_id="fast")
        assert timeouts >= 3
        assert _abandoned(logs) == []
    finally:
        link.heal()
        await transport.close()
        await link.close()
