"""webhook through a real node on the real RabbitMQ: simulated early-warning app -> SQLite warehouse."""

from __future__ import annotations

import asyncio
import time
import tomllib
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from adapters.sqlite_sink.sink import SqliteSink
from adapters.webhook import PLUGIN, WebhookSource
from adapters.webhook.simulator import Delivery, EarlyWarningApp
from hub.adapters import registry
from hub.node import Node
from schemas.envelope import make_record_key
from schemas.pii import contains_nik
from tests.helpers import close_vhost_connections, node_settings, until

pytestmark = pytest.mark.broker
ROOT = Path(__file__).parents[2]
NAME = SYSTEM = "sidini-banggai"
SECRET = b"rahasia-sidini-banggai-2024"


def _settings(tmp_path: Path, amqp_url: str, management_url: str, **config: Any) -> Any:
    mapping = tomllib.loads(
        (ROOT / "ops" / "examples" / "sidini_early_warning.toml").read_text(encoding="utf-8")
    )
    entry = {
        "name": NAME,
        "kind": "webhook",
        "schema": "early_warning",
        "system": SYSTEM,
        "office": "72.01",
        "config": {
            "secret": SECRET.decode(),
            "port": 0,
            "confirm_timeout_s": 2.0,
            "retry_after_s": 1,
            **config,
        },
        "mapping": mapping["sources"][0]["mapping"],
    }
    return node_settings(
        tmp_path, broker={"url": amqp_url, "management_url": management_url}, sources=[entry]
    )


async def _source(node: Node) -> WebhookSource:
    source = node.runners[0]._adapter
    assert isinstance(source, WebhookSource)
    await until(lambda: source.port is not None)
    return source


def _check_warehouse(sink: SqliteSink, deliveries: list[Delivery]) -> list[str]:
    """Each delivered event is in the warehouse as sent, or (id refused by the schema) nowhere; returns
    the refused ids, which the quarantine must hold."""
    refused = []
    for delivery in deliveries:
        assert delivery.delivered, delivery.statuses
        row = sink.store.get(make_record_key("early_warning", SYSTEM, delivery.event_id))
        if contains_nik(delivery.event_id):
            refused.append(delivery.event_id)
            assert row is None
            continue
        assert row is not None, delivery.event_id
        sent = orjson.loads(delivery.body)
        payload, envelope = row["payload"], row["envelope"]
        assert payload["sumber_id"] == delivery.event_id and payload["judul"] == sent["laporan"]["judul"]
        assert (
            payload["kode_wilayah"].startswith("72.01.") and payload["nama_sumber"] == sent["laporan"]["fkdm"]
        )
        assert payload["lokasi"] == {
            "lat": sent["laporan"]["lokasi"]["lat"],
            "lon": sent["laporan"]["lokasi"]["lng"],
        }
        assert envelope["classification"] == "RAHASIA" and "foto" not in orjson.dumps(payload).decode()
    return refused


async def test_pushed_events_reach_the_warehouse_once_and_repeats_are_answered_200(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """300 pushed events: 202 after the confirm, in the warehouse record by record; repeats get 200."""
    registry.register(PLUGIN)
    async with Node(_settings(tmp_path, amqp_url, management_url)) as node:
        source = await _source(node)
        sink = node.sink
        assert isinstance(sink, SqliteSink)
        app = EarlyWarningApp(f"http://127.0.0.1:{source.port}/webhook", SECRET, seed=21)
        started = time.monotonic()
        deliveries = await app.run(300, concurrency=16)
        elapsed = time.monotonic() - started
        assert all(d.statuses == [202] for d in deliveries), {tuple(d.statuses) for d in deliveries}
        refused = [d.event_id for d in deliveries if contains_nik(d.event_id)]
        await until(lambda: sink.store.count() == 300 - len(refused), timeout=30)
        await until(lambda: node.quarantine_store.count() == len(refused), timeout=30)
        assert _check_warehouse(sink, deliveries) == refused
        print(f"\nwebhook: 300 events at concurrency 16 confirmed in {elapsed:.2f} s ({300 / elapsed:.0f}/s)")
        applied = len(sink.store.applied_keys())
        async with aiohttp.ClientSession() as http:
            again = [await app.push(http, d.event_id, d.body) for d in deliveries[:30]]
        assert all(d.statuses == [200] for d in again)
        await asyncio.sleep(0.3)
        assert len(sink.store.applied_keys()) == applied and sink.store.count() == 300 - len(refused)


async def test_closed_broker_connections_mean_503s_and_retries_not_losses(
    tmp_path: Path, amqp_url: str, management_url: str, broker_vhost: str
) -> None:
    """Broker connections closed mid-push: no 202 without a confirm, every event applied exactly once."""
    registry.register(PLUGIN)
    async with Node(_settings(tmp_path, amqp_url, management_url, confirm_timeout_s=1.0)) as node:
        source = await _source(node)
        sink = node.sink
        assert isinstance(sink, SqliteSink)
        app = EarlyWarningApp(
            f"http://127.0.0.1:{source.port}/webhook", SECRET, seed=22, max_attempts=60, backoff_s=0.05
        )

        async def disrupt() -> int:
            closed = 0
            for _ in range(3):
                await asyncio.sleep(0.3)
                closed += await close_vhost_connections(broker_vhost)
            return closed

        deliveries, closed = await asyncio.gather(app.run(400, concurrency=8), disrupt())
        assert closed >= 3
        refused = _check_warehouse(sink, deliveries)
        await until(lambda: sink.store.count() == 400 - len(refused), timeout=30)
        assert len(sink.store.applied_keys()) == 400 - len(refused)
        await until(lambda: node.quarantine_store.count() == len(refused), timeout=30)
        statuses = [s for d in deliveries for s in d.statuses]
        print(f"\nwebhook under disruption: {len(statuses)} requests, answers {sorted(set(statuses))}")


@pytest.mark.parametrize("coalesce_max", [1, 32])
async def test_throughput_figure(
    tmp_path: Path, amqp_url: str, management_url: str, coalesce_max: int
) -> None:
    """Prints confirmed events per second at concurrency 32, one batch per request vs coalesced."""
    registry.register(PLUGIN)
    async with Node(_settings(tmp_path, amqp_url, management_url, coalesce_max=coalesce_max)) as node:
        source = await _source(node)
        app = EarlyWarningApp(f"http://127.0.0.1:{source.port}/webhook", SECRET, seed=30 + coalesce_max)
        started = time.monotonic()
        deliveries = await app.run(600, concurrency=32)
        elapsed = time.monotonic() - started
        assert all(d.delivered for d in deliveries)
        rate = 600 / elapsed
        print(f"\nwebhook coalesce_max={coalesce_max}: 600 events in {elapsed:.2f} s = {rate:.0f} events/s")
