"""The whole node flow on the in-memory transport: ingest -> broker -> sink, with revisions and conflicts."""

from __future__ import annotations

from adapters.sqlite_sink.sink import SqliteSink
from hub.node import Node
from schemas.envelope import make_record_key
from tests.helpers import item, until
from tests.unit.test_http_ingest import post

SYSTEM = "sitimdu-bogor"


def row(node: Node, rid: str) -> dict[str, object] | None:
    sink = node.sink
    assert isinstance(sink, SqliteSink)
    return sink.store.get(make_record_key("ormas_registration", SYSTEM, rid))


async def test_records_reach_the_warehouse_once(memory_node: Node) -> None:
    """Records sent twice are applied once; the second delivery is counted as a duplicate."""
    batch = [item("ormas_registration", f"R{i}") for i in range(20)]
    assert (await post(memory_node, "ormas_registration", batch))[0] == 202
    assert (await post(memory_node, "ormas_registration", batch))[0] == 202
    sink = memory_node.sink
    assert isinstance(sink, SqliteSink)
    await until(lambda: sum(sink.store.delivery_counts().values()) == 40)
    assert sink.store.count() == 20
    assert len(sink.store.applied_keys()) == 20


async def test_newer_revision_wins_and_older_is_stale(memory_node: Node) -> None:
    """Revision 3 then 2: the row stays at 3 with revision 3's content."""
    await post(memory_node, "ormas_registration", item("ormas_registration", "R", 3, nama="Versi Tiga"))
    await until(lambda: row(memory_node, "R") is not None)
    await post(memory_node, "ormas_registration", item("ormas_registration", "R", 2, nama="Versi Dua"))
    sink = memory_node.sink
    assert isinstance(sink, SqliteSink)
    await until(lambda: sum(sink.store.delivery_counts().values()) == 2)
    stored = row(memory_node, "R")
    assert stored is not None and stored["revision"] == 3
    assert "Versi Tiga" in str(stored["payload"])


async def test_withdrawal_is_honoured(memory_node: Node) -> None:
    """A withdraw op at a higher revision marks the record withdrawn."""
    await post(memory_node, "ormas_registration", item("ormas_registration", "W", 1))
    withdraw = item("ormas_registration", "W", 2)
    withdraw["op"] = "withdraw"
    await post(memory_node, "ormas_registration", withdraw)
    await until(lambda: (row(memory_node, "W") or {}).get("state") == "withdrawn")


async def test_same_revision_other_content_is_quarantined_as_conflict(memory_node: Node) -> None:
    """Two different contents under one revision: the first stays, the second is quarantined."""
    await post(memory_node, "ormas_registration", item("ormas_registration", "C", 1, nama="Asli"))
    await until(lambda: row(memory_node, "C") is not None)
    await post(memory_node, "ormas_registration", item("ormas_registration", "C", 1, nama="Lain"))
    await until(lambda: memory_node.quarantine_store.count(reason="revision_conflict") == 1)
    stored = row(memory_node, "C")
    assert stored is not None and "Asli" in str(stored["payload"])
    entry = memory_node.quarantine_store.list(reason="revision_conflict")[0]
    assert entry.stage == "consume"
