"""The level worker on the in-memory transport: verify, stamp the lineage, forward, hold or refuse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.levels.release import release_held, selection
from hub.levels.rules import LevelRules
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from schemas.classification import Classification
from tests.helpers import KEY_PUSAT, item, make_envelope, node_settings, until
from tests.unit.test_http_ingest import post


@pytest.fixture
async def kabkota(tmp_path: Path) -> AsyncIterator[tuple[Node, MemoryTransport]]:
    """A kab/kota node (Kabupaten Bogor, 32.01) that forwards to its province; no local warehouse."""
    settings = node_settings(
        tmp_path,
        node="kab-bogor",
        level="kabkota",
        region="32.01",
        uplink={"enabled": True},
        sink={"enabled": False},
    )
    transport = MemoryTransport(topology_for(settings))
    node = Node(settings, transport=transport)
    await node.start()
    try:
        yield node, transport
    finally:
        await node.stop()


def envelopes(transport: MemoryTransport, queue: str) -> list[dict[str, Any]]:
    return [env for body in transport.bodies(queue) for env in orjson.loads(body)]


async def test_records_are_forwarded_with_a_hop(kabkota: tuple[Node, MemoryTransport]) -> None:
    """Every good record reaches the uplink queue once, with this level's hop appended and nothing
    else changed."""
    node, transport = kabkota
    batch = [item("ormas_registration", f"R{i}") for i in range(12)]
    assert (await post(node, "ormas_registration", batch))[0] == 202
    uplink = node.topology.uplink_queue
    await until(lambda: len(envelopes(transport, uplink)) == 12)
    forwarded = envelopes(transport, uplink)
    assert sorted(e["source_record_id"] for e in forwarded) == sorted(f"R{i}" for i in range(12))
    for env in forwarded:
        assert [(h["node"], h["level"], h["status"]) for h in env["lineage"]] == [
            ("kab-bogor", "kabkota", "diteruskan")
        ]
        assert env["payload"]["kode_wilayah"].startswith("32.01")
    assert transport.depth(node.topology.forward_queue) == 0  # acked after the forward was confirmed


async def test_drafts_and_secret_records_are_held(kabkota: tuple[Node, MemoryTransport]) -> None:
    """A draft report and a SANGAT_RAHASIA record stay in the held queue; a submitted report goes up
    marked verified."""
    node, transport = kabkota
    draft = item("periodic_report", "LAP-1", status="draft")
    submitted = item("periodic_report", "LAP-2", periode_ke=2)
    secret = item("ormas_registration", "S-1")
    secret["classification"] = "SANGAT_RAHASIA"
    for schema, body in (("periodic_report", [draft, submitted]), ("ormas_registration", [secret])):
        assert (await post(node, schema, body))[0] == 202
    await until(lambda: len(envelopes(transport, node.topology.held_queue)) == 2)
    await until(lambda: len(envelopes(transport, node.topology.uplink_queue)) == 1)
    held = {e["source_record_id"]: e for e in envelopes(transport, node.topology.held_queue)}
    assert set(held) == {"LAP-1", "S-1"}
    assert all(e["lineage"][-1]["status"] == "ditahan" for e in held.values())
    (up,) = envelopes(transport, node.topology.uplink_queue)
    assert up["source_record_id"] == "LAP-2" and up["lineage"][-1]["status"] == "diverifikasi"


async def test_a_record_from_another_region_is_refused(kabkota: tuple[Node, MemoryTransport]) -> None:
    """A record of Kota Bandung (32.73) reaching the Bogor node is quarantined, not forwarded."""
    node, transport = kabkota
    body = item("ormas_registration", "X-1", kode_wilayah="32.73.01")
    assert (await post(node, "ormas_registration", body, key=KEY_PUSAT))[0] == 202
    await until(lambda: node.quarantine_store.count(reason="region_outside_node") == 1)
    assert envelopes(transport, node.topology.uplink_queue) == []
    (entry,) = node.quarantine_store.list(reason="region_outside_node")
    assert entry.stage == "consume" and entry.adapter == "level"


def test_rules_keep_the_record_and_append_the_hop() -> None:
    """``stamp`` changes only the lineage; a province node accepts its kab/kota's records."""
    env = make_envelope("ormas_registration", kode="32.01.01")
    rules = LevelRules("jabar", "provinsi", "32", frozenset({Classification.RAHASIA}))
    decision = rules.decide(env)
    stamped = rules.stamp(env, decision, datetime(2026, 1, 1, tzinfo=UTC))
    assert decision.verdict == "forward"
    assert stamped.model_dump(exclude={"lineage"}) == env.model_dump(exclude={"lineage"})
    assert stamped.lineage[-1].node == "jabar"
    secret = env.model_copy(update={"classification": Classification.RAHASIA})
    assert rules.decide(secret).verdict == "hold"
    national = LevelRules("pusat-relay", "pusat", None)
    assert national.decide(make_envelope(kode="96.03", office="96.03")).verdict == "forward"


def test_a_level_without_a_warehouse_declares_no_central_queue(tmp_path: Path) -> None:
    """Below pusat with the sink off, nothing would consume the central queue: it is not declared."""
    settings = node_settings(tmp_path, level="kabkota", region="32.01", uplink={"enabled": True})
    assert topology_for(settings).has_queue("simpul.central")
    without = topology_for(
        settings.model_copy(update={"sink": settings.sink.model_copy(update={"enabled": False})})
    )
    assert not without.has_queue("simpul.central")
    assert without.has_queue("simpul.forward") and without.has_queue("simpul.uplink")
    assert all(b.queue != "simpul.central" for b in without.bindings)


async def test_an_operator_releases_one_held_record(kabkota: tuple[Node, MemoryTransport]) -> None:
    """Release by message id: that record goes up with a second hop (held, then forwarded); the other
    secret record and the draft stay held, the draft even when it matches."""
    node, transport = kabkota
    secrets = [item("ormas_registration", f"S-{i}") for i in range(2)]
    for body in secrets:
        body["classification"] = "SANGAT_RAHASIA"
    draft = item("periodic_report", "LAP-9", status="draft")
    assert (await post(node, "ormas_registration", secrets))[0] == 202
    assert (await post(node, "periodic_report", [draft]))[0] == 202
    held_queue = node.topology.held_queue
    await until(lambda: len(envelopes(transport, held_queue)) == 3)
    chosen = next(e for e in envelopes(transport, held_queue) if e["source_record_id"] == "S-1")
    draft_id = next(e for e in envelopes(transport, held_queue) if e["source_record_id"] == "LAP-9")[
        "message_id"
    ]
    rules = LevelRules("kab-bogor", "kabkota", "32.01")
    match = selection(message_ids={chosen["message_id"], draft_id})
    result = await release_held(transport, node.topology, rules, match, idle_s=0.3)
    assert result.released == [chosen["message_id"]] and result.kept == 2 and result.drafts_kept == 1
    (up,) = envelopes(transport, node.topology.uplink_queue)
    assert up["message_id"] == chosen["message_id"]
    assert [h["status"] for h in up["lineage"]] == ["ditahan", "diteruskan"]
    assert sorted(e["source_record_id"] for e in envelopes(transport, held_queue)) == ["LAP-9", "S-0"]
