"""amqp_sink on the real RabbitMQ: a kabupaten node forwards to a provincial node on another vhost, with
confirms; the provincial node's warehouse applies every record once, through forced disconnects too."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
import pytest
from structlog.testing import capture_logs

from adapters.amqp_sink import PLUGIN
from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.node import Node
from hub.transport.management import ManagementClient, ManagementError
from schemas.envelope import make_record_key
from tests.helpers import KEY_BOGOR, item, node_settings, until
from tests.integration.conftest import AMQP_BASE, BROKER_USER

pytestmark = pytest.mark.broker
SYSTEM = "sitimdu-bogor"


@pytest.fixture(autouse=True)
def _plugin() -> None:
    registry.register(PLUGIN)


@pytest.fixture
async def provinsi_url(management: ManagementClient) -> AsyncIterator[str]:
    """The provincial node's own vhost, deleted after the test."""
    vhost = f"simpul-test-provinsi-{uuid.uuid4().hex[:10]}"
    await management.create_vhost(vhost, description="simpul integration test: receiving node")
    try:
        await management.set_permissions(vhost, BROKER_USER)
        yield f"{AMQP_BASE}/{quote(vhost, safe='')}"
    finally:
        with contextlib.suppress(ManagementError):
            await management.delete_vhost(vhost)


def _nodes(
    tmp_path: Path, amqp_url: str, management_url: str, provinsi_url: str, **sink_config: Any
) -> tuple[Any, Any]:
    kab = node_settings(
        tmp_path / "kab",
        node="kab-bogor",
        level="kabkota",
        broker={"url": amqp_url, "management_url": management_url},
        sinks=[
            {
                "name": "ke-provinsi",
                "kind": "amqp_sink",
                "config": {
                    "url": provinsi_url,
                    "exchange": "simpul.ingest",
                    "backoff_s": 0.05,
                    **sink_config,
                },
            }
        ],
    )
    provinsi = node_settings(
        tmp_path / "prov",
        node="prov-jabar",
        level="provinsi",
        broker={"url": provinsi_url, "management_url": management_url},
    )
    return kab, provinsi


async def _push(node: Node, items: list[dict[str, Any]]) -> None:
    """POST one batch to the node's ingest API; retry on 503."""
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


def _store(node: Node) -> Any:
    sink = node.sink
    assert isinstance(sink, SqliteSink)
    return sink.store


@pytest.mark.parametrize("mode", ["per_envelope", "batched"])
async def test_forwarded_records_are_applied_once_by_the_receiving_node(
    tmp_path: Path, amqp_url: str, management_url: str, provinsi_url: str, mode: str
) -> None:
    """300 records ingested at the kabupaten reach the province's warehouse unchanged, once each."""
    kab_settings, prov_settings = _nodes(tmp_path, amqp_url, management_url, provinsi_url, mode=mode)
    async with Node(prov_settings) as provinsi, Node(kab_settings) as kab:
        for b in range(6):
            await _push(kab, [item("ormas_registration", f"K{b}-{i}") for i in range(50)])
        received = _store(provinsi)
        await until(lambda: received.count() == 300, timeout=30)
        await until(lambda: _store(kab).count() == 300, timeout=30)
        key = make_record_key("ormas_registration", SYSTEM, "K3-7")
        there, here = received.get(key), _store(kab).get(key)
        assert there is not None and here is not None
        assert there["envelope"] == here["envelope"]  # the envelope travels unchanged
        assert len(received.applied_keys()) == 300


async def test_forward_connection_dropped_mid_stream_applies_nothing_twice(
    tmp_path: Path, amqp_url: str, management_url: str, provinsi_url: str
) -> None:
    """The forwarding connection is closed three times while records flow; all arrive once, none lost."""
    kab_settings, prov_settings = _nodes(tmp_path, amqp_url, management_url, provinsi_url, max_attempts=20)
    vhost = provinsi_url.rsplit("/", 1)[1]
    async with Node(prov_settings) as provinsi, Node(kab_settings) as kab:
        closed = 0

        async def produce() -> None:
            for b in range(30):
                await _push(kab, [item("ormas_registration", f"F{b}-{i}") for i in range(40)])
                await asyncio.sleep(0.05)

        async def disrupt() -> None:
            nonlocal closed
            for _ in range(3):
                await asyncio.sleep(0.4)
                closed += await _close_forward_connections(vhost)

        with capture_logs() as logs:
            await asyncio.gather(produce(), disrupt())
            received = _store(provinsi)
            await until(lambda: received.count() == 1200, timeout=60)
        assert closed >= 3
        assert len(received.applied_keys()) == 1200
        for b in range(30):
            assert received.get(make_record_key("ormas_registration", SYSTEM, f"F{b}-39")) is not None
        retried = [e for e in logs if e["event"] in ("forward_retry", "consumer_batch_failed")]
        print(f"forward retries: {len(retried)}, deliveries: {sum(received.delivery_counts().values())}")


async def _close_forward_connections(vhost: str) -> int:
    """Close the amqp_sink's connections into ``vhost`` (rabbitmqctl, by connection name)."""
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
        if f"\t{vhost}\t" in line and "simpul-forward/ke-provinsi" in line
    ]
    for pid in pids:
        closer = await asyncio.create_subprocess_exec(
            "rabbitmqctl",
            "close_connection",
            pid,
            "simpul test: forward link dropped",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await closer.wait()
    return len(pids)
