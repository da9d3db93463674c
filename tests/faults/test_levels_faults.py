"""Levels under link faults: kab/kota -> provinsi through the rendered uplink shovel and the LevelWorker.

kab-bogor (kabkota) lives in a vhost of the suite's own RabbitMQ node (``simpul-faults``, AMQP 5682, with
the shovel plugin); jabar (provinsi) and pusat live in vhosts of the machine's broker. Each node below
pusat runs the real levels machinery: its LevelWorker verifies what reached it, stamps its hop and
publishes to its ``upward`` exchange; the shovel that ``hub.levels.render`` writes for its settings (PUT
through the management API, as ``simpul topology apply`` does) carries its ``uplink`` queue to the parent,
acking only after the parent confirmed. kab-bogor's shovel reaches jabar through a ``FaultyLink`` (an
asyncio TCP proxy in front of the main broker), which is where the faults go:

- **dead link**: ``stall()`` for 20 s mid-stream (nothing passes, sockets stay open: more than two
  heartbeats of 5 s, so both ends give up on the connection and the shovel must reconnect by itself);
- **lossy slow link**: 30 ms per chunk, 256 KB/s, and the connection aborted every 40 chunks, for as long as
  the region keeps sending (at least 20 s); the shovel republishes what the parent never confirmed.

Records are pushed over HTTP to kab-bogor all along (S). The ledger wraps kab-bogor's transport (A, C at
the first hub) and pusat's sink (applies); P is pusat's warehouse. Every applied row must carry the hops
kab-bogor then jabar, and no dead queue along the path may hold anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import aiohttp
import orjson
import pytest

from adapters.sqlite_sink.sink import SqliteSink
from adapters.sqlite_sink.store import SqliteWarehouse
from hub.demo.levels_broker import fresh_vhosts, put_shovel, queue_depth
from hub.demo.levels_plan import LevelNode, node_settings
from hub.node import Node
from hub.settings import load_settings
from hub.transport.management import ManagementClient
from tests.faults import harness as h
from tests.faults import outside
from tests.faults.ledger import Ledger, assert_ok, key_for
from tests.faults.own_node import OWN_AMQP, OWN_MGMT
from tests.helpers import item
from tests.proxy import FaultyLink

pytestmark = [pytest.mark.broker, pytest.mark.slow]
MAIN_AMQP, MAIN_MGMT = "amqp://guest:guest@127.0.0.1:5672", "http://guest:guest@127.0.0.1:15672"
CHUNKS, PER_CHUNK = 60, 50
RESET_EVERY = 40  # chunks (reads of up to 64 KB) forwarded between two connection aborts


def _layout(prefix: str) -> list[LevelNode]:
    return [
        LevelNode("pusat", "pusat", None, MAIN_AMQP, MAIN_MGMT, f"{prefix}-pusat"),
        LevelNode("jabar", "provinsi", "32", MAIN_AMQP, MAIN_MGMT, f"{prefix}-jabar", "pusat", ("RAHASIA",)),
        LevelNode("kab-bogor", "kabkota", "32.01", OWN_AMQP, OWN_MGMT, f"{prefix}-kab-bogor", "jabar"),
    ]


@pytest.fixture
async def link(own_broker: None) -> AsyncIterator[FaultyLink]:
    """The kab-bogor -> jabar link: a faulty proxy in front of the main broker."""
    proxy = FaultyLink("127.0.0.1", 5672)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


async def _push(port: int, ledger: Ledger, statuses: Counter[int], done: asyncio.Event) -> None:
    """CHUNKS posts of PER_CHUNK ormas records to kab-bogor, paced; a 503 is retried (S counts once)."""
    async with aiohttp.ClientSession() as http:
        for c in range(CHUNKS):
            batch = [item("ormas_registration", f"LV-{c:03d}-{i:03d}") for i in range(PER_CHUNK)]
            ledger.offer(key_for("ormas_registration", "sys-kab-bogor", x["id"], 1) for x in batch)
            for _ in range(120):
                async with http.post(
                    f"http://127.0.0.1:{port}/v1/records/ormas_registration",
                    data=orjson.dumps(batch),
                    headers={"Content-Type": "application/json", "X-API-Key": "key-kab-bogor"},
                ) as resp:
                    await resp.read()
                    statuses[resp.status] += 1
                if resp.status == 202:
                    break
                assert resp.status == 503, resp.status
                await asyncio.sleep(0.5)
            await asyncio.sleep(0.15)
    done.set()


def _hops(store: SqliteWarehouse, record_key: str) -> tuple[str, ...]:
    """The nodes in the stored row's lineage, in order (empty when the record is missing)."""
    row = store.get(record_key)
    return tuple(hop["node"] for hop in (row or {}).get("envelope", {}).get("lineage", []))


