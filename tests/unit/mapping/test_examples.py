"""The example configs in ops/examples/ against their samples, end to end: ``simpul mapping test`` passes on
each (the sample read by the configured adapter's own reader), and the records that reader makes go through
a node (in-memory broker) into the SQLite warehouse."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters.build import mapper_for
from hub.cli.root import main
from hub.kit.config_file import load_config, source_entry
from hub.kit.mapping_test import read_with_adapter
from hub.node import Node
from hub.settings import SourceEntry
from schemas.envelope import make_record_key
from tests.helpers import SAMPLES, until

ROOT = Path(__file__).resolve().parents[3]
RAW = ROOT / "tests/fixtures/raw"
EXAMPLES = [
    ("sitimdu_conflict.toml", "sitimdu-bogor", SAMPLES / "rest_conflict_api.json", 2),
    ("ormas_register.toml", "ormas-bogor", SAMPLES / "ormas_register.csv", 3),
    ("sidini_early_warning.toml", "sidini-banggai", SAMPLES / "webhook_early_warning.json", 1),
    ("bankeu_parpol.toml", "bankeu-jabar", ROOT / "tests/fixtures/mapping/bankeu_parpol_rows.json", 3),
]
# Made with `simpul mapping propose` from the raw samples of tests/fixtures/raw (hand edits counted in
# each file's header).
PROPOSED = [
    ("izin_penelitian_soap.toml", "soap-izin-penelitian", RAW / "soap_izin_penelitian.xml", 3),
    ("rekap_pora_papua_barat.toml", "rekap-pora-papua-barat", RAW / "rekap_pora_papua_barat.xlsx", 4),
    ("konflik_rest_kota_bandung.toml", "rest-konflik-page1", RAW / "rest_konflik_page1.json", 3),
    ("konflik_rest_kota_bandung.toml", "rest-konflik-page1", RAW / "rest_konflik_page2.json", 3),
    ("ormas_mariadb_kota_bandung.toml", "ormas-mariadb-export", RAW / "ormas_mariadb_export.csv", 4),
    ("bankeu_parpol_jabar_csv.toml", "bankeu-parpol-rekap", RAW / "bankeu_parpol_rekap.csv", 3),
    ("form_deteksi_dini_banggai.toml", "form-deteksi-dini", RAW / "form_deteksi_dini.csv", 4),  # + 1 test row
    ("sikd_amqp_sulteng.toml", "amqp-sikd-pesan", RAW / "amqp_sikd_pesan.json", 2),
]
# NIKs and phone numbers of the samples: never printed (a NIK is shown as its token, free text redacted,
# reporter fields dropped). Names the schemas keep (officers, applicants) are shown as stored.
SECRETS = [
    *("3201010101800099", "3201011203850099", "3201010712700099", "3201054506750099", "3201031502800099"),
    *("0812-3456-7890", "081234560001"),
    *("7201041203900099", "0813-1111-2222", "081234567890", "3273011203700099"),
]


@pytest.mark.parametrize(("config", "name", "sample", "count"), EXAMPLES + PROPOSED)
def test_mapping_test_passes_on_the_sample(
    config: str, name: str, sample: Path, count: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """`simpul mapping test` maps and validates every sample record, exit 0, no personal data printed."""
    args = ["mapping", "test", "--config", str(ROOT / "ops/examples" / config), "--adapter", name]
    code = main([*args, "--sample", str(sample)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert len(re.findall(r"valid against \w+@\d", out)) == count
    assert f"{count} record(s): {count} valid, 0 invalid" in out
    for secret in SECRETS:
        assert secret not in out


async def _through_node(node: Node, config: str, name: str, sample: Path) -> tuple[SqliteSink, list[Any]]:
    """The sample's records offered to the node's pipeline with the config's mapping (content revisions in
    the node's source state, as a running source keeps them); the published ones, once all are stored. A
    row only the mapping's skip rule drops may be left out (outcome ``skipped``), nothing else."""
    entry = source_entry(load_config(ROOT / "ops/examples" / config), name)
    records = read_with_adapter(entry, sample).records
    outcomes = await node.pipeline.offer_many(records, mapper_for(entry, node.source_state))
    statuses = {o.status for o in outcomes}
    assert statuses <= {"published", "skipped"}, [o.error for o in outcomes]
    published = [r for r, o in zip(records, outcomes, strict=True) if o.status == "published"]
    sink = node.sink
    assert isinstance(sink, SqliteSink)
    await until(lambda: sink.store.count(entry.schema_name) == len(published))
    return sink, published


