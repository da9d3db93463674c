"""Lineage of a record: `GET /v1/admin/lineage/{message_id}` on a running node and `simpul lineage` offline
(--config) and online (--url), for an applied record with hops, a quarantined one and an unknown id."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from adapters.sqlite_sink.sink import SqliteSink
from hub.cli.root import main
from hub.model import codec
from hub.model.router import routing_key
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from schemas.envelope import Hop, make_idempotency_key, make_message_id, make_record_key
from tests.helpers import TOKEN_READ, item, make_envelope, node_settings, until
from tests.unit.test_http_ingest import post

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def lineage(node: Node, message_id: str, token: str | None = TOKEN_READ) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{node.http_port}/v1/admin/lineage/{message_id}", headers=headers) as resp,
    ):
        return resp.status, orjson.loads(await resp.read())


def _message_id(schema: str, system: str, rid: str, revision: int = 1) -> str:
    return make_message_id(make_idempotency_key(make_record_key(schema, system, rid), revision))


async def _records(node: Node) -> tuple[str, str, str]:
    """One record over HTTP, one forwarded envelope with two hops, one quarantined: their message ids."""
    status, body, _ = await post(node, "ormas_registration", item("ormas_registration", "LIN-1"))
    assert status == 202, body
    http_id = body["results"][0]["message_id"]
    now = datetime.now(UTC)  # sinks refuse envelopes received outside their time window
    env = make_envelope("voter_participation", rid="LIN-2").model_copy(
        update={
            "received_at": now,
            "reported_at": now,
            "lineage": (
                Hop(node="kab-bogor", level="kabkota", at=AT),
                Hop(node="jabar", level="provinsi", at=AT, status="diverifikasi"),
            ),
        }
    )
    key = routing_key(env.schema_name, env.schema_major, env.kode_wilayah)
    await node.transport.publish(
        node.topology.ingest_exchange,
        key,
        codec.dumps([env.model_dump(mode="json")]),
        message_id=env.message_id,
    )
    bad = item("ormas_registration", "LIN-3", kode_wilayah="32.98.99")
    status, _, _ = await post(node, "ormas_registration", bad, query="?on_invalid=quarantine")
    assert status == 202
    sink = node.sink
    assert isinstance(sink, SqliteSink)
    await until(lambda: sink.store.count() == 2 and node.quarantine_store.count() == 1)
    return http_id, env.message_id, _message_id("ormas_registration", "sitimdu-bogor", "LIN-3")


async def test_admin_lineage_of_applied_forwarded_and_quarantined_records(memory_node: Node) -> None:
    """Origin, hops, quarantine and sink outcome; 404 for an unknown id; 401 without a token."""
    http_id, hop_id, bad_id = await _records(memory_node)
    status, view = await lineage(memory_node, http_id)
    assert status == 200 and view["found"]
    origin = view["origin"]
    assert (origin["system"], origin["office"], origin["adapter"]) == (
        "sitimdu-bogor",
        "32.01",
        "http_ingest",
    )
    assert origin["schema"] == "ormas_registration@1.0.0" and origin["source_record_id"] == "LIN-1"
    assert view["hops"] == [] and view["quarantine"] == []
    (sink,) = view["sinks"]
    assert sink["sink"] == "sqlite_warehouse" and sink["status"] == "applied" and sink["stored_revision"] == 1

    status, view = await lineage(memory_node, hop_id)
    assert status == 200
    assert [(h["node"], h["level"], h["status"]) for h in view["hops"]] == [
        ("kab-bogor", "kabkota", "diteruskan"),
        ("jabar", "provinsi", "diverifikasi"),
    ]

    status, view = await lineage(memory_node, bad_id)
    assert status == 200 and view["sinks"][0]["status"] == "not seen"
    (entry,) = view["quarantine"]
    assert entry["reason"] == "validation_failed" and entry["status"] == "open" and entry["stage"] == "ingest"
    assert view["origin"]["source_record_id"] == "LIN-3" and "32.98.99" not in orjson.dumps(entry).decode()

    assert (await lineage(memory_node, "00000000-0000-0000-0000-000000000000"))[0] == 404
    assert (await lineage(memory_node, http_id, token=None))[0] == 401


async def test_cli_lineage_offline_and_online(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simpul lineage ID --config FILE` reads the stopped node's files; `--url` asks the running node."""
    settings = node_settings(tmp_path)
    config = tmp_path / "node.toml"
    config.write_text(
        f'node = "test-node"\ndev_mode = true\nstate_dir = "{settings.state_dir}"\n'
        f'[sink]\nsqlite_path = "{settings.sink.sqlite_path}"\n',
        encoding="utf-8",
    )
    async with Node(settings, transport=MemoryTransport(topology_for(settings))) as node:
        _http_id, hop_id, bad_id = await _records(node)
        url = f"http://127.0.0.1:{node.http_port}"
        code = await asyncio.to_thread(main, ["lineage", hop_id, "--url", url, "--token", TOKEN_READ])
        assert code == 0
        online = capsys.readouterr().out
    assert "kab-bogor" in online and "diverifikasi" in online and "applied" in online
    capsys.readouterr()  # the node's shutdown log lines

    assert await asyncio.to_thread(main, ["lineage", hop_id, "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"message {hop_id} at node test-node (level pusat)"
    assert "source:          system sicantik-bogor, office 32.01, adapter test" in out
    hops = out.split("HOPS\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert hops[0].split() == ["NODE", "LEVEL", "AT", "STATUS"]
    assert hops[1].split()[:2] == ["kab-bogor", "kabkota"] and hops[2].split()[:2] == ["jabar", "provinsi"]
    assert hops[3].split()[:2] == ["test-node", "pusat"]
    assert "not in quarantine" in out
    sinks = out.split("SINKS\n", 1)[1].splitlines()
    assert sinks[1].split()[:3] == ["sqlite_warehouse", "applied", "1"]

    assert await asyncio.to_thread(main, ["lineage", bad_id, "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "validation_failed" in out and "not seen" in out and "dikarantina / quarantined" in out
    unknown = ["lineage", "00000000-0000-0000-0000-000000000000", "--config", str(config)]
    assert await asyncio.to_thread(main, unknown) == 1
