"""file_drop in a real node on the real RabbitMQ: files -> records in the SQLite warehouse, files moved to
done/ or failed/, and a restart that sends only what is new."""

from __future__ import annotations

import os
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.file_drop import PLUGIN
from adapters.file_drop.simulator import incidents, ormas_rows, write_conflict_workbook, write_ormas_csv
from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.node import Node
from schemas.envelope import make_record_key
from tests.helpers import SAMPLES, node_settings, until

pytestmark = pytest.mark.broker
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "file_drop"


@pytest.fixture(autouse=True)
def _plugin() -> None:
    registry.register(PLUGIN)


def _source(name: str, schema: str, inbox: Path, mapping: str, **config: Any) -> dict[str, Any]:
    return {"name": name, "kind": "file_drop", "schema": schema, "system": f"{name}-sys", "office": "32.01",
            "config": {"path": str(inbox), "settle_s": 0, "stop_when_idle": True, **config},
            "mapping": tomllib.loads((FIXTURES / mapping).read_text())}  # fmt: skip


def _settings(tmp_path: Path, amqp_url: str, management_url: str, sources: list[dict[str, Any]]) -> Any:
    return node_settings(
        tmp_path, broker={"url": amqp_url, "management_url": management_url}, sources=sources
    )


def _store(node: Node) -> Any:
    sink = node.sink
    assert isinstance(sink, SqliteSink)
    return sink.store


def _stamp(path: Path, at: float) -> None:
    os.utime(path, (at, at))


async def test_csv_and_workbook_land_in_the_warehouse(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """The shared sample CSV, a Windows-1252 export with title rows and one bad row, a monthly workbook
    and a PDF: 38 records applied, 1 quarantined, three files in done/, the PDF in failed/ with a report."""
    ormas_in, konflik_in = tmp_path / "ormas", tmp_path / "konflik"
    ormas_in.mkdir()
    konflik_in.mkdir()
    shutil.copy(SAMPLES / "ormas_register.csv", ormas_in / "ormas_register.csv")
    rows = ormas_rows(20, start=100)
    rows[5].cells[8] = "Antah Berantah"  # a kecamatan that does not exist in Kab. Bogor
    write_ormas_csv(ormas_in, "ekspor_windows.csv", rows, encoding="cp1252", title=True)
    (ormas_in / "scan_sk.pdf").write_bytes(b"%PDF-1.4 scanned decree")
    write_conflict_workbook(
        konflik_in, "rekap_2024.xlsx", {1: incidents(1, 8), 2: incidents(2, 0), 3: incidents(3, 8)}
    )
    sources = [
        _source(
            "ormas-bogor", "ormas_registration", ormas_in, "ormas_mapping.toml", id_columns=["no_skt_sk_ahu"]
        ),
        _source("konflik-bogor", "conflict_incident", konflik_in, "rekap_konflik_mapping.toml"),
    ]
    async with Node(_settings(tmp_path, amqp_url, management_url, sources)) as node:
        store = _store(node)
        await until(lambda: all(r.state == "stopped" for r in node.runners), timeout=30)
        await until(lambda: store.count() == 3 + 19 + 16 and node.quarantine_store.count() == 1, timeout=30)
        assert store.count(schema_name="conflict_incident") == 16
        assert sorted(p.name for p in (ormas_in / "done").iterdir()) == [
            "ekspor_windows.csv",
            "ormas_register.csv",
        ]
        assert [p.name for p in (konflik_in / "done").iterdir()] == ["rekap_2024.xlsx"]
        assert sorted(p.name for p in (ormas_in / "failed").iterdir()) == [
            "scan_sk.pdf",
            "scan_sk.pdf.report.json",
        ]
        assert (
            orjson.loads((ormas_in / "failed" / "scan_sk.pdf.report.json").read_bytes())["reason"]
            == "unsupported_format"
        )
        assert not any(p.is_file() for p in ormas_in.iterdir()) and not any(
            p.is_file() for p in konflik_in.iterdir()
        )
        row = store.get(make_record_key("ormas_registration", "ormas-bogor-sys", "01-00-00/0123/VI/2021"))
        assert row is not None and row["kode_wilayah"] == "32.01.01"
        assert row["payload"]["pengurus"][0]["nik_token"].startswith("nik1_")  # the clear NIK never left
        incident = store.get(make_record_key("conflict_incident", "konflik-bogor-sys", "LK/01001/I/2024"))
        assert incident is not None and "[NIK]" in incident["payload"]["kronologi"]
        assert incident["payload"]["korban"]["luka"] == incidents(1, 8)[0].cells[8]
        assert set(store.delivery_counts().values()) == {1}


async def test_restart_sends_new_files_only(tmp_path: Path, amqp_url: str, management_url: str) -> None:
    """Node 1 applies export A and stops. Export B (3 rows changed) and a renamed copy of A arrive. Node 2
    applies B's rows as newer revisions and moves the copy of A to done/ without sending it again."""
    inbox = tmp_path / "ormas"
    export_a = write_ormas_csv(inbox, "ormas_januari.csv", ormas_rows(12))
    _stamp(export_a, time.time() - 3600)
    sources = [_source("ormas-bogor", "ormas_registration", inbox, "ormas_mapping.toml", batch_size=5)]
    settings = _settings(tmp_path, amqp_url, management_url, sources)
    async with Node(settings) as node:
        store = _store(node)
        await until(lambda: node.runners[0].state == "stopped" and store.count() == 12, timeout=30)
        assert node.runners[0].records_offered == 12
    copy_a = inbox / "ormas_januari (1).csv"
    shutil.copy(tmp_path / "ormas" / "done" / "ormas_januari.csv", copy_a)
    _stamp(copy_a, time.time() - 60)
    rows_b = ormas_rows(12)
    for row in rows_b[:3]:
        row.cells[12] = "LAPOR ULANG" if row.cells[12] == "AKTIF" else "AKTIF"
    export_b = write_ormas_csv(inbox, "ormas_februari.csv", rows_b)
    _stamp(export_b, time.time() - 30)
    revision_b = export_b.stat().st_mtime_ns // 1_000_000
    async with Node(settings) as node:
        store = _store(node)
        await until(
            lambda: node.runners[0].state == "stopped" and len(store.applied_keys()) == 24, timeout=30
        )
        assert node.runners[0].records_offered == 12  # B only; the copy of A was recognised by its digest
        assert store.count() == 12 and set(store.delivery_counts().values()) == {1}
        changed = store.get(make_record_key("ormas_registration", "ormas-bogor-sys", rows_b[0].nomor))
        expected = "perlu_lapor_ulang" if rows_b[0].cells[12] == "LAPOR ULANG" else "aktif"
        assert changed is not None and changed["payload"]["status"] == expected
        assert changed["revision"] == revision_b  # the newer export's modification time (ms) wins
        assert sorted(p.name for p in (inbox / "done").iterdir()) == [
            "ormas_februari.csv", "ormas_januari (1).csv", "ormas_januari.csv"]  # fmt: skip