def _stored(sink: SqliteSink, entry: SourceEntry, records: list[Any]) -> list[dict[str, Any]]:
    """The warehouse rows of ``records``, found under the id the mapping gives each (every one stored)."""
    mapper = mapper_for(entry)
    rows = []
    for record in records:
        rid = mapper(record).source_record_id
        row = sink.store.get(make_record_key(entry.schema_name, entry.system, rid))
        assert row is not None, rid
        rows.append(row)
    return rows


async def test_conflict_reports_reach_the_warehouse(memory_node: Node) -> None:
    """The REST conflict sample lands with kode wilayah, Rupiah, +07:00 time and the NIK redacted."""
    sink, _ = await _through_node(memory_node, *EXAMPLES[0][:3])
    row = sink.store.get(make_record_key("conflict_incident", "sitimdu-bogor", "117"))
    assert row is not None and row["revision"] == 1706173331000
    payload = row["payload"]
    assert payload["kode_wilayah"] == "32.01.01.1010" and payload["kerugian"] == "15000000"
    assert payload["waktu_kejadian"] == "2024-01-25T14:30:00+07:00"
    assert "[NIK]" in payload["kronologi"] and "3201010101800099" not in str(row)
    assert [p["nama_pihak"] for p in payload["pihak"]] == ["Warga RW 05", "PT Maju Properti"]
    assert row["envelope"]["mapping_version"] == "sitimdu-bogor/1"


async def test_ormas_register_reaches_the_warehouse_with_tokens(memory_node: Node) -> None:
    """The CSV register lands keyed by registration number; NIKs are stored only as tokens."""
    sink, _ = await _through_node(memory_node, *EXAMPLES[1][:3])
    row = sink.store.get(
        make_record_key("ormas_registration", "ormas-register-bogor", "01-00-00/0123/VI/2021")
    )
    assert row is not None
    payload = row["payload"]
    assert payload["berlaku_sampai"] == "2026-06-12" and payload["kode_wilayah"] == "32.01.01"
    assert payload["pengurus"][0]["nik_token"].startswith("nik1_")
    assert "3201010712700099" not in str(row)


async def test_early_warning_reaches_the_warehouse(memory_node: Node) -> None:
    """The webhook event lands at kelurahan Karaton with its +08:00 time and coordinates."""
    sink, _ = await _through_node(memory_node, *EXAMPLES[2][:3])
    row = sink.store.get(
        make_record_key("early_warning", "sidini-banggai", "c1f0a9e2-7c1b-4e55-9a61-2f0d2b7f9a10")
    )
    assert row is not None
    payload = row["payload"]
    assert payload["kode_wilayah"] == "72.01.04.1031" and payload["waktu_laporan"].endswith("+08:00")
    assert payload["lokasi"] == {"lat": "-0.9512", "lon": "122.7890"}
    assert row["envelope"]["classification"] == "RAHASIA"


async def test_party_aid_soft_delete_is_a_withdrawal(memory_node: Node) -> None:
    """The soft-deleted 2023 row arrives as a withdrawal; the 2024 rows are active."""
    sink, _ = await _through_node(memory_node, *EXAMPLES[3][:3])
    key = make_record_key("party_financial_aid", "bankeu-jabar", "2023/32/PCN")
    await until(lambda: (sink.store.get(key) or {}).get("state") == "withdrawn")
    active = sink.store.get(make_record_key("party_financial_aid", "bankeu-jabar", "2024/32/PRS"))
    assert active is not None and active["state"] == "active"
    assert active["payload"]["total_bantuan"] == "961346400.00"


