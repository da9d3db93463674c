"""A node on the real RabbitMQ: HTTP ingest -> broker -> SQLite warehouse, also through broker disruption."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from adapters.sqlite_sink.sink import SqliteSink
from hub.node import Node
from schemas.envelope import make_record_key
from tests.helpers import KEY_BOGOR, close_vhost_connections, item, node_settings, until

pytestmark = pytest.mark.broker
SYSTEM = "sitimdu-bogor"


def _settings(tmp_path: Path, amqp_url: str, management_url: str) -> Any:
    return node_settings(tmp_path, broker={"url": amqp_url, "management_url": management_url})


async def _push(node: Node, items: list[dict[str, Any]]) -> dict[str, Any]:
    """POST one batch; retry on 503 (what a well-behaved regional client does)."""
    url = f"http://127.0.0.1:{node.http_port}/v1/records/ormas_registration"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            async with http.post(
                url,
                data=orjson.dumps(items),
                headers={"Content-Type": "application/json", "X-API-Key": KEY_BOGOR},
            ) as resp:
                if resp.status == 202:
                    body: dict[str, Any] = await resp.json()
                    return body
                assert resp.status == 503, await resp.text()
                await asyncio.sleep(0.1)
    raise AssertionError("the hub kept answering 503")


def _warehouse(node: Node) -> SqliteSink:
    sink = node.sink
    assert isinstance(sink, SqliteSink)
    return sink


async def test_records_flow_to_the_warehouse_through_the_real_broker(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """500 records in 10 batches are confirmed (202) and applied exactly once, record by record."""
    async with Node(_settings(tmp_path, amqp_url, management_url)) as node:
        for b in range(10):
            result = await _push(node, [item("ormas_registration", f"B{b}-{i}") for i in range(50)])
            assert result["accepted"] == 50
        store = _warehouse(node).store
        await until(lambda: store.count() == 500, timeout=20)
        for b in range(10):
            for i in range(50):
                row = store.get(make_record_key("ormas_registration", SYSTEM, f"B{b}-{i}"))
                assert row is not None and row["revision"] == 1
        assert len(store.applied_keys()) == 500


async def test_forced_connection_closes_lose_nothing_and_apply_nothing_twice(
    tmp_path: Path, amqp_url: str, management_url: str, broker_vhost: str
) -> None:
    """The node's connections are closed three times mid-stream; every 202'd record is applied once."""
    async with Node(_settings(tmp_path, amqp_url, management_url)) as node:
        accepted: set[str] = set()
        disrupted = asyncio.Event()
        closed = 0

        async def producer() -> None:
            b = 0
            while not disrupted.is_set() or b < 10:
                batch = [item("ormas_registration", f"P{b}-{i}") for i in range(20)]
                result = await _push(node, batch)
                assert result["accepted"] == 20
                accepted.update(x["id"] for x in batch)
                b += 1
                await asyncio.sleep(0.02)

        async def disrupt() -> None:
            nonlocal closed
            for _ in range(3):
                await asyncio.sleep(0.3)
                closed += await close_vhost_connections(broker_vhost)
            disrupted.set()

        await asyncio.gather(producer(), disrupt())
        assert closed >= 3, "the disruption must really have closed the node's connections"
        store = _warehouse(node).store
        await until(lambda: store.count() == len(accepted), timeout=30)
        for rid in accepted:
            assert store.get(make_record_key("ormas_registration", SYSTEM, rid)) is not None
        # Redeliveries may happen (that is the point); applying twice may not.
        assert len(store.applied_keys()) == len(accepted)
