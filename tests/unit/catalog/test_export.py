"""`simpul catalog export`: complete for the example configs (schemas, channels, adapters, links, codes)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from hub.catalog.export import build_documents
from hub.cli.root import main
from hub.settings import Settings, load_settings
from hub.transport.factory import topology_for
from schemas import catalog
from tests.unit.catalog.test_diagram import expected_ids, groups

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests/fixtures/catalog/provinsi_link.toml"
CONFIGS = [
    FIXTURE,
    *sorted((ROOT / "ops/config").glob("*.example.toml")),
    *sorted((ROOT / "ops/examples").glob("*.toml")),
]
KECAMATAN_AND_UP = 38 + 514 + 7285


def _documents(settings: Settings) -> dict[str, bytes]:
    return build_documents(settings, topology_for(settings), region_levels=(1, 2, 3))


@pytest.fixture(scope="module")
def linked() -> tuple[Settings, dict[str, bytes]]:
    """The export of the kab/kota fixture with two sources, a files sink and a link to the provinsi."""
    settings = load_settings(FIXTURE)
    return settings, _documents(settings)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_export_of_example_config_is_complete(config: Path) -> None:
    """Every schema version, queue, source adapter and link of the config appears in the documents."""
    settings = load_settings(config)
    documents = _documents(settings)
    asyncapi = json.loads(documents["asyncapi.json"])
    index = json.loads(documents["index.json"])
    markdown = documents["catalog.md"].decode()
    page = documents["catalog.html"].decode()
    for spec in catalog.all_versions():
        assert f"schemas/{spec.name}-{spec.version}.schema.json" in documents
        assert spec.ref in [f"{s['name']}@{s['version']}" for s in index["schemas"]]
        assert any(m["name"] == spec.ref for m in asyncapi["components"]["messages"].values())
        assert f"## {spec.ref}:" in markdown and f"id='{spec.name}-{spec.version}'" in page
    channels = {c["address"] for c in asyncapi["channels"].values()}
    assert {q.name for q in topology_for(settings).queues} <= channels
    for source in settings.sources:
        assert asyncapi["operations"][f"source_{source.name}"]["x-adapter"]["kind"] == source.kind
    for sink in settings.sinks:
        ops = [
            op for op in asyncapi["operations"].values() if op.get("x-adapter", {}).get("name") == sink.name
        ]
        assert ops, sink.name
    assert sorted(index["documents"]) == sorted(documents)
    found = groups(documents["topology.svg"].decode())  # well-formed SVG with the node and its adapters
    assert expected_ids(settings, settings.node) <= found.keys()
    if settings.uplink.enabled:
        assert any(k.startswith(f"link-{settings.node}-") for k in found)
    for sink in settings.sinks:
        if sink.kind == "amqp_sink":
            assert f"link-{settings.node}-external-1-amqp_sink" in found


def test_link_to_the_upper_node_is_a_channel_server_and_operation(
    linked: tuple[Settings, dict[str, bytes]],
) -> None:
    """The amqp_sink link shows as a channel on its own server, without the credentials of either URL."""
    _settings, documents = linked
    asyncapi = json.loads(documents["asyncapi.json"])
    assert asyncapi["servers"]["link_ke-provinsi"]["host"] == "broker.jabar.example:5671"
    assert asyncapi["servers"]["link_ke-provinsi"]["protocol"] == "amqp"  # port 5671, scheme amqp
    assert asyncapi["channels"]["link.ke-provinsi"]["address"] == "simpul.ingest"
    assert asyncapi["operations"]["link_ke-provinsi"]["action"] == "send"
    text = documents["asyncapi.json"].decode()
    assert "secret-password" not in text and "link-password" not in text and "simpul-bogor:" not in text


def test_routing_keys_and_publish_rights(linked: tuple[Settings, dict[str, bytes]]) -> None:
    """Ingest channels carry the routing-key pattern; publish operations state the per-office rights."""
    asyncapi = json.loads(linked[1]["asyncapi.json"])
    channel = asyncapi["channels"]["ingest.ormas_registration_v1"]
    assert channel["address"] == "ormas_registration.v1.{kodeWilayah}"
    assert channel["bindings"]["amqp"]["exchange"] == {
        "name": "simpul.ingest", "type": "topic", "durable": True, "autoDelete": False
    }  # fmt: skip
    assert "ingest.ormas_registration_v2" in asyncapi["channels"]
    publish = asyncapi["operations"]["publish_ormas_registration_v1"]
    assert "<office kode wilayah>.#" in publish["description"] and publish["security"]


def test_code_lists(linked: tuple[Settings, dict[str, bytes]]) -> None:
    """Kode wilayah with its decree version, Pasal 25 a-g, classifications and enums, as CSV and JSON."""
    documents = linked[1]
    rows = list(csv.DictReader(io.StringIO(documents["codelists/kode_wilayah.csv"].decode())))
    assert len(rows) == KECAMATAN_AND_UP
    assert {"code": "96", "label": "Papua Barat Daya"}.items() <= rows[
        [r["code"] for r in rows].index("96")
    ].items()
    kode = json.loads(documents["codelists/kode_wilayah.json"])
    assert (
        "Kepmendagri 300.2.2-2138/2025" in kode["source"]
        and kode["version"] == "kepmendagri-300.2.2-2138-2025"
    )
    pasal = json.loads(documents["codelists/urusan_pasal25.json"])
    assert [r["code"] for r in pasal["rows"]] == list("abcdefg")
    assert "penanganan konflik sosial" in pasal["rows"][3]["label"]
    status = json.loads(documents["codelists/status_ormas.json"])
    dicabut = next(r for r in status["rows"] if r["code"] == "dicabut")
    assert dicabut["schema_versions"] == "ormas_registration@2.0.0"
    assert "codelists/classification.csv" in documents and "codelists/tingkat_kerawanan.csv" in documents


def test_human_catalogue_is_bilingual_and_free_of_clear_niks(
    linked: tuple[Settings, dict[str, bytes]],
) -> None:
    """Markdown and HTML carry Indonesian and English texts, units and owners; no clear NIK anywhere."""
    documents = linked[1]
    markdown = documents["catalog.md"].decode()
    assert "Pendaftaran ormas / Ormas registration" in markdown
    assert (
        "| korban.meninggal | NonNegInt | optional | none | orang |  | Korban meninggal | Dead | 0 |"
        in markdown
    )
    assert "Direktorat Organisasi Kemasyarakatan" in markdown
    for name, body in documents.items():
        assert b"3201010101800099" not in body, name


def test_cli_export_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simpul catalog export DIR --config FILE --no-desa` writes the documents and summarises them."""
    out = tmp_path / "katalog"
    assert main(["catalog", "export", str(out), "--config", str(FIXTURE), "--no-desa"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (out / "asyncapi.json").exists() and (out / "openapi.json").exists()
    assert (out / "schemas/ormas_registration-2.0.0.schema.json").exists()
    assert len((out / "codelists/kode_wilayah.csv").read_text().splitlines()) == KECAMATAN_AND_UP + 1
