"""amqp_source on the real RabbitMQ: a source system publishes on its own vhost, a real Node consumes it
into the SQLite warehouse, and upstream messages are acked only after Simpul's broker confirmed them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aio_pika
import pytest

from adapters.amqp_source import PLUGIN, AmqpSource
from adapters.amqp_source.simulator import (
    EXCHANGE,
    OFFICE,
    EarlyWarningApp,
    early_warning_event,
    event_id,
    source_config,
)
from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.errors import ConfigError, FatalError
from hub.node import Node
from hub.transport.amqp_foreign import ForeignConsumer, ForeignMessage, ForeignPublisher, ForeignQueue
from hub.transport.management import ManagementClient, ManagementError
from schemas.envelope import make_record_key
from tests.helpers import node_settings, until
from tests.integration.conftest import AMQP_BASE, BROKER_USER

pytestmark = pytest.mark.broker
SYSTEM = "sidini-banggai"
QUEUE = "sidini.ke-simpul"


@pytest.fixture(autouse=True)
def _plugin() -> None:
    registry.register(PLUGIN)


@pytest.fixture
async def upstream_url(management: ManagementClient) -> AsyncIterator[str]:
    """The source system's own vhost (not the node's), deleted after the test."""
    vhost = f"simpul-test-upstream-{uuid.uuid4().hex[:10]}"
    await management.create_vhost(vhost, description="simpul integration test: upstream system")
    try:
        await management.set_permissions(vhost, BROKER_USER)
        yield f"{AMQP_BASE}/{quote(vhost, safe='')}"
    finally:
        with contextlib.suppress(ManagementError):
            await management.delete_vhost(vhost)


@pytest.fixture
async def app(upstream_url: str) -> AsyncIterator[EarlyWarningApp]:
    """The early-warning app, connected to its broker, with its exchange declared."""
    publisher = EarlyWarningApp(upstream_url)
    await publisher.start()
    yield publisher
    await publisher.close()


async def _queue_counts(url: str, queue: str) -> tuple[int, int]:
    """(ready, consumers) of ``queue`` right now, by a passive declare."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        result = declared.declaration_result
        return int(result.message_count or 0), int(result.consumer_count or 0)
    finally:
        await connection.close()


