"""Fast fault scenarios on the main broker (a fresh vhost each, no broker-wide fault): the ledger must
show nothing lost, no gaps, nothing applied twice and nothing unexpected after the fault is removed."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import orjson
import pytest

from adapters.rest_poll import PLUGIN as REST_POLL
from adapters.rest_poll.simulator import ConflictApi, Faults
from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.model import codec
from hub.node import Node
from hub.settings import Settings
from hub.transport.management import ManagementClient
from schemas.envelope import Envelope
from tests.faults import harness as h
from tests.faults.ledger import Ledger, assert_ok, key_for
from tests.helpers import KEY_BOGOR, close_vhost_connections, item, node_settings

pytestmark = pytest.mark.broker
ROOT = Path(__file__).parents[2]
WIB = timezone(timedelta(hours=7))


def _node(config: Settings, ledger: Ledger, *, publish: Any = None, sink_write: Any = None) -> Node:
    """A node whose transport publish / sink write are wrapped by a fault (inside the ledger's wrap)."""
    node = Node(config, sink=SqliteSink(config.sink.sqlite_path))
    if publish is not None:
        node.transport.publish = publish(node.transport.publish)  # type: ignore[method-assign]
    if sink_write is not None:
        assert node.sink is not None
        node.sink.write = sink_write(node.sink.write)  # type: ignore[method-assign]
    ledger.watch(node)
    return node


async def _finish(config: Settings, ledger: Ledger, timeout: float = 30) -> Node:
    """Start a fresh node on the same state dir and warehouse, and wait until everything is applied."""
    node = _node(config, ledger)
    await node.start()
    store = h.warehouse(node)
    await h.wait_for(lambda: h.covered(ledger, store) and node.runners[0].state == "stopped", timeout)
    return node


@pytest.mark.fault("none")
async def test_baseline(tmp_path: Path, amqp_url: str, management_url: str) -> None:
    """2,000 records from a pull source reach the warehouse once each, with no fault at all."""
    ledger = Ledger("baseline")
    feed = h.FEEDS["baseline"] = h.Feed(ledger)
    feed.add(h.ids("base", 2000), batch_size=100)
    config = h.settings(tmp_path, amqp_url, management_url, feed="baseline")
    async with h.make_node(config, ledger) as node:
        store = h.warehouse(node)
        assert await h.wait_for(lambda: h.covered(ledger, store), timeout=30)
        assert node.runners[0].state == "stopped"
    report = h.final_report(ledger, config)
    assert report.offered == 2000 and report.confirmed == 2000 and report.applied == 2000
    assert report.redeliveries == 0
    assert_ok(report)


@pytest.mark.fault("rabbitmqctl close_connection x4 (every connection of the vhost)")
async def test_connections_force_closed_repeatedly(
    tmp_path: Path, amqp_url: str, management_url: str, broker_vhost: str
) -> None:
    """Both connections are closed four times mid-stream; the stream resumes and the ledger is clean."""
    ledger = Ledger("connections force-closed x4")
    feed = h.FEEDS["closes"] = h.Feed(ledger)
    feed.add(h.ids("close", 3000), batch_size=20)

    faults_over = asyncio.Event()

    async def slow(index: int) -> None:
        await asyncio.sleep(0.05)
        if index >= 100:  # the last third waits for the faults to end: recovery is measured after them
            await faults_over.wait()  # (a fast machine would otherwise finish the feed mid-faults)

    feed.after_batch = slow
    config = h.settings(tmp_path, amqp_url, management_url, feed="closes")
    closed = 0
    async with h.make_node(config, ledger) as node:
        store = h.warehouse(node)
        for _ in range(4):
            await asyncio.sleep(0.4)
            ledger.fault()
            closed += await close_vhost_connections(broker_vhost)
        ledger.healed()
        faults_over.set()
        assert await h.wait_for(lambda: h.done(node, ledger, store), timeout=45)
    assert closed >= 4, "the fault must really have closed connections"
    report = h.final_report(ledger, config)
    report.notes["connections_closed"] = closed
    assert report.offered == 3000
    assert report.recovery_s is not None and report.recovery_s < 10
    assert_ok(report)


@pytest.mark.fault("management API DELETE of simpul.central while subscribed")
async def test_central_queue_deleted_under_its_consumer(
    tmp_path: Path, amqp_url: str, management_url: str, broker_vhost: str, management: ManagementClient
) -> None:
    """The drained central queue is deleted under its consumer; it is re-declared and new records flow."""
    ledger = Ledger("central queue deleted")
    feed = h.FEEDS["qdel"] = h.Feed(ledger)
    feed.add(h.ids("qdel-a", 500), batch_size=50)
    config = h.settings(tmp_path, amqp_url, management_url, feed="qdel")
    restarts = 0
    async with h.make_node(config, ledger) as node:
        store = h.warehouse(node)
        assert await h.wait_for(lambda: h.covered(ledger, store), timeout=20)
        ledger.fault()
        assert await management.delete_queue(broker_vhost, node.topology.central_queue)
        feed.add(h.ids("qdel-b", 500), batch_size=50, start=500)
        await asyncio.sleep(0.5)  # let the consumer notice the cancel and re-declare
        ledger.healed()
        await node.restart_source(h.SOURCE)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not h.done(node, ledger, store) and loop.time() < deadline:
            if node.runners[0].state == "failed":  # Unroutable while the queue was missing: fatal by design
                restarts += 1
                await node.restart_source(h.SOURCE)
            await asyncio.sleep(0.1)
        assert node.readiness()["consumer:sqlite_warehouse"], "the consumer must be alive again"
    report = h.final_report(ledger, config)
    report.notes["source_restarts"] = restarts
    assert report.offered == 1000
    assert_ok(report)


async def _dead_letters(amqp_url: str, queue: str) -> list[dict[str, Any]]:
    """Every envelope parked in ``queue`` (taken off it)."""
    items: list[dict[str, Any]] = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        while (message := await q.get(no_ack=True, fail=False)) is not None:
            items.extend(codec.split_batch(message.body))
    return items


@pytest.mark.fault("sink raises on one record every time (delivery limit 3)")
async def test_poison_record_is_dead_lettered_and_the_rest_flows(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """A record the sink can never write is kept (quarantined as ``sink_refused`` on its message's last
    delivery, or in the dead queue); every other record flows, including the poison's message-mates."""
    ledger = Ledger("poison record")
    feed = h.FEEDS["poison"] = h.Feed(ledger)
    feed.add(h.ids("poison", 600), batch_size=20)
    poison = h.ids("poison", 600)[205]
    attempts = 0

    def poisoned(real: Any) -> Any:
        async def write(envelopes: Sequence[Envelope]) -> Any:
            nonlocal attempts
            if any(e.source_record_id == poison for e in envelopes):
                attempts += 1
                raise RuntimeError("the sink cannot store this record")
            return await real(envelopes)

        return write

    config = h.settings(tmp_path, amqp_url, management_url, feed="poison", broker={"delivery_limit": 3})
    node = _node(config, ledger, sink_write=poisoned)
    async with node:
        store = h.warehouse(node)
        await h.wait_for(lambda: len(store.applied_keys()) >= 599 and node.runners[0].state == "stopped", 30)
        await h.wait_for(lambda: node.quarantine_store.count(reason="sink_refused") >= 1, 15)
        quarantined = {e.source_record_id for e in node.quarantine_store.list(reason="sink_refused")}
        dead = await _dead_letters(amqp_url, node.topology.dead_queue)
    poison_key = h.keys("poison", 600)[205].idempotency_key
    parked = {str(d["idempotency_key"]) for d in dead} | ({poison_key} if poison in quarantined else set())
    ledger.parked = parked
    report = h.final_report(ledger, config)
    assert parked == {poison_key}, "the poison alone is kept aside (quarantined), nothing else"
    assert attempts >= 3
    report.notes["parked_with_poison"] = len(parked) - 1
    report.notes["quarantined"] = len(quarantined)
    assert report.applied == 599
    assert_ok(report)


@pytest.mark.fault("binding simpul.ingest -> simpul.central removed (queue_unbind)")
async def test_unroutable_records_fail_loudly_and_nothing_is_acked(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """Without a binding, publishes fail (Unroutable): the source shows failed, nothing is acked and HTTP
    answers 503; once the binding is back the source resumes by itself (no restart)."""
    ledger = Ledger("unroutable")
    feed = h.FEEDS["unroutable"] = h.Feed(ledger)
    config = h.settings(tmp_path, amqp_url, management_url, feed="unroutable", source_fatal_retry_s=1.0)
    connection = await aio_pika.connect(amqp_url)
    async with connection, h.make_node(config, ledger) as node:
        central, ingest = node.topology.central_queue, node.topology.ingest_exchange
        channel = await connection.channel()
        queue = await channel.declare_queue(central, passive=True)
        await queue.unbind(ingest, "#")  # after the node declared its topology
        ledger.fault()
        feed.add(h.ids("unr", 200), batch_size=50)
        await node.restart_source(h.SOURCE)
        ok = await h.wait_for(lambda: node.runners[0].state == "failed", timeout=15, settle_s=0)
        assert ok, (node.runners[0].state, node.runners[0].last_error)
        assert node.source_state.get(h.SOURCE, "cursor") is None, "nothing may be acked to the source"
        assert not ledger.confirmed and len(ledger.attempted) > 0
        assert ledger.publish_errors["Unroutable"] >= 1
        url = f"http://127.0.0.1:{node.http_port}/v1/records/ormas_registration"
        async with aiohttp.ClientSession() as http, http.post(
            url, data=orjson.dumps([item("ormas_registration", "HTTP-1")]),
            headers={"Content-Type": "application/json", "X-API-Key": KEY_BOGOR},
        ) as resp:  # fmt: skip
            assert resp.status == 503
        await queue.bind(ingest, "#")
        ledger.healed()
        store = h.warehouse(node)
        assert await h.wait_for(lambda: h.done(node, ledger, store), timeout=20)
    report = h.final_report(ledger, config)
    report = h.final_report(ledger, config)
    assert report.offered == 200 and report.applied == 200
    assert_ok(report)


@pytest.mark.fault("older revisions re-sent and an old AMQP message republished after the newer applied")
async def test_older_revision_after_newer_keeps_the_newer(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """Revision 1 arriving after revision 2 (resent, or an old message redelivered) never replaces it."""
    ledger = Ledger("older revision after newer")
    feed = h.FEEDS["revs"] = h.Feed(ledger)
    a, b = h.ids("rev-a", 100), h.ids("rev-b", 100)
    feed.add(a, revision=1, batch_size=100)  # a: 1 then 2, then the old message again
    feed.add(a, revision=2, batch_size=100)
    feed.add(b, revision=2, batch_size=100)  # b: 2 first, then 1 (out of order)
    feed.add(b, revision=1, batch_size=100)
    bodies: dict[int, tuple[str, bytes, str]] = {}

    def capture(real: Any) -> Any:
        async def publish(exchange: str, routing_key: str, body: bytes, **kw: Any) -> None:
            if exchange.endswith(".ingest") and b'"revision":1' in body and not bodies:
                bodies[1] = (routing_key, body, kw["message_id"])
            await real(exchange, routing_key, body, **kw)

        return publish

    config = h.settings(tmp_path, amqp_url, management_url, feed="revs")
    node = _node(config, ledger, publish=capture)
    async with node:
        store = h.warehouse(node)
        assert await h.wait_for(lambda: h.covered(ledger, store) and node.runners[0].state == "stopped", 20)
        routing_key, body, message_id = bodies[1]
        before = sum(store.delivery_counts().values())
        await node.transport.publish(node.topology.ingest_exchange, routing_key, body, message_id=message_id)
        assert await h.wait_for(lambda: sum(store.delivery_counts().values()) > before, timeout=10)
        for rid in a + b:
            row = store.get(key_for(h.SCHEMA, h.SYSTEM, rid, 2).record_key)
            assert row is not None and row["revision"] == 2, rid
    report = h.final_report(ledger, config)
    assert report.superseded == 100  # b's revision 1 reached the sink and was stale
    assert_ok(report)


def _wib_ms(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=WIB).timestamp() * 1000)


@pytest.mark.fault("rest_poll simulator: 500s, truncated bodies, slow and duplicate pages, shuffled rows")
async def test_flaky_regional_source(tmp_path: Path, amqp_url: str, management_url: str) -> None:
    """A legacy API answering 500s, truncated and repeated pages still gets every record in, once."""
    registry.register(REST_POLL)
    ledger = Ledger("flaky regional source")
    faults = Faults(
        error_every=5, truncate_every=7, slow_every=11, slow_s=0.4, duplicate_every=3, shuffle=True
    )
    api = ConflictApi.seeded(300, faults=faults)
    await api.start()
    system = "sitimdu-bogor"
    mapping = tomllib.loads((ROOT / "ops" / "examples" / "sitimdu_conflict.toml").read_text(encoding="utf-8"))
    entry = {
        "name": system, "kind": "rest_poll", "schema": "conflict_incident", "system": system,
        "office": "32.01",
        "config": {
            "base_url": api.base_url, "path": api.path,
            "auth": {"type": "api_key", "header": "X-API-KEY", "value": api.api_key},
            "paging": {"mode": "page", "page_size": 25, "next_page_path": "next_page"},
            "cursor": {"param": "updated_since", "overlap_s": 1}, "status_path": "status",
            "id_path": "id_laporan", "updated_at_path": "updated_at", "once": True, "timeout_s": 0.25,
            "retries": 5, "backoff_base_s": 0.02, "backoff_cap_s": 0.2,
        },
        "mapping": mapping["sources"][0]["mapping"],
    }  # fmt: skip
    config = node_settings(
        tmp_path, broker={"url": amqp_url, "management_url": management_url}, sources=[entry]
    )
    try:
        ledger.offer(
            key_for("conflict_incident", system, rid, _wib_ms(raw["updated_at"]))
            for rid, raw in api.records.items()
        )
        async with h.make_node(config, ledger) as node:
            store = h.warehouse(node)
            assert await h.wait_for(
                lambda: h.covered(ledger, store) and node.runners[0].state == "stopped", 60
            )
        assert api.answers.get(500, 0) > 0
    finally:
        await api.close()
    report = h.final_report(ledger, config)
    report.notes["http_500s"] = api.answers.get(500, 0)
    assert report.redeliveries > 0  # repeated pages were offered again and deduplicated at the sink
    assert_ok(report)


# -- hub and sink killed at chosen points -----------------------------------------------------------------


async def _crash_and_restart(
    config: Settings, ledger: Ledger, node: Node, hit: asyncio.Event, timeout: float = 20
) -> Node:
    async with asyncio.timeout(timeout):
        await hit.wait()
    ledger.fault()
    await h.crash(node)
    ledger.healed()
    return await _finish(config, ledger)


@pytest.mark.parametrize("point", ["before_send", "after_send"])
@pytest.mark.fault("hub tasks cancelled and connections dropped while a publish awaits its confirm")
async def test_hub_killed_between_publish_and_confirm(
    tmp_path: Path, amqp_url: str, management_url: str, point: str
) -> None:
    """The hub dies with a publish unconfirmed (sent or not); a new node re-offers it, applied once."""
    ledger = Ledger(f"hub killed between publish and confirm ({point})")
    feed = h.FEEDS[f"pc-{point}"] = h.Feed(ledger)
    feed.add(h.ids("pc", 1000), batch_size=50)
    hit = asyncio.Event()
    calls = 0

    def die(real: Any) -> Any:
        async def publish(exchange: str, *args: Any, **kw: Any) -> None:
            nonlocal calls
            if exchange.endswith(".ingest"):
                calls += 1
                if calls == 7:
                    if point == "after_send":
                        await real(exchange, *args, **kw)  # the broker has it; the hub never sees the confirm
                    hit.set()
                    await asyncio.Event().wait()
            await real(exchange, *args, **kw)

        return publish

    config = h.settings(tmp_path, amqp_url, management_url, feed=f"pc-{point}")
    node = _node(config, ledger, publish=die)
    await node.start()
    node2 = await _crash_and_restart(config, ledger, node, hit)
    await node2.stop()
    report = h.final_report(ledger, config)
    assert report.offered == 1000 and report.applied == 1000
    if point == "after_send":
        assert report.redeliveries > 0  # the unconfirmed batch was offered again: a deduplicated duplicate
    assert_ok(report)


@pytest.mark.fault("hub tasks cancelled while a confirmed batch waits for its cursor commit")
async def test_hub_killed_between_confirm_and_cursor_commit(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """The hub dies after the confirm but before the cursor moved; the batch is re-read and deduplicated."""
    ledger = Ledger("hub killed between confirm and cursor commit")
    feed = h.FEEDS["cc"] = h.Feed(ledger)
    feed.add(h.ids("cc", 1000), batch_size=50)
    hit = asyncio.Event()

    async def hang(index: int) -> None:
        if index == 6 and not hit.is_set():
            hit.set()
            await asyncio.Event().wait()

    feed.before_commit = hang
    config = h.settings(tmp_path, amqp_url, management_url, feed="cc")
    node = _node(config, ledger)
    await node.start()
    node2 = await _crash_and_restart(config, ledger, node, hit)
    await node2.stop()
    report = h.final_report(ledger, config)
    assert feed.committed.count(6) == 1 and 6 not in feed.committed[:6]
    assert report.offered == 1000 and report.applied == 1000
    assert report.redeliveries >= 50  # batch 6 was published twice
    assert_ok(report)


@pytest.mark.parametrize("point", ["before_commit", "after_commit"])
@pytest.mark.fault("node crashed while the warehouse sink is inside write(), before/after its commit")
async def test_sink_killed_around_its_commit(
    tmp_path: Path, amqp_url: str, management_url: str, point: str
) -> None:
    """The sink dies before or after its commit (no ack sent); redelivery applies every record once."""
    ledger = Ledger(f"sink killed {point.replace('_', ' ')}")
    feed = h.FEEDS[f"sink-{point}"] = h.Feed(ledger)
    feed.add(h.ids("sk", 1000), batch_size=50)
    hit = asyncio.Event()
    writes = 0

    def die(real: Any) -> Any:
        async def write(envelopes: Sequence[Envelope]) -> Any:
            nonlocal writes
            writes += 1
            if writes == 5:
                if point == "after_commit":
                    ledger.record_results(envelopes, await real(envelopes))
                hit.set()
                await asyncio.Event().wait()
            return await real(envelopes)

        return write

    config = h.settings(tmp_path, amqp_url, management_url, feed=f"sink-{point}")
    node = _node(config, ledger, sink_write=die)
    await node.start()
    node2 = await _crash_and_restart(config, ledger, node, hit)
    await node2.stop()
    report = h.final_report(ledger, config)
    assert report.offered == 1000 and report.applied == 1000
    if point == "after_commit":
        assert report.redeliveries > 0  # the committed but unacked group came again, as duplicates
    assert_ok(report)
