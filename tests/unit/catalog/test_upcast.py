"""Upcasting: v1 records become the current version at the sink; the ones that cannot go to quarantine."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.sqlite_sink.sink import SqliteSink
from hub.cli.catalog import usage_rows
from hub.cli.root import main
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from schemas import catalog
from schemas.envelope import make_record_key
from schemas.evolution import UpcastFailed, declared_renames, upcast_payload
from schemas.registry import SchemaRegistry
from tests.helpers import example, item, node_settings, until
from tests.unit.test_http_ingest import post

SYSTEM = "sitimdu-bogor"


def _promoted() -> SchemaRegistry:
    """The real registry with ormas_registration 2.0.0 published (as it will be once promoted)."""
    registry = SchemaRegistry()
    for spec in catalog.all_versions():
        registry.register(dataclasses.replace(spec, status="published") if spec.status == "draft" else spec)
    return registry


@pytest.fixture
def v2_current(monkeypatch: pytest.MonkeyPatch) -> Iterator[SchemaRegistry]:
    """ormas_registration 2.0.0 is the current version for the duration of the test."""
    registry = _promoted()
    monkeypatch.setattr(catalog, "REGISTRY", registry)
    yield registry


def _v1(**changes: Any) -> dict[str, Any]:
    data = catalog.example_payload("ormas_registration", "1.0.0")
    data.update(changes)
    return data


def test_v1_payload_is_upcast_to_v2(v2_current: SchemaRegistry) -> None:
    """tanggal_terbit becomes tanggal_registrasi; everything else is kept; the result fits 2.0.0."""
    spec, payload = upcast_payload("ormas_registration", "1.0.0", _v1(), v2_current)
    assert spec.version == "2.0.0"
    assert payload["tanggal_registrasi"] == "2021-06-12" and "tanggal_terbit" not in payload
    assert payload["nama"] == "Gerakan Pemuda Peduli Lingkungan" and payload["jumlah_anggota"] is None


def test_v1_payload_that_does_not_fit_v2_fails_with_field_issues(v2_current: SchemaRegistry) -> None:
    """Fifteen fields of activity cannot become a 2.0.0 record: UpcastFailed names the field, not values."""
    bidang = [f"Bidang rahasia {i}" for i in range(15)]
    with pytest.raises(UpcastFailed) as exc:
        upcast_payload("ormas_registration", "1.0.0", _v1(bidang_kegiatan=bidang), v2_current)
    assert exc.value.reason == "upcast_failed"
    assert [i.loc for i in exc.value.issues] == ["payload.bidang_kegiatan"]
    assert "rahasia" not in str(exc.value.as_dict())


def test_newer_version_than_current_is_refused(v2_current: SchemaRegistry) -> None:
    """A 3.0.0 payload (a sender ahead of this hub) fails with reason schema_version_ahead."""
    with pytest.raises(UpcastFailed) as exc:
        upcast_payload("ormas_registration", "3.0.0", _v1(), v2_current)
    assert exc.value.reason == "schema_version_ahead"


def test_missing_upcaster_is_reported() -> None:
    """Without an upcaster for a major step, the failure says which step is missing."""
    registry = SchemaRegistry()
    spec = catalog.get("conflict_incident")
    registry.register(spec)
    registry.register(dataclasses.replace(spec, version="2.0.0"))
    with pytest.raises(UpcastFailed, match="no upcaster for conflict_incident from v1 to v2"):
        upcast_payload("conflict_incident", "1.0.0", catalog.example_payload("conflict_incident"), registry)


def test_declared_renames_feed_the_diff() -> None:
    """The upcaster's renames are what `schemas diff` reports as renames."""
    assert declared_renames("ormas_registration", 1, 2) == {"tanggal_terbit": "tanggal_registrasi"}
    assert declared_renames("early_warning", 1, 2) == {}  # a transform (sumber -> [sumber]), no rename


@pytest.fixture
async def node_v2(tmp_path: Path, v2_current: SchemaRegistry) -> AsyncIterator[Node]:
    """A node on the in-memory transport with ormas_registration 2.0.0 current."""
    settings = node_settings(tmp_path)
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    await node.start()
    try:
        yield node
    finally:
        await node.stop()