async def _declare_upstream_queue(url: str) -> None:
    """What the source system's admin sets up for Simpul: a durable queue bound to the app's exchange."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        await queue.bind(EXCHANGE, "laporan.#")
    finally:
        await connection.close()


def _settings(tmp_path: Path, amqp_url: str, management_url: str, config: dict[str, Any]) -> Any:
    source = {
        "name": "sidini",
        "kind": "amqp_source",
        "schema": "early_warning",
        "system": SYSTEM,
        "office": OFFICE,
        "config": config,
    }
    return node_settings(
        tmp_path, broker={"url": amqp_url, "management_url": management_url}, sources=[source]
    )


def _store(node: Node) -> Any:
    sink = node.sink
    assert isinstance(sink, SqliteSink)
    return sink.store


async def test_published_records_land_in_the_warehouse_and_are_acked_upstream(
    tmp_path: Path, amqp_url: str, management_url: str, upstream_url: str, app: EarlyWarningApp
) -> None:
    """Simpul's own queue bound to the app's exchange: 300 events (singles and arrays) land once each."""
    config = source_config(upstream_url, own_queue=QUEUE, prefetch=100, batch_messages=50)
    async with Node(_settings(tmp_path, amqp_url, management_url, config)) as node:
        await until(lambda: node.runners and node.runners[0].state == "running", timeout=10)

        async def subscribed() -> bool:
            with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
                return (await _queue_counts(upstream_url, QUEUE))[1] == 1
            return False

        await _eventually(subscribed)
        await app.publish([early_warning_event(i) for i in range(200)])
        await app.publish([early_warning_event(i) for i in range(200, 300)], per_message=10)
        store = _store(node)
        await until(lambda: store.count() == 300, timeout=30)
        await _eventually(lambda: _ready_is(upstream_url, 0))
        row = store.get(make_record_key("early_warning", SYSTEM, event_id(7)))
        assert row is not None and row["revision"] == 1 and row["payload"]["kode_wilayah"].startswith("72.01")
        assert len(store.applied_keys()) == 300


async def test_killed_between_confirm_and_ack_the_upstream_redelivers_and_nothing_is_applied_twice(
    tmp_path: Path, amqp_url: str, management_url: str, upstream_url: str, app: EarlyWarningApp
) -> None:
    """The node dies while a confirmed batch waits to ack: its messages come back; all 400 land once."""
    await _declare_upstream_queue(upstream_url)
    await app.publish([early_warning_event(i) for i in range(400)])
    config = source_config(upstream_url, queue=QUEUE, exchange=None, prefetch=50, batch_messages=25)
    settings = _settings(tmp_path, amqp_url, management_url, config)
    node = Node(settings)
    await node.start()
    source = node.runners[0]._adapter
    assert isinstance(source, AmqpSource)
    held = _hold_third_commit(source)
    await asyncio.wait_for(held.wait(), 30)  # batch 3 is confirmed by Simpul's broker, not acked upstream
    ready, _ = await _queue_counts(upstream_url, QUEUE)
    assert source.acked == 50 and ready <= 400 - 75
    await node.stop()  # the kill: the runner is cancelled inside the commit
    await _eventually(lambda: _ready_is(upstream_url, 400 - 50))  # 350 back upstream, 25 of them sent
    async with Node(settings) as again:
        store = _store(again)
        await until(lambda: store.count() == 400, timeout=40)
        await _eventually(lambda: _ready_is(upstream_url, 0))
        assert len(store.applied_keys()) == 400  # nothing applied twice...
        twice = [k for k, n in store.delivery_counts().items() if n > 1]
        assert len(twice) >= 25  # ...although the held batch was published again after the redelivery


async def test_upstream_connection_closed_mid_stream_loses_nothing(
    tmp_path: Path, amqp_url: str, management_url: str, upstream_url: str, app: EarlyWarningApp
) -> None:
    """The source system's broker drops Simpul's connection twice mid-stream; every event lands once."""
    await _declare_upstream_queue(upstream_url)
    config = source_config(upstream_url, queue=QUEUE, exchange=None, prefetch=40, batch_messages=20)
    vhost = upstream_url.rsplit("/", 1)[1]
    async with Node(_settings(tmp_path, amqp_url, management_url, config)) as node:
        store = _store(node)
        for round_ in range(3):
            await app.publish([early_warning_event(i) for i in range(round_ * 200, (round_ + 1) * 200)])
            await asyncio.sleep(0.3)
            if round_ < 2:
                await _eventually(lambda: _close_connections(vhost, "simpul:sidini:upstream"), timeout=15)
        await until(lambda: store.count() == 600, timeout=60)
        await _eventually(lambda: _ready_is(upstream_url, 0), timeout=30)
        assert len(store.applied_keys()) == 600


async def _ready_is(url: str, expected: int) -> bool:
    return (await _queue_counts(url, QUEUE))[0] == expected


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    """Poll an async check (broker counters settle a moment after acks)."""
    async with asyncio.timeout(timeout):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.1)


def _hold_third_commit(source: AmqpSource) -> asyncio.Event:
    """Make the source's third commit wait for ever (set the returned event when it starts waiting)."""
    held = asyncio.Event()
    make = source._acker
    count = 0

    def acker(messages: list[Any]) -> Callable[[], Awaitable[None]]:
        nonlocal count
        count += 1
        commit = make(messages)
        if count != 3:
            return commit

        async def never() -> None:
            held.set()
            await asyncio.Event().wait()

        return never

    source._acker = acker  # type: ignore[method-assign]
    return held


