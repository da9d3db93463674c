"""Queue figures from the real RabbitMQ management API at scrape time (needs the local broker)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from hub.node import Node
from hub.transport.amqp import AmqpTransport
from hub.transport.management import ManagementClient, ManagementError
from tests.helpers import node_settings

pytestmark = pytest.mark.broker

MANAGEMENT_URL = "http://guest:guest@127.0.0.1:15672"
AMQP_BASE = "amqp://guest:guest@127.0.0.1:5672"


@pytest.fixture
async def amqp_url() -> AsyncIterator[str]:
    """A throw-away vhost on the local RabbitMQ; its AMQP URL."""
    vhost = f"simpul-ops-{uuid.uuid4().hex[:8]}"
    async with ManagementClient(MANAGEMENT_URL) as api:
        try:
            await api.create_vhost(vhost)
        except ManagementError as exc:
            pytest.fail(f"RabbitMQ management API not reachable ({exc}); run ops/scripts/ensure-rabbitmq.sh")
        try:
            await api.set_permissions(vhost, "guest")
            yield f"{AMQP_BASE}/{quote(vhost, safe='')}"
        finally:
            with contextlib.suppress(ManagementError):
                await api.delete_vhost(vhost)


async def scrape(node: Node) -> str:
    """The node's /metrics text, with the queue-figure cache expired first."""
    node.observer.queue_stats._at = None
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{node.http_port}/metrics") as resp,
    ):
        assert resp.status == 200
        return await resp.text()


async def test_queue_figures_come_from_the_broker(tmp_path: Path, amqp_url: str) -> None:
    """Consumers per queue as RabbitMQ counts them; a dead management API marks the figures stale."""
    settings = node_settings(tmp_path, broker={"url": amqp_url, "management_url": MANAGEMENT_URL})
    async with Node(settings) as node:
        text = ""
        wanted = (
            'simpul_queue_consumers{adapter="sqlite_warehouse"} 1.0',
            'simpul_queue_consumers{adapter="quarantine"} 1.0',
        )
        for _ in range(40):  # the management statistics lag each new consumer by a few seconds
            text = await scrape(node)
            if all(line in text for line in wanted):
                break
            await asyncio.sleep(0.5)
        assert 'simpul_queue_consumers{adapter="sqlite_warehouse"} 1.0' in text
        assert 'simpul_queue_consumers{adapter="quarantine"} 1.0' in text
        assert 'simpul_queue_messages{adapter="dead_letter"} 0.0' in text
        assert "simpul_queue_stats_up 1.0" in text
        assert node.observer.queue_stats.fetches >= 1
        # The management API goes away: /metrics still answers, the figures are marked stale.
        transport = node.transport
        assert isinstance(transport, AmqpTransport) and transport._stats_api is not None
        await transport._stats_api.close()
        transport._stats_api = ManagementClient("http://guest:guest@127.0.0.1:9", timeout=1.0)
        text = await scrape(node)
        assert "simpul_queue_stats_up 0.0" in text
        assert 'simpul_queue_consumers{adapter="sqlite_warehouse"} 1.0' in text  # last known kept