async def test_ormas_mapping_with_the_file_drop_adapter(tmp_path: Path) -> None:
    """The real file_drop adapter reads the CSV; with the example mapping it passes the contract kit."""
    import os
    import shutil
    import time
    import tomllib

    from hub.testing.contract import check_source_contract

    file_drop = pytest.importorskip("adapters.file_drop")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(EXAMPLES[1][2], inbox / "ormas_register.csv")
    old = time.time() - 60
    os.utime(inbox / "ormas_register.csv", (old, old))  # settled: not being copied any more
    entry = tomllib.loads((ROOT / "ops/examples/ormas_register.toml").read_text(encoding="utf-8"))["sources"][
        0
    ]
    config = {"path": str(inbox), "stop_when_idle": True, "settle_s": 0.1, "poll_interval_s": 0.1}
    report = await check_source_contract(
        file_drop.PLUGIN, config, schema="ormas_registration", expect_records=3, mapping=entry["mapping"],
        office=entry["office"], system=entry["system"],
    )  # fmt: skip
    assert (report.applied, report.quarantined, report.reread) == (3, 0, 0)
    assert (inbox / "done" / "ormas_register.csv").exists()


async def test_conflict_mapping_with_the_rest_poll_adapter_and_its_simulator() -> None:
    """The real rest_poll adapter against the simulated PHP app: 40 generated reports all map and apply."""
    import tomllib

    from hub.testing.contract import check_source_contract

    rest_poll = pytest.importorskip("adapters.rest_poll")
    simulator = pytest.importorskip("adapters.rest_poll.simulator")
    entry = tomllib.loads((ROOT / "ops/examples/sitimdu_conflict.toml").read_text(encoding="utf-8"))[
        "sources"
    ][0]
    api = simulator.ConflictApi.seeded(40)
    url = await api.start()
    try:
        config = {
            "base_url": url,
            "path": api.path,
            "auth": {"type": "api_key", "value": api.api_key},
            "cursor": {"param": "updated_since"},
            "id_path": "id_laporan",
            "updated_at_path": "updated_at",
            "once": True,
        }
        report = await check_source_contract(
            rest_poll.PLUGIN, config, schema="conflict_incident", expect_records=40, mapping=entry["mapping"],
            office=entry["office"], system=entry["system"],
        )  # fmt: skip
    finally:
        await api.close()
    assert (report.applied, report.quarantined, report.reread) == (40, 0, 0)


@pytest.mark.parametrize(
    ("config", "name", "sample", "count"), [p for p in PROPOSED if "page2" not in p[2].name]
)
async def test_proposed_examples_reach_the_warehouse(
    memory_node: Node, config: str, name: str, sample: Path, count: int
) -> None:
    """Each raw sample, read by its adapter and mapped by its finished proposal, is published and stored
    under the id the mapping gives; no NIK or phone number of the sample is stored in clear."""
    sink, records = await _through_node(memory_node, config, name, sample)
    assert len(records) == count
    entry = source_entry(load_config(ROOT / "ops/examples" / config), name)
    text = str(_stored(sink, entry, records))
    for secret in SECRETS:
        assert secret not in text


async def test_a_source_without_change_stamp_applies_status_changes_as_newer_revisions(
    memory_node: Node,
) -> None:
    """The REST app has no change stamp, so its mapping derives the revision from the content (kept in the
    node's source state): on the second poll the two reports whose status changed arrive as newer
    revisions and replace the stored ones, the unchanged one keeps its revision (a duplicate), and nothing
    is quarantined. (With the constant revision this example used before, both changes were quarantined
    as revision conflicts and the warehouse kept the old status.)"""
    config, name = "konflik_rest_kota_bandung.toml", "rest-konflik-page1"
    sink, _ = await _through_node(memory_node, config, name, RAW / "rest_konflik_page1.json")
    entry = source_entry(load_config(ROOT / "ops/examples" / config), name)

    def stored(report: str) -> dict[str, Any]:
        row = sink.store.get(make_record_key("conflict_incident", entry.system, report))
        assert row is not None
        return row

    before = {r: stored(r)["revision"] for r in ("KONF-2024-029", "KONF-2024-031", "KONF-2024-032")}
    later = read_with_adapter(entry, RAW / "rest_konflik_page2.json").records
    outcomes = await memory_node.pipeline.offer_many(later, mapper_for(entry, memory_node.source_state))
    assert [o.status for o in outcomes] == ["published"] * 3
    await until(lambda: stored("KONF-2024-032")["payload"]["status"] == "selesai")
    await until(lambda: stored("KONF-2024-031")["payload"]["status"] == "proses")
    assert stored("KONF-2024-031")["revision"] > before["KONF-2024-031"]
    assert stored("KONF-2024-032")["revision"] > before["KONF-2024-032"]
    assert stored("KONF-2024-032")["payload"]["tahap"] == "pemulihan"
    assert stored("KONF-2024-029")["revision"] == before["KONF-2024-029"]  # same content, same revision
    assert memory_node.quarantine_store.count() == 0


