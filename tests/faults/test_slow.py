"""Slow fault scenarios (minutes): broker-level faults on a broker node of our own, dead and lossy links,
a 100,000-record backlog, and an overload burst from all 552 regions. Run with ``ops/scripts/faults.sh``.

Broker-level faults (kill -9, restart, alarms, consumer timeout) go to the node started by
``ops/scripts/rabbit-node.sh`` (``simpul-faults@localhost``, AMQP 5682, management 15682), never to the
machine's main broker; link faults use the main broker through a faulty TCP proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
import pytest

from adapters.amqp_sink import PLUGIN as AMQP_SINK
from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.node import Node
from hub.transport.management import ManagementClient, ManagementError
from schemas.envelope import Envelope
from schemas.regions import default_index
from tests.faults import harness as h
from tests.faults.ledger import Ledger, assert_ok, key_for
from tests.faults.own_node import OWN_MGMT, arabbit, own_url
from tests.helpers import KEY_BOGOR, item, node_settings
from tests.integration.conftest import AMQP_BASE, BROKER_USER
from tests.proxy import FaultyLink

pytestmark = [pytest.mark.broker, pytest.mark.slow]
ROOT = Path(__file__).parents[2]


def rss_mb() -> float:
    """This process's resident memory in MiB (the node runs in-process)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def post(port: int, items: list[dict[str, Any]], key: str = KEY_BOGOR) -> tuple[int, float]:
    """POST once; returns the status and how long the answer took."""
    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}/v1/records/ormas_registration",
            data=orjson.dumps(items),
            headers={"Content-Type": "application/json", "X-API-Key": key},
            timeout=aiohttp.ClientTimeout(total=60),
        ) as resp,
    ):
        await resp.read()
        return resp.status, time.monotonic() - started


# -- broker killed / restarted ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["kill", "restart"])
@pytest.mark.fault("own node: kill -9 of the beam then start / rabbitmqctl stop then start")
async def test_broker_killed_or_restarted_mid_stream(tmp_path: Path, own_vhost: str, how: str) -> None:
    """The broker dies (kill -9) or restarts gracefully mid-stream; every record is applied once."""
    name = "broker kill -9 mid-stream" if how == "kill" else "graceful broker restart"
    ledger = Ledger(name)
    feed = h.FEEDS[f"broker-{how}"] = h.Feed(ledger)
    feed.add(h.ids(f"bk-{how}", 20_000), batch_size=100)

    async def pace(_index: int) -> None:
        await asyncio.sleep(0.03)

    feed.after_batch = pace
    config = h.settings(tmp_path, own_url(own_vhost), OWN_MGMT, feed=f"broker-{how}")
    async with h.make_node(config, ledger) as node:
        store = h.warehouse(node)
        assert await h.wait_for(lambda: len(ledger.confirmed) >= 3000, timeout=60, settle_s=0)
        ledger.fault()
        if how == "kill":
            await arabbit("kill")
            await arabbit("start")
        else:
            await arabbit("restart")
        ledger.healed()
        assert await h.wait_for(lambda: h.done(node, ledger, store), timeout=240)
    report = h.final_report(ledger, config)
    report.notes["publish_errors"] = sum(ledger.publish_errors.values())
    assert report.offered == 20_000
    assert_ok(report)


# -- alarms ----------------------------------------------------------------------------------------------

ALARMS = {
    "memory": (("set_vm_memory_high_watermark", "0.0001"), ("set_vm_memory_high_watermark", "0.4")),
    "disk": (("set_disk_free_limit", "100000GB"), ("set_disk_free_limit", "50MB")),
}


