"""Schema versions at ingest: `POST /v1/records/NAME@VERSION` pins a version, drafts are refused, and a
deprecated version is accepted with Deprecation/Sunset headers, a warning in the body and a metric; the
catalogue shows the dates."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from adapters.sqlite_sink.sink import SqliteSink
from hub.catalog.export import build_documents
from hub.node import Node
from hub.transport.factory import topology_for
from schemas import catalog
from schemas.envelope import make_record_key
from tests.helpers import KEY_BOGOR, item, node_settings, until
from tests.unit.test_http_ingest import central, post

SINCE, SUNSET = date(2026, 1, 1), date(2026, 12, 31)


@pytest.fixture
def v1_deprecated() -> Iterator[None]:
    """ormas_registration 2.0.0 published and 1.0.0 deprecated, for this test only (the registry's real
    2.0.0 is still a draft)."""
    versions = catalog.REGISTRY._specs["ormas_registration"]
    saved = dict(versions)
    versions["1.0.0"] = dataclasses.replace(
        saved["1.0.0"], status="deprecated", deprecated_since=SINCE, deprecated_after=SUNSET
    )
    versions["2.0.0"] = dataclasses.replace(saved["2.0.0"], status="published")
    try:
        yield
    finally:
        versions.clear()
        versions.update(saved)


async def _post_headers(node: Node, path: str, body: object) -> tuple[int, dict[str, str], Any]:
    headers = {"X-API-Key": KEY_BOGOR, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{node.http_port}{path}", data=orjson.dumps(body), headers=headers
        ) as resp,
    ):
        return resp.status, dict(resp.headers), orjson.loads(await resp.read())


async def test_pinned_major_version_is_used_and_not_deprecated(memory_node: Node) -> None:
    """`ormas_registration@1` resolves to 1.0.0: 202, envelope at 1.0.0, no deprecation headers."""
    status, headers, body = await _post_headers(
        memory_node, "/v1/records/ormas_registration@1", item("ormas_registration", "PIN-1")
    )
    assert status == 202, body
    assert "Deprecation" not in headers and "warnings" not in body
    (envelope,) = central(memory_node)
    assert envelope["schema_version"] == "1.0.0"


async def test_drafts_and_unknown_versions_are_refused(memory_node: Node) -> None:
    """A draft (2.0.0 today) or a version that does not exist: 404, nothing published."""
    status, body, _ = await post(memory_node, "ormas_registration@2.0.0", item("ormas_registration", "D-1"))
    assert status == 404 and body["error"] == "draft_schema"
    status, body, _ = await post(memory_node, "ormas_registration@7", item("ormas_registration", "D-2"))
    assert status == 404 and body["error"] == "unknown_schema"
    assert central(memory_node) == []


async def test_deprecated_version_is_accepted_with_headers_warning_and_metric(
    memory_node: Node, v1_deprecated: None
) -> None:
    """A 1.x record while 2.0.0 is current: 202 with Deprecation (RFC 9745 date), Sunset (end of the last
    day), a successor link, a warning entry; counted by schema version and adapter; upcast at the sink."""
    status, headers, body = await _post_headers(
        memory_node, "/v1/records/ormas_registration@1", item("ormas_registration", "OLD-1")
    )
    assert status == 202, body
    assert headers["Deprecation"] == "@1767225600"  # 2026-01-01T00:00:00Z
    assert headers["Sunset"] == "Thu, 31 Dec 2026 23:59:59 GMT"
    assert headers["Link"] == '</v1/records/ormas_registration@2>; rel="successor-version"'
    (warning,) = body["warnings"]
    assert warning["code"] == "deprecated_schema_version" and warning["schema"] == "ormas_registration@1.0.0"
    assert warning["current"] == "ormas_registration@2.0.0" and warning["sunset"] == "2026-12-31"
    assert "deprecated" in warning["message"]
    metrics = memory_node.metrics.render().decode()
    assert (
        'simpul_deprecated_version_records_total{adapter="http_ingest",schema="ormas_registration@1.0.0"} 1.0'
        in metrics
    )
    # The current version sent unpinned: no warning, no count.
    v2 = {k: v for k, v in item("ormas_registration", "NEW-1")["data"].items() if k != "tanggal_terbit"}
    v2["tanggal_registrasi"] = "2021-06-01"
    status, headers, body = await _post_headers(
        memory_node, "/v1/records/ormas_registration", {"id": "NEW-1", "revision": 1, "data": v2}
    )
    assert status == 202 and "Deprecation" not in headers and "warnings" not in body, body
    assert [e["schema_version"] for e in central(memory_node)] == ["1.0.0", "2.0.0"]
    sink = memory_node.sink
    assert isinstance(sink, SqliteSink)
    key = make_record_key("ormas_registration", "sitimdu-bogor", "OLD-1")
    await until(lambda: sink.store.get(key) is not None)
    assert sink.store.get(key)["schema_version"] == "2.0.0"  # type: ignore[index]


async def test_a_refused_batch_in_a_deprecated_version_also_carries_the_warning(
    memory_node: Node, v1_deprecated: None
) -> None:
    """422 (reject mode) still tells the sender about the deprecation."""
    bad = item("ormas_registration", "OLD-2", kode_wilayah="32.98.99")
    status, headers, body = await _post_headers(memory_node, "/v1/records/ormas_registration@1", bad)
    assert (
        status == 422
        and headers["Deprecation"]
        and body["warnings"][0]["schema"] == "ormas_registration@1.0.0"
    )


async def test_quarantined_pinned_record_keeps_its_version_for_redrive(memory_node: Node) -> None:
    """A pinned record that is quarantined is filed with its version (a redrive validates it alike)."""
    bad = item("ormas_registration", "Q-PIN", kode_wilayah="32.98.99")
    status, _body, _ = await post(memory_node, "ormas_registration@1.0", bad, query="?on_invalid=quarantine")
    assert status == 202
    await until(lambda: memory_node.quarantine_store.count() == 1)
    (entry,) = memory_node.quarantine_store.list()
    assert entry.schema_name == "ormas_registration" and entry.schema_version == "1.0.0"


def test_catalogue_shows_deprecation_dates(tmp_path: Path, v1_deprecated: None) -> None:
    """Markdown and HTML: the sunset in the summary table, since/until/warning facts, the send address."""
    settings = node_settings(tmp_path)
    documents = build_documents(settings, topology_for(settings), region_levels=(1,))
    markdown = documents["catalog.md"].decode()
    page = documents["catalog.html"].decode()
    assert "| ormas_registration | 1.0.0 | deprecated | 2026-12-31 |" in markdown
    assert "- **usang sejak / deprecated since**: 2026-01-01" in markdown
    assert "- **didukung sampai / supported until**: 2026-12-31" in markdown
    assert "- **kirim / send**: POST /v1/records/ormas_registration@2" in markdown
    assert "<td>deprecated</td><td>2026-12-31</td>" in page and "Deprecation/Sunset" in page
    index = orjson.loads(documents["index.json"])
    v1 = next(s for s in index["schemas"] if s["name"] == "ormas_registration" and s["version"] == "1.0.0")
    assert v1["deprecated_since"] == "2026-01-01" and v1["deprecated_after"] == "2026-12-31"