async def _close_connections(vhost: str, marker: str) -> bool:
    """Close connections into ``vhost`` whose name contains ``marker`` (rabbitmqctl; no lag); True if any."""
    from urllib.parse import unquote

    proc = await asyncio.create_subprocess_exec(
        "rabbitmqctl",
        "list_connections",
        "-q",
        "--no-table-headers",
        "pid",
        "vhost",
        "client_properties",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await proc.communicate()
    pids = [
        line.split("\t", 1)[0]
        for line in out.decode().splitlines()
        if f"\t{unquote(vhost)}\t" in line and marker in line
    ]
    for pid in pids:
        closer = await asyncio.create_subprocess_exec(
            "rabbitmqctl",
            "close_connection",
            pid,
            "simpul test: upstream dropped the link",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await closer.wait()
    return bool(pids)


async def test_amqp_source_passes_the_contract_kit_on_the_real_broker(
    upstream_url: str, app: EarlyWarningApp
) -> None:
    """The kit reads without acking (messages come back), runs the source in a node (acks), and a fresh
    instance then finds nothing left: the queue is the cursor."""
    from hub.testing.contract import check_source_contract

    await _declare_upstream_queue(upstream_url)
    await app.publish([early_warning_event(i) for i in range(30)], per_message=3)
    config = source_config(upstream_url, queue=QUEUE, exchange=None, prefetch=20, batch_messages=5)
    report = await check_source_contract(
        PLUGIN, config, schema="early_warning", expect_records=30, system=SYSTEM, office=OFFICE, timeout_s=20
    )
    assert report.records_read == 30 and report.applied == 30 and report.reread == 0
    assert await _ready_is(upstream_url, 0)


async def test_an_upstream_vhost_the_broker_refuses_is_fatal_not_retried(upstream_url: str) -> None:
    """A vhost that does not exist on the upstream broker is a setting to fix: the consumer fails with a
    ``FatalError`` naming the vhost (not ``SourceUnavailable``, which the source would retry forever), and
    the simulator's publisher with a ``ConfigError``."""
    wrong = upstream_url.rsplit("/", 1)[0] + f"/no-such-vhost-{uuid.uuid4().hex[:8]}"
    consumer = ForeignConsumer(
        wrong,
        ForeignQueue(QUEUE),
        lambda _message: None,
        connection_name="simpul:test:upstream",
        prefetch=10,
        heartbeat_s=5,
        connect_timeout_s=10,
        reconnect_interval_s=1,
    )
    with pytest.raises(FatalError, match="refused the vhost"):
        await consumer.start()
    assert not consumer.started
    with pytest.raises(ConfigError, match="refused the vhost"):
        await ForeignPublisher(wrong, EXCHANGE).start()


async def test_upstream_bodies_never_reach_a_log_even_at_debug(
    upstream_url: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With aiormq at DEBUG (it logs every frame) a source record's body read from the upstream broker, or
    published to it, never reaches any log output: the foreign link's frames are redacted as the hub's own
    broker's are."""
    secret = "7271014507890004"  # looks like a NIK
    for name in ("aiormq.connection", "aiormq.connection.marshall", "aiormq.channel"):
        # Whatever an earlier test installed goes: the foreign link must install its own redaction.
        monkeypatch.setattr(logging.getLogger(name), "filters", [])
    caplog.set_level(logging.DEBUG, logger="aiormq")
    caplog.set_level(logging.DEBUG, logger="aio_pika")
    received: list[ForeignMessage] = []
    publisher = ForeignPublisher(upstream_url, EXCHANGE)
    await publisher.start()
    consumer = ForeignConsumer(
        upstream_url,
        ForeignQueue(QUEUE, exchange=EXCHANGE, binding_keys=("laporan.#",)),
        received.append,
        connection_name="simpul:test:upstream",
        prefetch=10,
        heartbeat_s=5,
        connect_timeout_s=10,
        reconnect_interval_s=1,
    )
    try:
        await consumer.start()
        await publisher.publish(f'{{"nik": "{secret}"}}'.encode(), "laporan.konflik", message_id="m-secret")
        await until(lambda: len(received) == 1, timeout=10)
        assert secret.encode() in received[0].body
        await received[0].ack()
    finally:
        await consumer.close()
        await publisher.close()
    assert any("frame" in r.getMessage() for r in caplog.records)  # the frames were logged...
    assert secret not in caplog.text  # ...without the body
    captured = capsys.readouterr()
    assert secret not in captured.out and secret not in captured.err
