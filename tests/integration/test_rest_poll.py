"""rest_poll through a real node on the real RabbitMQ: simulated legacy conflict app -> SQLite warehouse."""

from __future__ import annotations

import asyncio
import time
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.rest_poll import PLUGIN
from adapters.rest_poll.simulator import ConflictApi, Faults
from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.node import Node
from schemas.envelope import make_record_key
from schemas.pii import NIK_PATTERN
from tests.helpers import close_vhost_connections, node_settings, until

pytestmark = pytest.mark.broker
ROOT = Path(__file__).parents[2]
NAME = SYSTEM = "sitimdu-bogor"
WIB = timezone(timedelta(hours=7))


def _wib_ms(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=WIB).timestamp() * 1000)


def _settings(tmp_path: Path, amqp_url: str, management_url: str, api: ConflictApi, **config: Any) -> Any:
    mapping = tomllib.loads((ROOT / "ops" / "examples" / "sitimdu_conflict.toml").read_text(encoding="utf-8"))
    entry = {
        "name": NAME,
        "kind": "rest_poll",
        "schema": "conflict_incident",
        "system": SYSTEM,
        "office": "32.01",
        "config": {
            "base_url": api.base_url,
            "path": api.path,
            "auth": {"type": "api_key", "header": "X-API-KEY", "value": api.api_key},
            "paging": {"mode": "page", "page_size": 25, "next_page_path": "next_page"},
            "cursor": {"param": "updated_since", "overlap_s": 1},
            "status_path": "status",
            "id_path": "id_laporan",
            "updated_at_path": "updated_at",
            "once": True,
            "timeout_s": 0.25,
            "retries": 5,
            "backoff_base_s": 0.02,
            "backoff_cap_s": 0.2,
            **config,
        },
        "mapping": mapping["sources"][0]["mapping"],
    }
    return node_settings(
        tmp_path, broker={"url": amqp_url, "management_url": management_url}, sources=[entry]
    )


def _check_warehouse(sink: SqliteSink, api: ConflictApi) -> None:
    """Every record of the app is in the warehouse with its current revision and a clean payload."""
    for rid, raw in api.records.items():
        row = sink.store.get(make_record_key("conflict_incident", SYSTEM, rid))
        assert row is not None, rid
        payload = row["payload"]
        assert row["revision"] == _wib_ms(raw["updated_at"]), rid
        assert payload["nomor_laporan"] == raw["no_laporan"]
        assert payload["status"] == raw["status"].lower()
        assert payload["kode_wilayah"].startswith("32.01.")
        assert payload["jenis_konflik"] == raw["jenis_konflik"]
        text = orjson.dumps(payload).decode()
        assert not NIK_PATTERN.search(text) and "0812-3456-7890" not in text and "pelapor" not in text
        if NIK_PATTERN.search(raw["kronologis"]):
            assert "[NIK]" in payload["kronologi"]


async def test_a_faulty_legacy_api_reaches_the_warehouse_record_by_record(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """300 reports from a faulty app reach the warehouse once each; ten edits apply as ten new revisions."""
    registry.register(PLUGIN)
    faults = Faults(
        error_every=7, truncate_every=11, slow_every=13, slow_s=0.5, duplicate_every=4, shuffle=True
    )
    api = ConflictApi.seeded(300, faults=faults)
    await api.start()
    try:
        async with Node(_settings(tmp_path, amqp_url, management_url, api)) as node:
            sink = node.sink
            assert isinstance(sink, SqliteSink)
            started = time.monotonic()
            await until(lambda: node.runners[0].state == "stopped", timeout=60)
            await until(lambda: sink.store.count() == 300, timeout=30)
            elapsed = time.monotonic() - started
            _check_warehouse(sink, api)
            assert len(sink.store.applied_keys()) == 300
            assert api.answers[500] > 0 and len(api.log) > 12 + 3  # pages, plus faults and retries
            deliveries = sum(sink.store.delivery_counts().values())
            print(
                f"\nrest_poll: 300 records, {len(api.log)} requests, {deliveries} deliveries, {elapsed:.2f} s"
            )
            assert deliveries > 300  # the repeated pages were offered again and deduplicated by the sink

            edited = [str(100 + i * 29) for i in range(10)]
            for n, rid in enumerate(edited):
                api.touch(rid, datetime(2024, 6, 1, 8, 0) + timedelta(minutes=n), status="Selesai")
            await node.restart_source(NAME)
            await until(lambda: node.runners[0].state == "stopped", timeout=60)
            await until(lambda: len(sink.store.applied_keys()) == 310, timeout=30)
            _check_warehouse(sink, api)
            assert sink.store.count() == 300
            cursor = orjson.loads(node.source_state.get(NAME, "cursor") or "{}")
            assert cursor == {"updated_ms": _wib_ms("2024-06-01 08:09:00"), "id": edited[-1]}
    finally:
        await api.close()


async def test_broker_connections_closed_mid_poll_lose_nothing(
    tmp_path: Path, amqp_url: str, management_url: str, broker_vhost: str
) -> None:
    """Broker connections closed twice mid-poll: every one of 400 records is applied exactly once."""
    registry.register(PLUGIN)
    api = ConflictApi.seeded(400, faults=Faults(slow_every=1, slow_s=0.05))
    await api.start()
    try:
        settings = _settings(
            tmp_path, amqp_url, management_url, api, paging={"page_size": 10, "next_page_path": "next_page"}
        )
        async with Node(settings) as node:
            sink = node.sink
            assert isinstance(sink, SqliteSink)
            closed = 0
            for _ in range(2):
                await asyncio.sleep(0.6)
                closed += await close_vhost_connections(broker_vhost)
            assert closed >= 2, "the disruption must really have closed the node's connections"
            await until(lambda: node.runners[0].state == "stopped", timeout=90)
            await until(lambda: sink.store.count() == 400, timeout=30)
            _check_warehouse(sink, api)
            assert len(sink.store.applied_keys()) == 400
    finally:
        await api.close()