@pytest.mark.parametrize("kind", ["memory", "disk"])
@pytest.mark.fault("own node: rabbitmqctl set_vm_memory_high_watermark 0.0001 / set_disk_free_limit 100000GB")
async def test_alarm_blocks_publishers_while_consumers_drain(
    tmp_path: Path, own_vhost: str, kind: str
) -> None:
    """Under an alarm: publishers blocked, HTTP 503 at once, memory flat, the backlog still drains."""
    ledger = Ledger(f"{kind} alarm")
    feed = h.FEEDS[f"alarm-{kind}"] = h.Feed(ledger)
    feed.add(h.ids(f"al-{kind}", 20_000), batch_size=100)

    def slow_sink(real: Any) -> Any:
        async def write(envelopes: Sequence[Envelope]) -> Any:
            await asyncio.sleep(0.15)
            return await real(envelopes)

        return write

    config = h.settings(
        tmp_path,
        own_url(own_vhost),
        OWN_MGMT,
        feed=f"alarm-{kind}",
        sink={"batch_messages": 2, "prefetch": 4},
    )
    node = Node(config, sink=SqliteSink(config.sink.sqlite_path))
    assert node.sink is not None
    node.sink.write = slow_sink(node.sink.write)  # type: ignore[method-assign]
    ledger.watch(node)
    on, off = ALARMS[kind]
    async with node:
        store = h.warehouse(node)
        assert await h.wait_for(lambda: len(ledger.confirmed) >= 6000, timeout=60, settle_s=0)
        ledger.fault()
        await arabbit("ctl", *on)
        assert await h.wait_for(lambda: getattr(node.transport, "blocked", False), timeout=30, settle_s=0)
        await asyncio.sleep(1)
        rss0 = rss_mb()
        confirmed0, applied0 = len(ledger.confirmed), len(store.applied_keys())
        answers = await asyncio.gather(
            *(post(node.http_port or 0, [item("ormas_registration", f"H{i}-{j}") for j in range(50)])
              for i in range(100))
        )  # fmt: skip
        await asyncio.sleep(6)
        statuses = Counter(s for s, _ in answers)
        slowest = max(t for _, t in answers)
        confirmed1, applied1 = len(ledger.confirmed), len(store.applied_keys())
        rss1 = rss_mb()
        assert statuses == {503: 100}, statuses
        assert slowest < 2.0, f"503 must come at once, the slowest took {slowest:.2f}s"
        assert confirmed1 - confirmed0 <= 100, "publishers must be blocked"
        assert applied1 > applied0, "consumers must keep draining during the alarm"
        assert rss1 - rss0 < 100, f"memory grew {rss1 - rss0:.0f} MiB under the alarm"
        await arabbit("ctl", *off)
        ledger.healed()
        assert await h.wait_for(lambda: h.done(node, ledger, store), timeout=240)
    report = h.final_report(ledger, config)
    report.notes.update(
        http_503_slowest_s=round(slowest, 3),
        drained_during_alarm=applied1 - applied0,
        rss_growth_mb=round(rss1 - rss0, 1),
    )
    assert_ok(report)


# -- consumer timeout ------------------------------------------------------------------------------------


@pytest.mark.fault("own node: consumer_timeout 3 s, one sink write stuck 12 s")
async def test_consumer_timeout_redelivers_and_applies_once(tmp_path: Path, own_vhost: str) -> None:
    """A sink stuck past the broker's consumer timeout: the channel is closed, nothing lost or doubled."""
    await arabbit(
        "ctl", "eval", "application:set_env(rabbit, consumer_timeout, 3000), "
        "application:set_env(rabbit, channel_tick_interval, 1000)."
    )  # fmt: skip
    ledger = Ledger("consumer timeout")
    feed = h.FEEDS["ctimeout"] = h.Feed(ledger)
    feed.add(h.ids("ct", 3000), batch_size=50)
    writes = 0

    def stuck(real: Any) -> Any:
        async def write(envelopes: Sequence[Envelope]) -> Any:
            nonlocal writes
            writes += 1
            if writes == 3:
                ledger.fault()
                await asyncio.sleep(12)
                ledger.healed()
            return await real(envelopes)

        return write

    config = h.settings(tmp_path, own_url(own_vhost), OWN_MGMT, feed="ctimeout")
    node = Node(config, sink=SqliteSink(config.sink.sqlite_path))
    assert node.sink is not None
    node.sink.write = stuck(node.sink.write)  # type: ignore[method-assign]
    ledger.watch(node)
    async with node:
        store = h.warehouse(node)
        assert await h.wait_for(lambda: h.done(node, ledger, store), timeout=120)
    report = h.final_report(ledger, config)
    assert writes >= 3
    assert report.redeliveries > 0, "the timed-out deliveries must have come again"
    assert_ok(report)


# -- links between a region and its parent ---------------------------------------------------------------


