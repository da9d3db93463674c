"""Each source adapter reads a raw sample with its own code (``AdapterPlugin.read_sample``): the records it
would offer (raw dict, id, revision, op) and the rows it passed over, with why."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.amqp_source import PLUGIN as AMQP
from adapters.file_drop import PLUGIN as FILE_DROP
from adapters.file_drop.config import FileDropConfig
from adapters.rest_poll import PLUGIN as REST
from adapters.rest_poll.config import RestPollConfig
from adapters.soap import PLUGIN as SOAP
from adapters.soap.client import SoapClient
from adapters.soap.config import SoapSourceConfig
from adapters.sql_poll import PLUGIN as SQL
from adapters.sql_poll.config import SqlPollConfig
from adapters.webhook import PLUGIN as WEBHOOK
from hub.adapters.model import AdapterPlugin, SampleRead
from hub.errors import ConfigError
from hub.model.records import SourceRecord
from schemas.envelope import SourceIdentity

RAW = Path(__file__).resolve().parents[2] / "fixtures" / "raw"
IDENTITY = SourceIdentity(system="s", office="32.01", adapter="a")


def make(raw: Any, **meta: Any) -> SourceRecord:
    return SourceRecord("early_warning", raw, IDENTITY, **meta)


def read(plugin: AdapterPlugin, config: Any, data: bytes, name: str) -> SampleRead:
    assert plugin.read_sample is not None
    return plugin.read_sample(config, data, name=name, make=make)


def drop_config(**extra: Any) -> FileDropConfig:
    return FileDropConfig(path=Path("/srv/inbox"), **extra)


# --- file_drop -----------------------------------------------------------------------------------------


def test_file_drop_csv_bom_semicolons_blank_and_unnamed_columns() -> None:
    """BOM dropped, ';' detected, blank rows skipped with why, a data column without a header is column_3."""
    data = "\ufeffNO;NAMA;\r\n1;Gerakan Pemuda;catatan\r\n;;\r\n\r\n2;Forum;\r\n".encode()
    got = read(FILE_DROP, drop_config(min_header_cells=2), data, "a.csv")
    assert [r.raw for r in got.records] == [
        {"no": "1", "nama": "Gerakan Pemuda", "column_3": "catatan"},
        {"no": "2", "nama": "Forum", "column_3": None},
    ]
    assert [(s.where, s.why) for s in got.skipped] == [
        ("row 1", "header"),
        ("row 3", "blank"),
        ("row 4", "blank"),
    ]


def test_file_drop_windows_1252_and_id_columns() -> None:
    """An old Excel export (cp1252, ',') keeps its letters; id_columns give the ids the node stores."""
    data = 'NO,NAMA,ALAMAT\n7,"Yayasan Café","Jl. Kartini – Bogor"\n'.encode("cp1252")
    got = read(FILE_DROP, drop_config(id_columns=["no"], min_header_cells=2), data, "b.csv")
    (record,) = got.records
    assert record.raw["nama"] == "Yayasan Café" and record.raw["alamat"] == "Jl. Kartini – Bogor"
    assert record.source_record_id == "7" and record.revision is not None and record.reported_at is not None


def test_file_drop_without_id_columns_uses_the_node_id() -> None:
    """No id_columns: <digest>/<row>, exactly as the source makes it."""
    got = read(FILE_DROP, None, b"A;B;C\n1;2;3\n", "c.csv")
    assert got.records[0].source_record_id is not None
    assert got.records[0].source_record_id.endswith("/2")


def test_file_drop_workbook_two_header_rows_title_numbered_blanks_and_signatures() -> None:
    """The Timpora recap: group-first names from merged two-row headers, title, numbered blank rows and a
    signature line that runs on after the year, all skipped with why; meta_keys adds _sheet and _row."""
    data = (RAW / "rekap_pora_papua_barat.xlsx").read_bytes()
    got = read(FILE_DROP, drop_config(meta_keys=True), data, "rekap.xlsx")
    assert len(got.records) == 4
    first = got.records[0].raw
    assert {"identitas_no_paspor", "identitas_kewarganegaraan", "kegiatan_kab_kota", "periode_mulai"} <= set(
        first
    )
    assert first["_sheet"] == "Januari" and first["_row"] == 6 and first["periode_mulai"] == "2024-01-08"
    januari = [(s.where.split(", ")[1], s.why) for s in got.skipped if s.where.startswith("sheet Januari")]
    assert januari == [
        ("row 1", "title"), ("row 2", "title"), ("row 4", "header"), ("row 5", "header"),
        ("row 7", "blank"), ("row 9", "blank"), ("row 10", "blank"), ("row 11", "blank"), ("row 12", "blank"),
        ("row 13", "signature"), ("row 14", "signature"), ("row 15", "after_end"), ("row 16", "signature"),
    ]  # fmt: skip


def test_file_drop_extra_patterns_add_to_the_defaults() -> None:
    """signature_patterns_extra ends the table at a custom line, and the default patterns still apply."""
    rows = "NO;NAMA;STATUS\n1;A;aktif\nDiverifikasi operator\n2;B;aktif\nMengetahui\n3;C;aktif\n"
    default = read(FILE_DROP, None, rows.encode(), "d.csv")
    assert len(default.records) == 3  # "Diverifikasi operator" is read as data by default
    extra = read(FILE_DROP, drop_config(signature_patterns_extra=[r"diverifikasi\b"]), rows.encode(), "d.csv")
    assert [r.raw["nama"] for r in extra.records] == ["A"]
    assert ("row 3", "signature") in [(s.where, s.why) for s in extra.skipped]
    other = "NO;NAMA;STATUS\n1;A;aktif\nMengetahui\n2;B;aktif\n"
    assert (
        len(read(FILE_DROP, drop_config(signature_patterns_extra=["x"]), other.encode(), "e.csv").records)
        == 1
    )


def test_file_drop_unreadable_sample_is_a_config_error() -> None:
    """A PDF saved as .csv: the rule that failed, never the content."""
    with pytest.raises(ConfigError, match="unsupported_format"):
        read(FILE_DROP, None, b"%PDF-1.4 ...", "x.csv")


# --- soap ----------------------------------------------------------------------------------------------


def test_soap_attributes_by_path_and_nils() -> None:
    """<lokasi kodeWilayah=...> repeated -> a list at lokasi/@kodeWilayah; the record's own attribute is
    @noIzin; xsi:nil is None and no xsi attribute leaks in as data."""
    got = read(SOAP, None, (RAW / "soap_izin_penelitian.xml").read_bytes(), "r.xml")
    assert got.settings["record_path"] == "CariIzinPenelitianResponse/return/IzinPenelitian"
    assert got.settings["id_field"] == "@noIzin"
    first, second = got.records[0], got.records[1]
    assert first.source_record_id == "503/0412/DPMPTSP/2024"
    assert first.raw["lokasi/@kodeWilayah"] == ["32.01.01", "32.01.07"]
    assert first.raw["lokasi"] == ["Cibinong", "Citeureup"]
    assert first.raw["penerbit/@kodeBps"] == "3201" and first.raw["penerbit"] == "DPMPTSP Kabupaten Bogor"
    assert first.raw["pemohon"]["noPaspor"] is None and first.raw["catatan"] is None
    assert second.raw["lokasi/@kodeWilayah"] == "32.01.09" and second.raw["tglTerbit"] is None
    assert not any("nil" in key for record in got.records for key in record.raw)


async def test_soap_sample_reads_what_the_client_reads() -> None:
    """The sample reader and the client parse a response to the same raw records (one code path)."""
    data = (RAW / "soap_izin_penelitian.xml").read_bytes()
    config = SoapSourceConfig(
        url="http://x.invalid/ws", envelope_template="{start}", start_date="2024-01-01",
        record_path="CariIzinPenelitianResponse/return/IzinPenelitian", id_field="@noIzin",
        list_fields=["lokasi"],
    )  # fmt: skip
    got = read(SOAP, config, data, "r.xml")
    client = SoapClient(config, None)  # type: ignore[arg-type]  # no HTTP in this test
    assert [r.raw for r in got.records] == client._records(200, data)
    assert got.records[1].raw["lokasi"] == ["Ciawi"]  # list_fields: a list even when it occurs once
    assert got.records[1].raw["lokasi/@kodeWilayah"] == ["32.01.09"]


def test_soap_fault_and_non_soap_samples_are_config_errors() -> None:
    fault = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
        b"<faultcode>s:Client</faultcode><faultstring>x</faultstring></s:Fault></s:Body></s:Envelope>"
    )
    with pytest.raises(ConfigError, match="fault"):
        read(SOAP, None, fault, "f.xml")
    with pytest.raises(ConfigError, match="not a SOAP Envelope"):
        read(SOAP, None, b"<html/>", "h.xml")


# --- rest_poll, webhook, amqp_source ----------------------------------------------------------------------


def test_rest_poll_page_with_guessed_data_path_and_configured_identity() -> None:
    data = (RAW / "rest_konflik_page1.json").read_bytes()
    guessed = read(REST, None, data, "p.json")
    assert guessed.settings["data_path"] == "data" and len(guessed.records) == 3
    assert guessed.records[0].source_record_id is None  # no id_path: the mapping must give it
    config = RestPollConfig(base_url="http://x.invalid", id_path="id_laporan", data_path="data")
    configured = read(REST, config, data, "p.json")
    assert [r.source_record_id for r in configured.records] == [
        "KONF-2024-031",
        "KONF-2024-032",
        "KONF-2024-029",
    ]
    nested = orjson.dumps({"hasil": {"items": [{"id": 1}]}})
    assert read(REST, None, nested, "n.json").settings["data_path"] == "hasil.items"
    with pytest.raises(ConfigError, match="no list"):
        read(REST, RestPollConfig(base_url="http://x.invalid", data_path="rows"), data, "p.json")


def test_webhook_captured_push_uses_the_header_event_id() -> None:
    push = {"headers": {"X-Event-Id": "ev-1"}, "body": {"event_id": "ignored", "laporan": {"judul": "x"}}}
    got = read(WEBHOOK, None, orjson.dumps(push), "push.json")
    (record,) = got.records
    assert record.source_record_id == "ev-1" and record.raw == push["body"] and record.revision == 0
    bare = read(WEBHOOK, None, orjson.dumps([{"event_id": "ev-2"}, 5]), "pushes.json")
    assert [r.source_record_id for r in bare.records] == ["ev-2"]
    assert [s.why for s in bare.skipped] == ["not_an_object (answered 400)"]


def test_amqp_source_message_body() -> None:
    body = orjson.dumps({"records": [{"id": "a", "judul": "x"}, {"id": "b", "judul": "y"}]})
    got = read(AMQP, None, body, "m.json")
    assert got.settings["records_path"] == "records"
    assert [r.source_record_id for r in got.records] == ["a", "b"]
    (bad,) = read(AMQP, None, b"not json", "m.json").records
    assert "_unreadable" in bad.raw and bad.source_record_id is None


# --- sql_poll ------------------------------------------------------------------------------------------


def test_sql_poll_table_export_as_the_driver_gives_rows() -> None:
    """Windows-1252 text, NULL -> None, zero dates stay text (as MySQL's driver returns them), datetimes
    aware in the source zone, a soft-deleted row is a withdrawal, rows in the poll's order."""
    got = read(SQL, None, (RAW / "ormas_mariadb_export.csv").read_bytes(), "tb_ormas.csv")
    assert got.settings["key_column"] == "id" and got.settings["deleted_at_column"] == "deleted_at"
    by_id = {r.source_record_id: r for r in got.records}
    assert by_id["17"].raw["nama_ormas"] == "Paguyuban Pasundan – Cabang Coblong"
    assert by_id["18"].raw["tgl_berlaku"] == "0000-00-00" and by_id["21"].raw["singkatan"] is None
    assert isinstance(by_id["17"].raw["created_at"], datetime) and by_id["17"].raw["created_at"].tzinfo
    assert by_id["25"].op == "withdraw" and by_id["17"].op == "upsert"
    assert got.records[0].source_record_id == "18"  # no change time: the epoch, read first
    assert by_id["18"].revision == 0 and by_id["17"].revision == 1698888612000000


def test_sql_poll_json_export_and_configured_key() -> None:
    rows = [{"kode": "A1", "nilai": "1200.50", "diubah": "2024-07-01 10:11:12"}]
    config = SqlPollConfig(
        engine="mysql", user="u", database="d", table="t", key_column="kode", updated_at_column="diubah"
    )
    (record,) = read(SQL, config, orjson.dumps(rows), "t.json").records
    assert record.source_record_id == "A1" and record.raw["nilai"] == "1200.50"
    assert record.reported_at is not None and record.reported_at.utcoffset() is not None
    with pytest.raises(ConfigError):
        read(SQL, config, b"id\n", "empty.csv")
