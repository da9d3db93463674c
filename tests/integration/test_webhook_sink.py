"""webhook_sink as a configured [[sinks]] entry of a real Node on RabbitMQ, POSTing to its simulated
receiver: signed batches arrive once, outages are ridden out, a refused record ends in the dead queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import orjson
import pytest

from adapters.webhook_sink import PLUGIN
from adapters.webhook_sink.simulator import WebhookReceiver, serve
from hub.adapters import registry
from hub.node import Node
from tests.helpers import KEY_BOGOR, item, node_settings, until

pytestmark = pytest.mark.broker
SECRET = "rahasia-bersama-simpolpum-2024"


@pytest.fixture(autouse=True)
def _plugin() -> None:
    registry.register(PLUGIN)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    """The simulated ministry receiver on a free port: (receiver, hook URL)."""
    hook = WebhookReceiver(SECRET)
    runner, url = await serve(hook)
    try:
        yield hook, url
    finally:
        await runner.cleanup()


def _settings(tmp_path: Path, amqp_url: str, management_url: str, url: str, **config: Any) -> Any:
    sink = {
        "name": "ke-simpolpum",
        "kind": "webhook_sink",
        "bindings": ["ormas_registration.#"],
        "batch_messages": 8,
        "config": {"url": url, "secret": SECRET, "backoff_s": 0.02, "backoff_cap_s": 0.1, **config},
    }
    return node_settings(
        tmp_path,
        broker={"url": amqp_url, "management_url": management_url, "delivery_limit": 3},
        batch={"max_records": 10},
        sinks=[sink],
    )


async def _push(node: Node, items: list[dict[str, Any]]) -> None:
    url = f"http://127.0.0.1:{node.http_port}/v1/records/ormas_registration"
    headers = {"Content-Type": "application/json", "X-API-Key": KEY_BOGOR}
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            async with http.post(url, data=orjson.dumps(items), headers=headers) as resp:
                if resp.status == 202:
                    return
                assert resp.status == 503, await resp.text()
                await asyncio.sleep(0.1)
    raise AssertionError("the hub kept answering 503")


async def _ready(amqp_url: str, queue: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)
    finally:
        await connection.close()


def _ids(hook: WebhookReceiver) -> set[str]:
    return {e["source_record_id"] for e in hook.envelopes.values()}


async def test_records_reach_the_receiver_signed_and_once(
    tmp_path: Path, amqp_url: str, management_url: str, receiver: tuple[WebhookReceiver, str]
) -> None:
    """200 ingested records arrive at the receiver, signatures valid, each envelope once; queue drained."""
    hook, url = receiver
    async with Node(_settings(tmp_path, amqp_url, management_url, url)) as node:
        for b in range(4):
            await _push(node, [item("ormas_registration", f"W{b}-{i}") for i in range(50)])
        await until(lambda: len(hook.envelopes) == 200, timeout=30)
        assert hook.stats.bad_signatures == 0 and hook.stats.duplicate_envelopes == 0
        assert hook.stats.accepted_batches < 200  # envelopes travel in batches
        assert _ids(hook) == {f"W{b}-{i}" for b in range(4) for i in range(50)}
        await asyncio.sleep(0.5)
        assert await _ready(amqp_url, "simpul.sink.ke-simpolpum") == 0


async def test_receiver_outage_longer_than_the_retries_is_ridden_out_by_redelivery(
    tmp_path: Path, amqp_url: str, management_url: str, receiver: tuple[WebhookReceiver, str]
) -> None:
    """503 for 6 POSTs with max_attempts 2: writes fail, the broker redelivers, everything arrives."""
    hook, url = receiver
    hook.fail_next(6, 503)
    async with Node(_settings(tmp_path, amqp_url, management_url, url, max_attempts=2)) as node:
        await _push(node, [item("ormas_registration", f"O{i}") for i in range(30)])
        await until(lambda: len(hook.envelopes) == 30, timeout=30)
        assert hook.stats.failed_on_purpose == 6
        assert await _ready(amqp_url, "simpul.dead") == 0


async def test_refused_record_is_quarantined_and_its_neighbours_delivered(
    tmp_path: Path, amqp_url: str, management_url: str, receiver: tuple[WebhookReceiver, str]
) -> None:
    """The receiver answers 400 to one record: on its last delivery it is quarantined (sink_refused)."""
    hook, url = receiver
    hook.refuse(lambda env: env.get("source_record_id") == "TOLAK")
    async with Node(_settings(tmp_path, amqp_url, management_url, url)) as node:
        items = [item("ormas_registration", f"N{i}") for i in range(5)]
        items.insert(2, item("ormas_registration", "TOLAK"))
        for one in items:  # one HTTP call each, so the refused record travels in its own message
            await _push(node, [one])
        await until(lambda: len(hook.envelopes) == 5, timeout=30)

        await until(lambda: node.quarantine_store.count(reason="sink_refused") == 1, timeout=30)
        assert [e.source_record_id for e in node.quarantine_store.list(reason="sink_refused")] == ["TOLAK"]
        assert "TOLAK" not in _ids(hook)
        assert await _ready(amqp_url, "simpul.dead") == 0