async def test_form_export_into_the_warehouse_skips_the_test_row(memory_node: Node) -> None:
    """Issue 20's proof: the Google Forms export through a node into the SQLite warehouse. The
    "TEST - abaikan" row is dropped by the mapping's skip rule: counted in simpul_records_skipped_total,
    never stored, never quarantined. A free-text time ("kemarin malam") is stored as unknown with the raw
    text in the envelope's notes; the multi-answer "FKDM, Masyarakat" is its first answer (early_warning
    1.1.0 keeps one kind of source); the NIK and phone number in the description are redacted."""
    config, name = "form_deteksi_dini_banggai.toml", "form-deteksi-dini"
    sink, published = await _through_node(memory_node, config, name, RAW / "form_deteksi_dini.csv")
    skipped = memory_node.metrics.registry.get_sample_value(
        "simpul_records_skipped_total", {"adapter": "form-deteksi-dini"}
    )
    assert (len(published), skipped) == (4, 1.0)
    assert memory_node.quarantine_store.count() == 0
    entry = source_entry(load_config(ROOT / "ops/examples" / config), name)
    by_title = {row["payload"]["judul"]: row for row in _stored(sink, entry, published)}
    assert not any("TEST" in title for title in by_title)
    assert set(by_title) == {
        "Keributan antar pemuda di pasar malam",
        "Antrian BBM solar mengular",
        "Spanduk provokatif menjelang pleno",
        "Sengketa tapal batas adat",
    }
    night = by_title["Keributan antar pemuda di pasar malam"]
    assert night["payload"]["waktu_kejadian"] == "2024-03-12T20:30:00+08:00"
    assert night["payload"]["sumber"] == "fkdm" and "[NIK]" in night["payload"]["uraian"]
    queue = by_title["Antrian BBM solar mengular"]
    assert queue["payload"].get("waktu_kejadian") is None
    assert queue["envelope"]["notes"] == [
        {
            "loc": "waktu_kejadian",
            "rule": "value_unparseable",
            "detail": "date_format; left unknown; raw text: kemarin malam",
        }
    ]
    assert "tingkat" in night["payload"]


async def test_lineage_of_a_stored_record_shows_its_notes(memory_node: Node) -> None:
    """The warehouse's lineage record (``trace_json``, shared by the SQLite and PostgreSQL sinks) keeps
    the envelope's notes as stored, so `simpul lineage` says why waktu_kejadian is unknown; a record
    without notes has no notes key (its trace bytes are unchanged)."""
    from adapters.postgres_sink.rows import trace_of
    from hub.admin.lineage import lineage_lines, trace_record
    from schemas.envelope import Envelope

    config, name = "form_deteksi_dini_banggai.toml", "form-deteksi-dini"
    sink, published = await _through_node(memory_node, config, name, RAW / "form_deteksi_dini.csv")
    entry = source_entry(load_config(ROOT / "ops/examples" / config), name)
    rows = {row["payload"]["judul"]: row for row in _stored(sink, entry, published)}
    queue, night = rows["Antrian BBM solar mengular"], rows["Keributan antar pemuda di pasar malam"]
    note = {
        "loc": "waktu_kejadian",
        "rule": "value_unparseable",
        "detail": "date_format; left unknown; raw text: kemarin malam",
    }
    trace = sink.store.trace(queue["envelope"]["message_id"])
    assert trace is not None and trace["trace"]["notes"] == [note]
    plain = sink.store.trace(night["envelope"]["message_id"])
    assert plain is not None and "notes" not in plain["trace"]
    view = await trace_record(
        queue["envelope"]["message_id"], node="kab-banggai", level="kabkota", quarantine=None, sinks=[sink]
    )
    shown = "note:            waktu_kejadian: value_unparseable: " + note["detail"]
    assert shown in lineage_lines(view)
    # PostgreSQL's lineage record is built from the same serialised trace.
    envelope = Envelope.model_validate({**queue["envelope"], "payload": queue["payload"]})
    assert orjson.loads(trace_of(envelope))["notes"] == [note]
