"""The status page's server side: page and assets, the overview and whoami reads, and the new metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel, ConfigDict, Field

from hub.adapters import registry
from hub.adapters.model import AdapterContext, AdapterPlugin, SourceBatch
from hub.http.admin import Throughput
from hub.metrics import QueueStats, QueueStatsPoller
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from schemas.regions import default_index
from tests.helpers import TOKEN_ACT, TOKEN_READ, example, item, node_settings, until
from tests.unit.test_admin import admin
from tests.unit.test_http_ingest import post

# Provinces the ticking source reports from: Aceh, DKI Jakarta, Jawa Barat, Bali, Papua Tengah.
TICK_PROVINCES = ("11", "31", "32", "51", "94")


def kecamatan_in(province: str) -> str:
    """The first kecamatan code of the province's first kabupaten/kota."""
    index = default_index()
    return index.children(index.children(province)[0].code)[0].code


class TickerConfig(BaseModel):
    """Config of the test-only ``ticker_source``."""

    model_config = ConfigDict(extra="forbid")

    provinces: list[str] = Field(default=list(TICK_PROVINCES), description="Two-digit province codes")
    interval_s: float = Field(0.05, description="Seconds between batches")
    lag_s: float | None = Field(42.0, description="What cursor_lag_seconds() reports")


class TickerSource:
    """A source that keeps running: every ``interval_s`` one record per province; reports a cursor lag."""

    def __init__(self, config: TickerConfig, context: AdapterContext) -> None:
        self._config = config
        self._context = context
        self._n = 0

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def cursor_lag_seconds(self) -> float | None:
        return self._config.lag_s

    async def read(self) -> AsyncIterator[SourceBatch]:
        while True:
            records = []
            for province in self._config.provinces:
                self._n += 1
                data = example("ormas_registration")
                data["kode_wilayah"] = kecamatan_in(province)
                records.append(self._context.record(data, source_record_id=f"T{self._n}", revision=1))
            yield SourceBatch(records)
            await asyncio.sleep(self._config.interval_s)


TICKER_PLUGIN = AdapterPlugin(
    name="ticker_source",
    role="source",
    summary="Test source that emits a record per province on a timer",
    config_model=TickerConfig,
    factory=lambda config, context: TickerSource(config, context),
)


def ticker_entry(name: str = "ticker-jabar", **config: Any) -> dict[str, Any]:
    """A ``[[sources]]`` entry for the ticking source."""
    return {
        "name": name,
        "kind": "ticker_source",
        "schema": "ormas_registration",
        "system": "ticker",
        "office": "pusat",
        "config": config,
    }


@pytest.fixture
async def ticking_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Node]:
    """A memory-transport node with one running ticker source adapter (registered for this test only)."""
    monkeypatch.setitem(registry._registered, TICKER_PLUGIN.name, TICKER_PLUGIN)
    settings = node_settings(tmp_path, sources=[ticker_entry()])
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    await node.start()
    try:
        yield node
    finally:
        await node.stop()


