"""A quarantine entry always fits one broker message (1 MiB max_message_size): an oversized record loses
its preview, then keeps only the head of its original (flagged, with size and SHA-256), is counted, and
can be redriven only with a corrected original."""

from __future__ import annotations

import hashlib

import orjson

from hub.model import codec
from hub.node import Node
from hub.quarantine.filer import MAX_ENTRY_BYTES
from hub.transport.memory import MemoryTransport
from tests.helpers import item, until
from tests.unit.test_admin import admin
from tests.unit.test_http_ingest import post


def _quarantine_bodies(node: Node) -> list[bytes]:
    transport = node.transport
    assert isinstance(transport, MemoryTransport)
    return [m.body for m in transport.published if m.exchange.endswith(".quarantine")]


async def test_a_2_mib_record_is_quarantined_with_the_head_of_its_original(memory_node: Node) -> None:
    """2 MiB item (too large and invalid): 202 quarantined, message under the limit, entry flagged; the
    original endpoint shows size, hash and head; redrive needs a correction; the metric counts it."""
    big = item("ormas_registration", "BIG-1", catatan="x" * (2 * 1024 * 1024))
    raw = orjson.dumps(big)
    status, body, _ = await post(memory_node, "ormas_registration", big, query="?on_invalid=quarantine")
    assert status == 202 and body["quarantined"] == 1, body
    (message,) = _quarantine_bodies(memory_node)
    assert len(message) <= MAX_ENTRY_BYTES
    await until(lambda: memory_node.quarantine_store.count() == 1)
    (entry,) = memory_node.quarantine_store.list()
    assert entry.original_truncated and entry.original_bytes == len(codec.dumps(big))
    assert entry.original_sha256 == hashlib.sha256(codec.dumps(big)).hexdigest()
    assert entry.preview == {"_omitted": "preview too large"} and entry.reason
    assert len(raw) > 2 * 1024 * 1024

    status, original = await admin(memory_node, "GET", f"/v1/admin/quarantine/{entry.entry_id}/original")
    assert status == 200 and original["original"]["original_truncated"] is True
    head = original["original"]["head"]
    assert head.startswith('{"id":"BIG-1"') and 500_000 < len(head) < len(raw)

    status, refused = await admin(memory_node, "POST", f"/v1/admin/quarantine/{entry.entry_id}/redrive")
    assert status == 409 and "corrected original" in refused["message"]
    fixed = item("ormas_registration", "BIG-1")
    status, result = await admin(
        memory_node, "POST", f"/v1/admin/quarantine/{entry.entry_id}/redrive", body={"replacement": fixed}
    )
    assert status == 200 and result["status"] == "published", result
    metrics = memory_node.metrics.render().decode()
    assert (
        'simpul_quarantine_truncated_records_total{adapter="http_ingest",schema="ormas_registration"} 1.0'
        in metrics
    )


async def test_dropping_the_preview_is_enough_for_a_600_kib_record(memory_node: Node) -> None:
    """600 KiB: the sealed original alone fits, so only the preview goes; the original stays whole."""
    big = item("ormas_registration", "MID-1", catatan="y" * (600 * 1024))
    status, _body, _ = await post(memory_node, "ormas_registration", big, query="?on_invalid=quarantine")
    assert status == 202
    (message,) = _quarantine_bodies(memory_node)
    assert len(message) <= MAX_ENTRY_BYTES
    await until(lambda: memory_node.quarantine_store.count() == 1)
    (entry,) = memory_node.quarantine_store.list()
    assert not entry.original_truncated and entry.preview == {"_omitted": "preview too large"}
    status, original = await admin(memory_node, "GET", f"/v1/admin/quarantine/{entry.entry_id}/original")
    assert status == 200 and original["original"] == orjson.loads(codec.dumps(big))
