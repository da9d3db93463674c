"""A region moved to another province (Kota Sorong, 92.71 -> 96.71 in Papua Barat Daya, UU 29/2022) and
still reported by the office whose area it was (Papua Barat, 92) travels up that office's chain: the
province node 92 forwards it (it does not refuse it as outside its region, nor drop it), keyed by its true
code, with the note saying why it was accepted. A region that was never the office's stays refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.errors import RegionError
from hub.levels.rules import LevelRules
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from schemas.envelope import Envelope
from tests.helpers import item, make_envelope, node_settings, until
from tests.unit.levels.test_level_worker import envelopes
from tests.unit.test_http_ingest import post

KEY_PAPUA_BARAT = "key-papua-barat-0123456789abcdef"


@pytest.fixture
async def papua_barat(tmp_path: Path) -> AsyncIterator[tuple[Node, MemoryTransport]]:
    """The province node of Papua Barat (92), forwarding to pusat; its office's own system reports."""
    settings = node_settings(
        tmp_path,
        node="prov-papua-barat",
        level="provinsi",
        region="92",
        uplink={"enabled": True},
        sink={"enabled": False},
        http={"api_keys": {KEY_PAPUA_BARAT: {"system": "sipora-pb", "office": "92"}}},
    )
    transport = MemoryTransport(topology_for(settings))
    node = Node(settings, transport=transport)
    await node.start()
    try:
        yield node, transport
    finally:
        await node.stop()


async def test_a_moved_region_goes_up_the_sending_offices_chain(
    papua_barat: tuple[Node, MemoryTransport],
) -> None:
    node, transport = papua_barat
    batch = [
        item("early_warning", "EW-SORONG", kode_wilayah="96.71"),
        item("early_warning", "EW-MANOKWARI", kode_wilayah="92.02"),
    ]
    assert (await post(node, "early_warning", batch, key=KEY_PAPUA_BARAT))[0] == 202
    await until(lambda: len(envelopes(transport, node.topology.uplink_queue)) == 2)
    up = {e["source_record_id"]: e for e in envelopes(transport, node.topology.uplink_queue)}
    sorong = up["EW-SORONG"]
    assert sorong["kode_wilayah"] == "96.71" and sorong["source"]["office"] == "92"
    assert [(h["node"], h["status"]) for h in sorong["lineage"]] == [("prov-papua-barat", "diteruskan")]
    assert [n["rule"] for n in sorong["notes"]] == ["region_successor"]
    assert node.quarantine_store.count() == 0
    assert transport.depth(node.topology.forward_queue) == 0


def _envelope(kode: str, office: str) -> Envelope:
    return make_envelope("early_warning", "EW-1", kode=kode, office=office, system="sipora-pb")


def test_rules_forward_a_successor_of_the_offices_own_area_only() -> None:
    """Province 92 forwards 96.71 (formerly 92.71) from office 92 and from its kab/kota office 92.71;
    it refuses 96.71 from an office that never covered it (91, or 92.02 Manokwari), and a kab/kota node
    refuses a moved region that was not split off from its own area."""
    province = LevelRules("prov-papua-barat", "provinsi", "92")
    at = datetime(2026, 3, 1, tzinfo=UTC)
    for office in ("92", "92.71"):
        decision = province.decide(_envelope("96.71", office))
        assert decision.verdict == "forward"
        assert province.stamp(_envelope("96.71", office), decision, at).lineage[-1].status == "diteruskan"
    for office in ("91", "92.02"):
        with pytest.raises(RegionError) as refused:
            province.decide(_envelope("96.71", office))
        assert refused.value.reason == "region_outside_node"
    manokwari = LevelRules("kab-manokwari", "kabkota", "92.02")
    with pytest.raises(RegionError):
        manokwari.decide(_envelope("96.71", "92.02"))


def test_the_offices_broker_permission_allows_its_moved_regions() -> None:
    """On a real broker the record travels under its true key (``early_warning.v1.96.71``): the topic
    permission of office 92's users (a source, or the shovel of a node below) lets those keys through,
    and only the moves out of the office's own area; an office without moves keeps its plain pattern."""
    import re

    from hub.levels.render import office_routing_regex

    papua_barat = re.compile(office_routing_regex("92"))
    allowed = ["early_warning.v1.92.02", "early_warning.v1.96.71", "early_warning.v1.96.03.01"]
    refused = ["early_warning.v1.95.01", "early_warning.v1.96", "early_warning.v1.96.711", "x.v1.91.01"]
    assert [k for k in allowed if not papua_barat.search(k)] == []
    assert [k for k in refused if papua_barat.search(k)] == []
    sorong = re.compile(office_routing_regex("92.71"))
    assert sorong.search("x.v1.96.71.01") and not sorong.search("x.v1.96.03")
    assert office_routing_regex("32.01") == r"^[a-z0-9_]+\.v[0-9]+\.32\.01(\.[0-9]+)*$"
