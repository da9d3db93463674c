"""Three levels on three separate RabbitMQ nodes, with the province -> pusat link dead mid-stream.

kab/kota nodes live in vhosts of the machine's broker (5672); the province has its own RabbitMQ node
(``simpul-lv-prov``, AMQP 5702) and pusat another (``simpul-lv-pusat``, AMQP 5712), both started by this
test with ``ops/scripts/rabbit-node.sh`` and the shovel plugin, and stopped and wiped at the end. The
province's shovel reaches pusat through a TCP proxy; cutting the link stalls it for longer than the
heartbeat timeout (nothing passes, the sockets stay open, as on a dead WAN link), so both ends give up on
the connection and the shovel must reconnect by itself once the link heals. Records must then arrive
complete, each applied once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hub.demo.levels import render_report, run_levels
from hub.demo.levels_broker import fresh_vhosts
from hub.demo.levels_plan import LevelNode
from hub.settings import Settings
from hub.transport.management import ManagementClient
from tests.proxy import FaultyLink
from tests.rabbit_node import SHOVEL_PLUGINS, BrokerNode

pytestmark = [pytest.mark.broker]
MAIN_AMQP, MAIN_MGMT = "amqp://guest:guest@127.0.0.1:5672", "http://guest:guest@127.0.0.1:15672"
PROV = BrokerNode("lv-prov", 5702, 15702, 25702, SHOVEL_PLUGINS)
PUSAT = BrokerNode("lv-pusat", 5712, 15712, 25712, SHOVEL_PLUGINS)


@pytest.fixture(scope="module")
def broker_nodes() -> Iterator[None]:
    """The province's and pusat's own RabbitMQ nodes, started side by side; wiped afterwards."""

    async def start_all() -> None:
        await asyncio.gather(*(asyncio.to_thread(node.run, "start") for node in (PROV, PUSAT)))

    try:
        asyncio.run(start_all())
        yield
    finally:
        for node in (PROV, PUSAT):
            node.run("wipe")


@pytest.fixture
async def link() -> AsyncIterator[FaultyLink]:
    proxy = FaultyLink("127.0.0.1", PUSAT.amqp_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


def layout(prefix: str) -> list[LevelNode]:
    prov, pusat = (PROV.amqp, PROV.management), (PUSAT.amqp, PUSAT.management)
    return [
        LevelNode("pusat", "pusat", None, *pusat, f"{prefix}-pusat"),
        LevelNode(
            "jabar",
            "provinsi",
            "32",
            *prov,
            f"{prefix}-jabar",
            "pusat",
            ("RAHASIA", "SANGAT_RAHASIA"),
        ),
        LevelNode("kab-bogor", "kabkota", "32.01", MAIN_AMQP, MAIN_MGMT, f"{prefix}-kab-bogor", "jabar"),
        LevelNode(
            "kota-bandung", "kabkota", "32.73", MAIN_AMQP, MAIN_MGMT, f"{prefix}-kota-bandung", "jabar"
        ),
    ]


async def test_link_cut_between_separate_broker_nodes(
    broker_nodes: None, link: FaultyLink, tmp_path: Path
) -> None:
    """Records wait in the province's broker while its link to pusat is dead, and arrive complete and
    without duplicates applied once it heals; the kab/kota -> province links never break."""
    nodes = layout(f"simpul-lvn-{uuid.uuid4().hex[:6]}")
    await fresh_vhosts(nodes)
    pusat = nodes[0]
    # Short heartbeat and connection timeout: the shovel must notice a blackholed link within seconds.
    via_proxy = f"{link.url_for(pusat.vhost)}?heartbeat=5&connection_timeout=5000"

    cut_at = 0.0

    async def cut(_settings: dict[str, Settings]) -> None:
        nonlocal cut_at
        link.stall()
        cut_at = time.monotonic()

    async def restore(_settings: dict[str, Settings]) -> None:
        # Dead for longer than two heartbeats (5 s): the shovel's connection dies, it must reconnect.
        await asyncio.sleep(max(0.0, cut_at + 16 - time.monotonic()))
        link.heal()

    try:
        report = await run_levels(
            nodes,
            tmp_path,
            per_office=200,
            timeout=120,
            cut=cut,
            restore=restore,
            parent_uris={"jabar": via_proxy},
            say=lambda _: None,
        )
    finally:
        for n in nodes[2:]:
            async with ManagementClient(n.management) as api:
                await api.delete_vhost(n.vhost)
    print(render_report(report, nodes))
    assert report.ok, render_report(report, nodes)
    assert report.applied == report.planned_pusat == 2 * (200 + 1) + 1
    assert report.waited_in_parent_broker > 0
    assert report.duplicates_applied == 0