async def _depth(node: Node, queue: str) -> int:
    """Messages in ``queue`` now (a passive declare; the management API's figures lag seconds)."""
    connection = await aio_pika.connect(node.settings.broker.url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


@pytest.mark.parametrize("fault", ["dead", "lossy"])
@pytest.mark.fault(
    "FaultyLink on the kab -> prov shovel: stall() 20 s / 30 ms per chunk, 256 KB/s, abort per 40 chunks"
)
async def test_levels_link_fault_through_the_shovel(tmp_path: Path, link: FaultyLink, fault: str) -> None:
    """Records cross kab/kota -> provinsi -> pusat through a dead or lossy link: each applied once, with
    its lineage, nothing parked, nothing lost."""
    nodes = _layout(f"simpul-lvf-{uuid.uuid4().hex[:6]}")
    await fresh_vhosts(nodes)
    _, jabar_ln, kab_ln = nodes
    via_link = f"{link.url_for(jabar_ln.vhost)}?heartbeat=5&connection_timeout=5000"
    settings = {n.name: node_settings(n, nodes, tmp_path, via_link if n is kab_ln else None) for n in nodes}
    ledger = Ledger(f"levels: {fault} link kab/kota -> provinsi (shovel)")
    statuses: Counter[int] = Counter()
    backlog_max = 0
    try:
        async with contextlib.AsyncExitStack() as stack:
            pusat = Node(settings["pusat"], sink=SqliteSink(settings["pusat"].sink.sqlite_path))
            assert pusat.sink is not None
            ledger.watch_sink(pusat.sink)
            await stack.enter_async_context(pusat)
            jabar = await stack.enter_async_context(Node(settings["jabar"]))
            kab = Node(settings["kab-bogor"])
            ledger.watch_transport(kab.transport, kab.topology.ingest_exchange)
            await stack.enter_async_context(kab)
            running = {"kab-bogor": kab, "jabar": jabar, "pusat": pusat}
            for n in (kab_ln, jabar_ln):
                await put_shovel(n, settings[n.name])
            store = h.warehouse(pusat)
            pushed = asyncio.Event()
            pusher = asyncio.create_task(_push(kab.http_port or 0, ledger, statuses, pushed))
            try:
                assert await h.wait_for(lambda: len(store.applied_keys()) >= 400, timeout=60, settle_s=0)
                ledger.fault()
                if fault == "dead":
                    link.stall()
                    until = time.monotonic() + 20
                else:  # lossy while the region sends the rest, and at least 20 s
                    link.latency_s, link.rate_bps, link.reset_every = 0.03, 256 * 1024, RESET_EVERY
                    until = time.monotonic() + 20
                while time.monotonic() < until or (fault == "lossy" and not pushed.is_set()):
                    backlog_max = max(backlog_max, await queue_depth(kab_ln, kab.topology.uplink_queue))
                    await asyncio.sleep(1.0)
                applied_during = len(store.applied_keys())
                link.heal()
                ledger.healed()
                await asyncio.wait_for(pusher, timeout=180)
            finally:
                pusher.cancel()
                await asyncio.gather(pusher, return_exceptions=True)
            assert await h.wait_for(lambda: h.covered(ledger, store), timeout=180), "not all arrived"
            await asyncio.sleep(2)  # late duplicates from the shovel's republishing land before the check
            wrong_lineage = []
            for key in ledger.offered:
                hops = _hops(store, ledger.keys[key].record_key)
                if hops != ("kab-bogor", "jabar"):
                    wrong_lineage.append(hops)
            parked = {
                f"{name}:{what}": count
                for name, node in running.items()
                for what, count in (
                    ("dead", await _depth(node, node.topology.dead_queue)),
                    ("quarantined", node.quarantine_store.count()),
                )
            }
            report = ledger.check(store.applied_keys(), store.delivery_counts())
    finally:
        for n in nodes:
            async with ManagementClient(n.management) as api:
                with contextlib.suppress(Exception):
                    await api.delete_vhost(n.vhost)
    report.notes.update(
        link_resets=link.resets,
        uplink_backlog_max=backlog_max,
        applied_during_fault=applied_during,
        http=dict(statuses),
    )
    assert report.offered == CHUNKS * PER_CHUNK
    assert not wrong_lineage, f"{len(wrong_lineage)} rows with wrong hops, e.g. {wrong_lineage[:3]}"
    assert not any(parked.values()), parked
    if fault == "dead":
        assert backlog_max > 0, "records must have waited in the kab/kota broker while the link was dead"
    else:
        assert link.resets > 0, "the lossy link must really have reset connections"
    print(report.notes)
    assert_ok(report)


@pytest.mark.fault("SIMPUL_FAULT_POINT=level_forwarded_before_ack:5 in the provinsi simpul run process")
async def test_province_process_killed_between_forward_and_ack(tmp_path: Path) -> None:
    """The province runs as ``simpul run`` and is SIGKILLed after its LevelWorker forwarded a group to
    pusat but before it acked it; kab/kota keeps sending (its shovel feeds the province's broker, which
    stays up). Restarted on the same state, every record reaches pusat once with both hops."""
    prefix = f"simpul-lvp-{uuid.uuid4().hex[:6]}"
    nodes = [
        LevelNode("pusat", "pusat", None, MAIN_AMQP, MAIN_MGMT, f"{prefix}-pusat"),
        LevelNode("jabar", "provinsi", "32", MAIN_AMQP, MAIN_MGMT, f"{prefix}-jabar", "pusat", ("RAHASIA",)),
        LevelNode("kab-bogor", "kabkota", "32.01", MAIN_AMQP, MAIN_MGMT, f"{prefix}-kab-bogor", "jabar"),
    ]
    await fresh_vhosts(nodes)
    pusat_ln, jabar_ln, kab_ln = nodes
    settings = {n.name: node_settings(n, nodes, tmp_path) for n in nodes}
    jabar_cfg = {
        "node": "jabar", "level": "provinsi", "region": "32", "dev_mode": True,
        "state_dir": str(tmp_path / "jabar-proc"), "log_level": "warning", "log_format": "json",
        "shutdown_timeout_s": 5.0,
        "broker": {"url": jabar_ln.url(), "management_url": MAIN_MGMT},
        "http": {"port": 0, "api_keys": {"key-jabar": {"system": "sys-jabar", "office": "32"}}},
        "batch": {"linger_ms": 2},
        "sink": {"enabled": False, "sqlite_path": str(tmp_path / "jabar-proc" / "warehouse.sqlite3")},
        "uplink": {"enabled": True, "parent_uri": pusat_ln.url(), "hold_classifications": ["RAHASIA"]},
    }  # fmt: skip
    config = outside.write_config(tmp_path / "jabar.toml", jabar_cfg)
    log = tmp_path / "jabar.log"
    ledger = Ledger("levels: provinsi process kill -9 between forward and ack")
    statuses: Counter[int] = Counter()
    first = outside.HubProcess(config, log, fault="level_forwarded_before_ack:5")
    second = outside.HubProcess(config, log)
    try:
        async with contextlib.AsyncExitStack() as stack:
            pusat = Node(settings["pusat"], sink=SqliteSink(settings["pusat"].sink.sqlite_path))
            assert pusat.sink is not None
            ledger.watch_sink(pusat.sink)
            await stack.enter_async_context(pusat)
            kab = Node(settings["kab-bogor"])
            ledger.watch_transport(kab.transport, kab.topology.ingest_exchange)
            await stack.enter_async_context(kab)
            await put_shovel(jabar_ln, load_settings(None, **jabar_cfg))
            await put_shovel(kab_ln, settings["kab-bogor"])
            store = h.warehouse(pusat)
            await first.start()
            pushed = asyncio.Event()
            pusher = asyncio.create_task(_push(kab.http_port or 0, ledger, statuses, pushed))
            try:
                status = await first.wait(timeout=120)
                assert status == -signal.SIGKILL, f"exit {status}\n{first.tail()}"
                ledger.fault()
                applied_at_kill = len(store.applied_keys())
                await second.start()
                ledger.healed()
                await asyncio.wait_for(pusher, timeout=180)
            finally:
                pusher.cancel()
                await asyncio.gather(pusher, return_exceptions=True)
            assert await h.wait_for(lambda: h.covered(ledger, store), timeout=180), "not all arrived"
            await asyncio.sleep(2)
            assert await second.stop() == 0, second.tail()
            hops = Counter(_hops(store, ledger.keys[k].record_key) for k in ledger.offered)
            report = ledger.check(store.applied_keys(), store.delivery_counts())
    finally:
        await first.kill()
        await second.kill()
        for n in nodes:
            async with ManagementClient(n.management) as api:
                with contextlib.suppress(Exception):
                    await api.delete_vhost(n.vhost)
    report.notes.update(applied_at_kill=applied_at_kill, http=dict(statuses))
    print(report.notes)
    assert hops == {("kab-bogor", "jabar"): CHUNKS * PER_CHUNK}, hops
    assert 0 < applied_at_kill < CHUNKS * PER_CHUNK, "the kill must fall mid-stream"
    assert report.redeliveries > 0, "the forwarded, unacked group was forwarded again: duplicates at pusat"
    assert_ok(report)
