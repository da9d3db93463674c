"""The four example mappings on the real RabbitMQ: each sample is served by a configured source, mapped by
its example mapping inside a node, published with confirms and applied to the SQLite warehouse, record by
record. (Broker test living with the mapping tests; the lead may move it to tests/integration.)"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.adapters.build import mapper_for
from hub.kit.config_file import load_config, source_entry
from hub.kit.mapping_test import read_with_adapter
from hub.mapping import DeclarativeMapper
from hub.node import Node
from hub.testing.fakes import fake_source_plugin
from hub.transport.management import ManagementClient, ManagementError
from schemas.envelope import make_record_key
from tests.helpers import node_settings, until
from tests.unit.mapping.test_examples import EXAMPLES, PROPOSED, ROOT

pytestmark = pytest.mark.broker
MANAGEMENT_URL = os.environ.get("SIMPUL_TEST_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
AMQP_BASE = os.environ.get("SIMPUL_TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")


@pytest.fixture
async def amqp_url() -> AsyncIterator[str]:
    """A fresh vhost for this test, deleted afterwards."""
    vhost = f"simpul-test-{uuid.uuid4().hex[:12]}"
    async with ManagementClient(MANAGEMENT_URL) as api:
        try:
            await api.create_vhost(vhost, description="simpul mapping test (safe to delete)")
        except ManagementError as exc:
            pytest.fail(f"RabbitMQ management API not reachable ({exc}); run ops/scripts/ensure-rabbitmq.sh")
        try:
            await api.set_permissions(vhost, "guest")
            yield f"{AMQP_BASE}/{quote(vhost, safe='')}"
        finally:
            with contextlib.suppress(ManagementError):
                await api.delete_vhost(vhost)


def _served(
    examples: list[tuple[str, str, Path, int]], adapter_identity: bool
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A fake source per example serving every record its adapter reads from the sample, and the expected
    count per schema: the records the mapping keeps (a row its skip rule drops is served too, and the node
    must drop it). ``adapter_identity``: the adapter's ids and revisions, else row numbers and 1 (the
    mapping decides identity where it can)."""
    sources, expected = [], {}
    for config, name, sample, count in examples:
        if not sample.exists():
            pytest.skip(f"shared sample {sample} not on this machine")
        entry = source_entry(load_config(ROOT / "ops/examples" / config), name)
        records = read_with_adapter(entry, sample).records
        mapper = mapper_for(entry)
        assert isinstance(mapper, DeclarativeMapper)
        assert len([r for r in records if mapper.skip_reason(r) is None]) == count
        items = [
            {
                "id": (r.source_record_id if adapter_identity else None) or f"row-{n}",
                "revision": (r.revision if adapter_identity else None) or 1,
                "data": r.raw,
            }
            for n, r in enumerate(records, start=1)
        ]
        sources.append(
            {
                "name": entry.name,
                "kind": "fake_source",
                "schema": entry.schema_name,
                "system": entry.system,
                "office": entry.office,
                "config": {"batches": [items]},
                "mapping": entry.mapping,
            }
        )
        expected[entry.schema_name] = expected.get(entry.schema_name, 0) + count
    return sources, expected


@contextlib.asynccontextmanager
async def _applied(
    tmp_path: Path, amqp_url: str, sources: list[dict[str, Any]], expected: dict[str, int]
) -> AsyncIterator[Any]:
    """A node on the broker with these sources, once every record is applied and every source finished
    with nothing quarantined: its warehouse store."""
    settings = node_settings(
        tmp_path, broker={"url": amqp_url, "management_url": MANAGEMENT_URL}, sources=sources
    )
    async with Node(settings) as node:
        sink = node.sink
        assert isinstance(sink, SqliteSink)
        store = sink.store
        await until(lambda: all(store.count(s) == n for s, n in expected.items()), timeout=30)
        await until(lambda: all(r.state == "stopped" for r in node.runners), timeout=10)
        assert node.quarantine_store.count() == 0
        yield store


async def test_every_example_reaches_the_warehouse_through_rabbitmq(tmp_path: Path, amqp_url: str) -> None:
    """9 sample records from 4 sources: each confirmed, applied once, ids and revisions from the mappings."""
    registry.register(fake_source_plugin)
    sources, expected = _served(EXAMPLES, adapter_identity=False)
    async with _applied(tmp_path, amqp_url, sources, expected) as store:
        assert sum(store.delivery_counts().values()) == sum(expected.values())
        conflict = store.get(make_record_key("conflict_incident", "sitimdu-bogor", "118"))
        assert conflict is not None and conflict["payload"]["kode_wilayah"] == "32.01.07.2011"
        ormas = store.get(
            make_record_key("ormas_registration", "ormas-register-bogor", "01-00-00/0456/II/2023")
        )
        assert ormas is not None and ormas["payload"]["berlaku_sampai"] == "2028-02-03"
        aid = store.get(make_record_key("party_financial_aid", "bankeu-jabar", "2023/32/PCN"))
        assert aid is not None and aid["state"] == "withdrawn" and aid["revision"] == 1704423600000
        warning = store.get(
            make_record_key("early_warning", "sidini-banggai", "c1f0a9e2-7c1b-4e55-9a61-2f0d2b7f9a10")
        )
        assert warning is not None and warning["envelope"]["source"]["office"] == "72.01"


async def test_proposed_examples_reach_the_warehouse_through_rabbitmq(tmp_path: Path, amqp_url: str) -> None:
    """The seven configs made with `mapping propose` from tests/fixtures/raw: each sample, read by its
    adapter (ids and revisions as the adapter gives them), mapped inside a node, published with confirms
    and applied once; nothing quarantined; the form's test row skipped by rule (counted, not stored)."""
    registry.register(fake_source_plugin)
    # (the second poll of the REST app is left out: test_examples applies it as newer revisions)
    proposed = [p for p in PROPOSED if "page2" not in p[2].name]
    sources, expected = _served(proposed, adapter_identity=True)
    async with _applied(tmp_path, amqp_url, sources, expected) as store:
        # 24 rows served; the form's test row is dropped by its skip rule, never delivered.
        assert sum(store.delivery_counts().values()) == sum(expected.values()) == 23
        permit = store.get(
            make_record_key("research_permit", "soap-izin-penelitian", "503/0413/DPMPTSP/2024")
        )
        assert permit is not None and permit["payload"]["pemohon"]["paspor_token"].startswith("psp1_")
        case = store.get(
            make_record_key("foreign_national_monitoring", "rekap-pora-papua-barat", "PORA/PB/2024/002")
        )
        assert case is not None and case["payload"]["kode_wilayah"] == "92.06.01"
        assert "081234567890" not in str(case) and "[TELEPON]" in case["payload"]["uraian_kegiatan"]