def _row(node: Node, rid: str) -> dict[str, Any] | None:
    sink = node.sink
    assert isinstance(sink, SqliteSink)
    return sink.store.get(make_record_key("ormas_registration", SYSTEM, rid))


async def test_v1_records_are_upcast_through_the_live_pipeline(node_v2: Node) -> None:
    """v1 senders (pinned to @1.0.0) and v2 senders both end up as 2.0.0 rows; a misfit is quarantined."""
    v1 = [item("ormas_registration", f"OLD-{i}") for i in range(3)]
    status, body, _ = await post(node_v2, "ormas_registration@1.0.0", v1)
    assert status == 202, body
    v2_data = example("ormas_registration")
    v2_data["tanggal_registrasi"] = v2_data.pop("tanggal_terbit")
    new_item = {"id": "NEW-1", "revision": 1, "data": v2_data}
    status, body, _ = await post(node_v2, "ormas_registration", new_item)
    assert status == 202, body
    too_many = item("ormas_registration", "OLD-X", bidang_kegiatan=[f"Bidang {i}" for i in range(15)])
    assert (await post(node_v2, "ormas_registration@1.0.0", too_many))[0] == 202

    await until(lambda: all(_row(node_v2, r) is not None for r in ("OLD-0", "OLD-1", "OLD-2", "NEW-1")))
    for rid in ("OLD-0", "OLD-1", "OLD-2", "NEW-1"):
        row = _row(node_v2, rid)
        assert row is not None
        assert row["envelope"]["schema_version"] == "2.0.0"
        assert row["payload"]["tanggal_registrasi"] == "2021-06-12" and "tanggal_terbit" not in row["payload"]
    await until(lambda: node_v2.quarantine_store.count(reason="upcast_failed") == 1)
    entry = node_v2.quarantine_store.list(reason="upcast_failed")[0]
    assert entry.stage == "consume" and entry.schema_version == "1.0.0"
    assert _row(node_v2, "OLD-X") is None

    rows = usage_rows(node_v2.metrics.render().decode())
    seen = {
        (r["version"], r["province"], r["adapter"]): (r["current"], r["upcast"], r["failed"]) for r in rows
    }
    assert seen[("1.0.0", "32", "http_ingest")] == (0, 3, 1)
    assert seen[("2.0.0", "32", "http_ingest")] == (1, 0, 0)


async def test_current_version_passes_untouched(memory_node: Node) -> None:
    """With 1.0.0 current, a 1.0.0 record is stored as sent and counted as current."""
    assert (await post(memory_node, "ormas_registration", item("ormas_registration", "K1")))[0] == 202
    await until(lambda: _row(memory_node, "K1") is not None)
    row = _row(memory_node, "K1")
    assert row is not None and row["envelope"]["schema_version"] == "1.0.0"
    assert row["payload"]["tanggal_terbit"] == "2021-06-12"
    rows = usage_rows(memory_node.metrics.render().decode())
    assert [(r["version"], r["current"], r["upcast"]) for r in rows] == [("1.0.0", 1, 0)]


def test_cli_usage_reads_a_saved_scrape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simpul schemas usage --metrics FILE` tabulates versions by province and adapter with their status."""
    scrape = tmp_path / "metrics.txt"
    scrape.write_text(
        "# HELP simpul_schema_versions_seen_total x\n# TYPE simpul_schema_versions_seen_total counter\n"
        'simpul_schema_versions_seen_total{schema="ormas_registration",version="1.0.0",province="32",'
        'adapter="file_drop",outcome="upcast"} 41.0\n'
        'simpul_schema_versions_seen_total{schema="ormas_registration",version="1.0.0",province="32",'
        'adapter="file_drop",outcome="failed"} 2.0\n',
        encoding="utf-8",
    )
    assert main(["schemas", "usage", "--metrics", str(scrape)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        *("schema", "version", "status", "deprecated_after", "province"),
        *("adapter", "current", "upcast", "failed"),
    ]
    assert lines[1].split() == ["ormas_registration", "1.0.0", "published", "32", "file_drop", "0", "41", "2"]