async def get_text(node: Node, path: str) -> tuple[int, str, dict[str, str]]:
    """GET a path of the node; status, body text and headers."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{node.http_port}{path}") as r:
        return r.status, await r.text(), dict(r.headers)


async def test_page_and_assets_are_served_with_a_strict_policy(memory_node: Node) -> None:
    """/status and its two assets are served with a CSP; any other asset name is 404."""
    status, body, headers = await get_text(memory_node, "/status")
    assert status == 200 and 'id="provinces"' in body and "/status/status.js" in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    status, js, headers = await get_text(memory_node, "/status/status.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert "innerHTML" not in js  # data reaches the DOM only through textContent
    assert (await get_text(memory_node, "/status/status.css"))[0] == 200
    assert (await get_text(memory_node, "/status/..%2Fstatus_page.py"))[0] == 404
    assert (await get_text(memory_node, "/status/secrets.txt"))[0] == 404


async def test_whoami_and_overview_need_a_token(memory_node: Node) -> None:
    """No token: 401; whoami names the holder and role."""
    assert (await admin(memory_node, "GET", "/v1/admin/overview", token=None))[0] == 401
    status, me = await admin(memory_node, "GET", "/v1/admin/whoami", token=TOKEN_READ)
    assert status == 200 and me == {"name": "ops-reader", "role": "read"}
    assert (await admin(memory_node, "GET", "/v1/admin/whoami", token=TOKEN_ACT))[1]["role"] == "act"


async def test_overview_shows_adapters_throughput_quarantine_and_38_provinces(ticking_node: Node) -> None:
    """Overview: the running adapter, non-zero throughput, top reasons, 38 provinces with silence times."""
    await until(lambda: ticking_node.runners and ticking_node.runners[0].records_offered >= 10)
    bad = [item("ormas_registration", f"Q{i}", kode_wilayah="32.98.99") for i in range(3)]
    status, _b, _ = await post(ticking_node, "ormas_registration", bad, query="?on_invalid=quarantine")
    assert status == 202
    await until(lambda: ticking_node.quarantine_store.count() == 3)
    status, o = await admin(ticking_node, "GET", "/v1/admin/overview", token=TOKEN_READ)
    assert status == 200
    assert [(a["name"], a["state"], a["paused"]) for a in o["adapters"]] == [
        ("ticker-jabar", "running", False)
    ]
    assert o["totals"]["published"] >= 10 and o["throughput"]["published"] > 0
    assert o["quarantine_open"] == 3
    assert o["quarantine_top_reasons"] == [{"reason": "validation_failed", "count": 3}]
    provinces = {p["code"]: p for p in o["provinces"]}
    assert len(provinces) == 38 and provinces["32"]["name"] == "Jawa Barat"
    for code in TICK_PROVINCES:
        assert o["now"] - 60 < provinces[code]["last_record"] <= o["now"] + 1
    assert provinces["33"]["last_record"] is None
    assert o["queues"]["quarantine"]["consumers"] == 1 and o["queues"]["dead_letter"]["messages"] == 0


async def test_metrics_carry_queue_figures_lag_and_pause(ticking_node: Node) -> None:
    """/metrics: queue depth and consumers per consuming adapter, cursor lag, paused flag after a pause."""
    await until(lambda: ticking_node.runners and ticking_node.runners[0].records_offered > 0)
    status, _ = await admin(ticking_node, "POST", "/v1/admin/adapters/ticker-jabar/pause")
    assert status == 200
    _s, text, _h = await get_text(ticking_node, "/metrics")
    assert 'simpul_queue_consumers{adapter="sqlite_warehouse"} 1.0' in text
    assert 'simpul_queue_consumers{adapter="quarantine"} 1.0' in text
    assert 'simpul_queue_consumers{adapter="dead_letter"} 0.0' in text
    assert 'simpul_queue_messages{adapter="dead_letter"} 0.0' in text
    assert "simpul_queue_stats_up 1.0" in text
    assert 'simpul_adapter_cursor_lag_seconds{adapter="ticker-jabar"} 42.0' in text
    assert 'simpul_adapter_paused{adapter="ticker-jabar"} 1.0' in text
    assert 'simpul_adapter_up{adapter="ticker-jabar"} 0.0' in text
    assert 'simpul_last_record_timestamp_seconds{adapter="ticker-jabar",province="94"}' in text


async def test_queue_depth_counts_waiting_messages(memory_node: Node) -> None:
    """A message parked in the dead-letter queue shows as depth 1 once the cache expires."""
    transport = memory_node.transport
    assert isinstance(transport, MemoryTransport)
    await transport.publish("simpul.dlx", "x.y", b"{}", message_id="m1")
    memory_node.observer.queue_stats._at = None  # expire the cache
    _s, text, _h = await get_text(memory_node, "/metrics")
    assert 'simpul_queue_messages{adapter="dead_letter"} 1.0' in text


async def test_queue_stats_are_cached_and_failures_reported() -> None:
    """Within the TTL one fetch serves all scrapes; a failing fetch yields None and keeps the last figures."""
    now = [100.0]
    calls: list[int] = []
    fail = [False]

    async def fetch() -> dict[str, QueueStats]:
        calls.append(1)
        if fail[0]:
            raise OSError("management API down")
        return {"sqlite": QueueStats(7, 1)}

    poller = QueueStatsPoller(fetch, ttl_s=5.0, clock=lambda: now[0])
    first, second = await asyncio.gather(poller.get(), poller.get())
    assert first == second == {"sqlite": QueueStats(7, 1)} and len(calls) == 1
    now[0] += 6
    fail[0] = True
    assert await poller.get() is None and len(calls) == 2
    assert poller.last == {"sqlite": QueueStats(7, 1)}
    assert await poller.get() is None and len(calls) == 2  # the failure is cached too


async def test_queue_stats_time_out() -> None:
    """A fetch slower than the timeout counts as a failure."""

    async def slow() -> dict[str, QueueStats]:
        await asyncio.sleep(5)
        return {}

    poller = QueueStatsPoller(slow, timeout_s=0.05)
    assert await poller.get() is None


def test_throughput_rates_over_the_window() -> None:
    """Rates are the change in totals over the time between reads, per second."""
    now = [0.0]
    meter = Throughput(window_s=60, clock=lambda: now[0])
    now[0] = 10.0
    assert meter.rates({"published": 50.0}) == {"published": 5.0}  # since start
    now[0] = 20.0
    assert meter.rates({"published": 150.0}) == {"published": 10.0}
    now[0] = 100.0
    assert meter.rates({"published": 150.0}) == {"published": 0.0}


async def test_overview_counts_reports_owed_per_province(tmp_path: Path) -> None:
    """With quarterly reports owed by every kab/kota of Jawa Barat and none received, the overview shows
    all 27 missing there, and no figure for provinces that owe nothing."""
    obligation = {"schema": "periodic_report", "level": "kabkota", "period": "quarter", "provinces": ["32"]}
    settings = node_settings(tmp_path, completeness={"obligations": [obligation], "cache_s": 0})
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    await node.start()
    try:
        status, o = await admin(node, "GET", "/v1/admin/overview", token=TOKEN_READ)
    finally:
        await node.stop()
    provinces = {p["code"]: p for p in o["provinces"]}
    assert status == 200
    assert provinces["32"]["reports_missing"] == len(default_index().children("32")) == 27
    assert provinces["33"]["reports_missing"] is None
