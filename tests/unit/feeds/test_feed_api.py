"""The feed API of a running node (memory broker, SQLite warehouse): JSON and NDJSON pages, filters,
server-sent events, consumer scopes, withheld classifications and redacted personal fields."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from adapters.sqlite_sink import SqliteWarehouse
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from schemas.classification import Classification
from tests.helpers import node_settings
from tests.unit.feeds.builders import feed_env

WIT = timezone(timedelta(hours=9))
CONSUMERS = {
    "tok-jabar": {"name": "jabar-app", "clearance": "TERBATAS", "regions": ["32"]},
    "tok-pusat": {"name": "pusat-app", "clearance": "RAHASIA"},
    "tok-ormas": {"name": "ormas-app", "clearance": "TERBATAS", "schemas": ["ormas_registration"]},
}


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    settings = node_settings(
        tmp_path,
        feeds={"consumers": CONSUMERS, "live_poll_ms": 20},
        completeness={"obligations": [{"schema": "early_warning", "level": "kabkota", "period": "quarter"}]},
    )
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    await node.start()
    try:
        yield node
    finally:
        await node.stop()


@pytest.fixture
def warehouse(node: Node) -> AsyncIterator[SqliteWarehouse]:
    wh = SqliteWarehouse(node.settings.sink.sqlite_path)
    yield wh
    wh.close()


async def _get(node: Node, path: str, token: str | None, **headers: str) -> tuple[int, Any, dict[str, str]]:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = f"http://127.0.0.1:{node.http_port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        body = await response.read()
        ndjson = response.content_type == "application/x-ndjson"
        data = [orjson.loads(line) for line in body.splitlines()] if ndjson else orjson.loads(body)
        return response.status, data, dict(response.headers)


def _seed(wh: SqliteWarehouse) -> None:
    wh.apply(
        [
            feed_env(rid="O-1", kode="32.01"),
            feed_env(rid="O-2", kode="33.01"),
            feed_env(rid="O-3", kode="32.71", classification=Classification.RAHASIA),
            feed_env(rid="O-4", kode="32.01.01"),
            feed_env("early_warning", "EW-1", kode="32.04", classification=Classification.TERBATAS),
        ]
    )


async def test_pages_follow_the_cursor_to_the_end(node: Node, warehouse: SqliteWarehouse) -> None:
    """limit=1 pages walk every visible record once in change order; next_cursor then marks the end,
    and a later poll from it returns only what changed since."""
    _seed(warehouse)
    seen, cursor = [], ""
    for _ in range(10):
        status, page, _ = await _get(node, f"/v1/feeds/ormas_registration?limit=1{cursor}", "tok-pusat")
        assert status == 200
        seen += [i["record_key"] for i in page["items"]]
        cursor = f"&cursor={page['next_cursor']}"
        if not page["has_more"]:
            break
    status, page, _ = await _get(node, f"/v1/feeds/ormas_registration?limit=10{cursor}", "tok-pusat")
    assert len(seen) == len(set(seen)) == 4 and page["items"] == [] and not page["has_more"]
    warehouse.apply([feed_env(rid="O-2", revision=2, kode="33.01")])
    status, page, _ = await _get(node, f"/v1/feeds/ormas_registration?limit=10{cursor}", "tok-pusat")
    assert [(i["kode_wilayah"], i["revision"]) for i in page["items"]] == [("33.01", 2)]


async def test_ndjson_and_json_carry_the_same_items(node: Node, warehouse: SqliteWarehouse) -> None:
    """Accept: application/x-ndjson gives one item per line and the paging in headers."""
    _seed(warehouse)
    _, page, _ = await _get(node, "/v1/feeds/ormas_registration?limit=2", "tok-pusat")
    status, lines, headers = await _get(
        node, "/v1/feeds/ormas_registration?limit=2", "tok-pusat", Accept="application/x-ndjson"
    )
    assert status == 200 and lines == page["items"] and len(lines) == 2
    assert headers["X-Next-Cursor"] == page["next_cursor"] and headers["X-Has-More"] == "true"


async def test_scope_by_region_and_schema(node: Node, warehouse: SqliteWarehouse) -> None:
    """A consumer scoped to province 32 never sees 33's rows and gets 403 asking for 33; a consumer
    scoped to one schema gets 403 for another; no or a wrong token is 401."""
    _seed(warehouse)
    _, page, _ = await _get(node, "/v1/feeds/ormas_registration", "tok-jabar")
    assert {i["kode_wilayah"] for i in page["items"]} == {"32.01", "32.01.01"}  # 32.71 is RAHASIA
    assert (await _get(node, "/v1/feeds/ormas_registration?province=33", "tok-jabar"))[0] == 403
    assert (await _get(node, "/v1/feeds/ormas_registration?kabkota=33.01", "tok-jabar"))[0] == 403
    _, page, _ = await _get(node, "/v1/feeds/ormas_registration?kabkota=3201", "tok-jabar")
    assert {i["kode_wilayah"] for i in page["items"]} == {"32.01", "32.01.01"}
    assert (await _get(node, "/v1/feeds/early_warning", "tok-ormas"))[0] == 403
    assert (await _get(node, "/v1/feeds/ormas_registration", None))[0] == 401
    assert (await _get(node, "/v1/feeds/ormas_registration", "nope"))[0] == 401
    assert (await _get(node, "/v1/feeds/no_such_schema", "tok-pusat"))[0] == 404


async def test_classification_and_redaction(node: Node, warehouse: SqliteWarehouse) -> None:
    """TERBATAS clearance: RAHASIA rows withheld, names and NIK tokens nulled and listed as redacted;
    RAHASIA clearance: everything, in clear."""
    _seed(warehouse)
    _, low, _ = await _get(node, "/v1/feeds/ormas_registration", "tok-ormas")
    _, high, _ = await _get(node, "/v1/feeds/ormas_registration", "tok-pusat")
    assert len(low["items"]) == 3 and len(high["items"]) == 4
    item = low["items"][0]
    assert item["redacted"] == ["alamat_sekretariat", "pengurus.*.nama", "pengurus.*.nik_token"]
    assert item["payload"]["alamat_sekretariat"] is None
    assert all(p["nama"] is None and p["nik_token"] is None for p in item["payload"]["pengurus"])
    assert item["payload"]["nama"] == "Gerakan Pemuda Peduli Lingkungan"  # the ormas's name is not personal
    clear = high["items"][0]
    assert clear["redacted"] == [] and clear["payload"]["pengurus"][0]["nama"] == "Dedi Suryadi"
    assert "RAHASIA" in {i["classification"] for i in high["items"]}


async def test_filters_period_and_changed_since(node: Node, warehouse: SqliteWarehouse) -> None:
    """period uses the region's zone; changed_since the warehouse's applied time; bad values are 400."""
    warehouse.apply(
        [
            feed_env(
                "early_warning", "EW-Q1", kode="91.03", occurred_at=datetime(2024, 3, 31, 23, 30, tzinfo=WIT)
            ),
            feed_env(
                "early_warning", "EW-Q2", kode="91.03", occurred_at=datetime(2024, 4, 1, 0, 30, tzinfo=WIT)
            ),
        ]
    )
    _, q1, _ = await _get(node, "/v1/feeds/early_warning?period=2024-Q1", "tok-pusat")
    _, q2, _ = await _get(node, "/v1/feeds/early_warning?period=2024-Q2", "tok-pusat")
    assert [i["occurred_at"] for i in q1["items"]] == ["2024-03-31T23:30:00+09:00"]
    assert [i["occurred_at"] for i in q2["items"]] == ["2024-04-01T00:30:00+09:00"]
    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    _, none, _ = await _get(node, f"/v1/feeds/early_warning?changed_since={later}", "tok-pusat")
    assert none["items"] == []
    _, both, _ = await _get(
        node, "/v1/feeds/early_warning?changed_since=2024-01-01T00:00:00%2B07:00", "tok-pusat"
    )
    assert len(both["items"]) == 2
    for query in ("period=2024-Q9", "changed_since=yesterday", "cursor=abc", "limit=0", "province=3201"):
        status, problem, _ = await _get(node, f"/v1/feeds/early_warning?{query}", "tok-pusat")
        assert status == 400 and problem["message"], query


async def _events(response: aiohttp.ClientResponse, n: int) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    event: dict[str, str] = {}
    async with asyncio.timeout(5):
        while len(out) < n:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line == "" and "data" in event:
                out.append((event["id"], orjson.loads(event["data"])))
                event = {}
            elif ":" in line and not line.startswith(":"):
                key, _, value = line.partition(":")
                event[key] = value.strip()
    return out


async def test_live_events_resume_after_last_event_id(node: Node, warehouse: SqliteWarehouse) -> None:
    """/live sends only rows applied after it opened; reconnecting with Last-Event-ID continues after the
    last event seen, even for rows applied while disconnected; scope and redaction apply."""
    _seed(warehouse)  # already there: not sent
    url = f"http://127.0.0.1:{node.http_port}/v1/feeds/ormas_registration/live"
    auth = {"Authorization": "Bearer tok-jabar"}
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers=auth) as response:
            assert response.status == 200 and response.content_type == "text/event-stream"
            await asyncio.sleep(0.1)
            warehouse.apply([feed_env(rid="L-1", kode="32.02"), feed_env(rid="L-2", kode="33.02")])
            warehouse.apply([feed_env(rid="L-3", kode="32.03")])
            first = await _events(response, 2)
        assert [e[1]["kode_wilayah"] for e in first] == ["32.02", "32.03"]  # 33.02 is out of scope
        assert first[0][1]["payload"]["pengurus"][0]["nama"] is None
        warehouse.apply([feed_env(rid="L-4", kode="32.04")])  # while disconnected
        async with http.get(url, headers={**auth, "Last-Event-ID": first[-1][0]}) as response:
            warehouse.apply([feed_env(rid="L-5", kode="32.05")])
            second = await _events(response, 2)
    assert [e[1]["kode_wilayah"] for e in second] == ["32.04", "32.05"]


async def test_completeness_endpoint_and_metric(node: Node, warehouse: SqliteWarehouse) -> None:
    """GET /v1/completeness answers by province; /metrics carries simpul_reports_missing."""
    warehouse.apply(
        [feed_env("early_warning", "EW", kode="91.03", occurred_at=datetime(2024, 2, 1, tzinfo=WIT))]
    )
    status, report, _ = await _get(node, "/v1/completeness?schema=early_warning&period=2024-Q1", "tok-pusat")
    assert status == 200 and report["period"] == "2024-Q1" and len(report["provinces"]) == 38
    papua = next(p for p in report["provinces"] if p["code"] == "91")
    assert papua["zone"] == "WIT" and papua["counts"]["reported"] == 1
    assert report["totals"]["reported"] == 1 and report["totals"]["missing"] == 513
    assert (await _get(node, "/v1/completeness?schema=periodic_report", "tok-pusat"))[0] == 404
    assert (await _get(node, "/v1/completeness", "tok-pusat"))[0] == 400
    metrics = f"http://127.0.0.1:{node.http_port}/metrics"
    async with aiohttp.ClientSession() as http, http.get(metrics) as response:
        text = await response.text()
    assert 'simpul_reports_missing{province="32",schema="early_warning"} 27.0' in text


async def test_stopping_the_node_ends_live_streams(tmp_path: Path) -> None:
    """A connected /live client does not hold the node's shutdown for the HTTP timeout: the stream ends."""
    settings = node_settings(tmp_path, feeds={"consumers": CONSUMERS, "live_poll_ms": 50})
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    await node.start()
    url = f"http://127.0.0.1:{node.http_port}/v1/feeds/ormas_registration/live"
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"Authorization": "Bearer tok-pusat"}) as r,
    ):
        assert r.status == 200
        started = time.monotonic()
        await node.stop()
        elapsed = time.monotonic() - started
        rest = await r.content.read()
    assert elapsed < 3 < settings.shutdown_timeout_s
    assert rest.startswith(b"retry:")