@pytest.fixture
async def parent_vhost() -> AsyncIterator[str]:
    """The parent (provincial) node's vhost on the main broker."""
    vhost = f"simpul-test-parent-{uuid.uuid4().hex[:10]}"
    async with ManagementClient(
        os.environ.get("SIMPUL_TEST_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
    ) as api:
        await api.create_vhost(vhost, description="simpul fault suite: parent node")
        await api.set_permissions(vhost, BROKER_USER)
        try:
            yield vhost
        finally:
            with contextlib.suppress(ManagementError):
                await api.delete_vhost(vhost)


@pytest.mark.parametrize("fault", ["dead", "lossy"])
@pytest.mark.fault(
    "asyncio proxy on the kab -> provinsi link: blackhole 25 s / 30 ms per chunk, 256 KB/s, resets"
)
async def test_link_between_region_and_parent(
    tmp_path: Path, amqp_url: str, management_url: str, parent_vhost: str, fault: str
) -> None:
    """A kabupaten node forwards to its province over a dead (blackholed) or slow lossy link; nothing lost."""
    registry.register(AMQP_SINK)
    ledger = Ledger(f"{fault} link region -> parent")
    feed = h.FEEDS[f"link-{fault}"] = h.Feed(ledger)
    feed.add(h.ids(f"ln-{fault}", 4000), batch_size=50)

    async def pace(_index: int) -> None:
        await asyncio.sleep(0.1)

    feed.after_batch = pace
    link = FaultyLink()
    await link.start()
    kab = node_settings(
        tmp_path / "kab",
        node="kab-bogor",
        level="kabkota",
        # A low delivery limit and one attempt per write: the outage outlasts the limit many times over,
        # so a consumer that counted outage failures against it would park records in the dead queue.
        broker={"url": amqp_url, "management_url": management_url, "heartbeat_s": 5, "publish_timeout_s": 5,
                "delivery_limit": 2},
        sources=[h.source_entry(f"link-{fault}")],
        sinks=[{
            "name": "ke-provinsi", "kind": "amqp_sink",
            "config": {"url": link.url_for(parent_vhost), "exchange": "simpul.ingest", "heartbeat_s": 5,
                       "publish_timeout_s": 3, "max_attempts": 1, "backoff_s": 0.2, "backoff_cap_s": 5},
        }],
    )  # fmt: skip
    prov = node_settings(
        tmp_path / "prov",
        node="prov-jabar",
        level="provinsi",
        broker={"url": f"{AMQP_BASE}/{quote(parent_vhost, safe='')}", "management_url": management_url},
    )
    try:
        parent = Node(prov, sink=SqliteSink(prov.sink.sqlite_path))
        assert parent.sink is not None
        ledger.watch_sink(parent.sink)
        async with parent:
            region = Node(kab)
            ledger.watch_transport(region.transport, region.topology.ingest_exchange)
            async with region:
                parent_store = h.warehouse(parent)
                assert await h.wait_for(lambda: len(ledger.confirmed) >= 500, timeout=30, settle_s=0)
                ledger.fault()
                if fault == "dead":
                    link.blackhole = True
                    await asyncio.sleep(25)
                else:
                    link.latency_s, link.rate_bps, link.reset_every = 0.03, 256 * 1024, 60
                    await h.wait_for(lambda: region.runners[0].state == "stopped", timeout=120, settle_s=0)
                    await asyncio.sleep(5)
                link.heal()
                ledger.healed()
                await h.wait_for(lambda: h.done(region, ledger, parent_store), timeout=240)
    finally:
        await link.close()
    report = h.final_report(ledger, prov)
    report.notes["link_resets"] = link.resets
    assert_ok(report)


# -- backlog ----------------------------------------------------------------------------------------------


@pytest.mark.fault("own node: 100,000 records queued, rabbitmqctl stop + start, then drained")
async def test_broker_restart_with_a_100k_backlog(tmp_path: Path, own_vhost: str) -> None:
    """100,000 confirmed records wait in the central queue through a broker restart, then drain once each."""
    n = 100_000
    ledger = Ledger("broker restart with 100k backlog")
    feed = h.FEEDS["backlog"] = h.Feed(ledger)
    feed.add(h.ids("bl", n), batch_size=500)
    fill = h.settings(tmp_path, own_url(own_vhost), OWN_MGMT, feed="backlog", sink={"enabled": False})
    producer = Node(fill)
    ledger.watch_transport(producer.transport, producer.topology.ingest_exchange)
    started = time.monotonic()
    async with producer:
        assert await h.wait_for(lambda: producer.runners[0].state == "stopped", timeout=400, settle_s=0)
    filled_s = time.monotonic() - started
    assert len(ledger.confirmed) == n
    ledger.fault()
    restart_started = time.monotonic()
    await arabbit("restart")
    restart_s = time.monotonic() - restart_started
    ledger.healed()
    config = h.settings(tmp_path, own_url(own_vhost), OWN_MGMT, feed="backlog")
    drain_started = time.monotonic()
    async with h.make_node(config, ledger) as node:
        store = h.warehouse(node)
        assert await h.wait_for(lambda: h.done(node, ledger, store), timeout=600)
    drain_s = time.monotonic() - drain_started
    report = h.final_report(ledger, config)
    report.notes.update(fill_s=round(filled_s, 1), restart_s=round(restart_s, 1), drain_s=round(drain_s, 1))
    assert report.applied == n
    assert_ok(report)


# -- overload burst ---------------------------------------------------------------------------------------


def _regions() -> list[tuple[str, str]]:
    """(office, kode_wilayah for its records) for the 38 provinces and 514 kabupaten/kota."""
    index = default_index()
    out: list[tuple[str, str]] = []
    for province in index.children(None):
        kabs = index.children(province.code)
        out.append((province.code, kabs[0].code))
        out.extend((kab.code, kab.code) for kab in kabs)
    return out


@pytest.mark.fault("552 regional clients POST 2 x 50 records each at once (1,104 concurrent requests)")
async def test_overload_burst_from_all_552_regions(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """Every region pushes at once: memory stays bounded, the hub sheds load with 503/429, all progress."""
    regions = _regions()
    assert len(regions) == 552
    ledger = Ledger("overload burst, 552 regions")
    keys = {
        f"key-{office}": {"system": f"sys-{office.replace('.', '')}", "office": office}
        for office, _ in regions
    }
    config = h.settings(
        tmp_path, amqp_url, management_url,
        http={"api_keys": keys}, batch={"max_pending_records": 2000, "linger_ms": 5},
    )  # fmt: skip
    statuses: Counter[int] = Counter()
    first_accept: dict[str, float] = {}
    done_at: dict[str, float] = {}
    peak = [rss_mb()]
    base = peak[0]

    async def region(http: aiohttp.ClientSession, port: int, office: str, code: str, part: int) -> None:
        system = keys[f"key-{office}"]["system"]
        batch = [item("ormas_registration", f"{office}-{part}-{i}", kode_wilayah=code) for i in range(50)]
        ledger.offer(key_for("ormas_registration", system, x["id"], 1) for x in batch)
        for _ in range(600):
            async with http.post(
                f"http://127.0.0.1:{port}/v1/records/ormas_registration",
                data=orjson.dumps(batch),
                headers={"Content-Type": "application/json", "X-API-Key": f"key-{office}"},
            ) as resp:
                await resp.read()
                statuses[resp.status] += 1
                if resp.status == 202:
                    now = time.monotonic()
                    first_accept.setdefault(office, now)
                    done_at[office] = now
                    return
                assert resp.status in (429, 503), resp.status
                await asyncio.sleep(min(float(resp.headers.get("Retry-After", "1")), 1.0))
        raise AssertionError(f"{office} never got through")

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], rss_mb())
            await asyncio.sleep(0.2)

    async with h.make_node(config, ledger) as node:
        store = h.warehouse(node)
        sampler = asyncio.create_task(sample())
        started = time.monotonic()
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=600)
        ) as http:
            await asyncio.gather(
                *(region(http, node.http_port or 0, office, code, part)
                  for office, code in regions for part in range(2))
            )  # fmt: skip
        burst_s = time.monotonic() - started
        assert await h.wait_for(lambda: h.covered(ledger, store), timeout=300)
        sampler.cancel()
    report = h.final_report(ledger, config)
    times = sorted(done_at[o] - started for o, _ in regions)
    report.notes.update(
        burst_s=round(burst_s, 1),
        statuses=dict(statuses),
        rss_peak_growth_mb=round(peak[0] - base, 1),
        region_done_p50_s=round(times[len(times) // 2], 1),
        region_done_max_s=round(times[-1], 1),
    )
    print(report.notes)
    assert report.offered == 552 * 100
    assert times[-1] <= 3 * max(times[len(times) // 2], 1.0), "some regions starved while others went through"
    assert peak[0] - base < 1500, f"memory grew {peak[0] - base:.0f} MiB during the burst"
    assert_ok(report)
