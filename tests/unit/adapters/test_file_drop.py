"""file_drop: sniffing, table rules (one test per ugly file shape), record identity, the folder contract."""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from openpyxl import Workbook

from adapters.file_drop import PLUGIN
from adapters.file_drop.config import FileDropConfig
from adapters.file_drop.readers import ParsedFile, read_file
from adapters.file_drop.rows import check_columns, to_records
from adapters.file_drop.simulator import (
    incidents,
    ormas_rows,
    write_conflict_workbook,
    write_ormas_csv,
)
from adapters.file_drop.sniff import UnreadableFile, decode_text, detect_delimiter
from adapters.file_drop.source import FileDropSource
from adapters.file_drop.table import normalise
from hub.adapters.model import AdapterContext, SourceBatch
from hub.adapters.state import StateStore
from hub.metrics import Metrics
from hub.model.records import revision_of
from schemas.envelope import SourceIdentity

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "file_drop"
ORMAS_COLUMNS = ["no", "nama_ormas", "singkatan", "no_skt_sk_ahu", "tgl_terbit", "masa_berlaku", "bidang",
                 "alamat_sekretariat", "kecamatan", "ketua", "nik_ketua", "no_hp", "status"]  # fmt: skip


def cfg(tmp_path: Path, **kw: Any) -> FileDropConfig:
    return FileDropConfig(**{"path": tmp_path / "inbox", "settle_s": 0, "stop_when_idle": True, **kw})


def parse(data: bytes, name: str = "x.csv", **kw: Any) -> ParsedFile:
    return read_file(data, name, FileDropConfig(path=Path("/nonexistent"), **kw))


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- encodings and delimiters ------------------------------------------------------------------------


def test_shared_sample_register_reads_as_is() -> None:
    """The shared ormas_register.csv (UTF-8 BOM, ';', empty trailing row): 3 rows, clean first key."""
    parsed = parse((FIXTURES / "ormas_register.csv").read_bytes())
    (table,) = parsed.tables
    assert parsed.encoding == "utf-8-sig" and parsed.delimiter == ";"
    assert table.columns == ORMAS_COLUMNS
    assert [r[1]["no"] for r in table.rows] == ["1", "2", "3"]
    assert table.rows[2][1]["no_hp"] == "0813 1111 2222" and table.rows[1][1]["no_hp"] is None
    assert table.blank_rows == 1


def test_utf8_bom_does_not_leak_into_the_first_header() -> None:
    """A BOM before 'NO' is stripped: the key is 'no', not '\\ufeffno'."""
    data = codecs.BOM_UTF8 + csv_bytes(["NO;NAMA;STATUS", "1;Forum Warga;AKTIF"])
    (table,) = parse(data).tables
    assert table.columns == ["no", "nama", "status"]


def test_utf8_without_bom_is_detected() -> None:
    """Plain UTF-8 with a curly apostrophe decodes as UTF-8."""
    text, encoding = decode_text("NO;NAMA;STATUS\r\n1;Forum Jum’at;AKTIF\r\n".encode())
    assert encoding == "utf-8" and "Jum’at" in text


def test_windows_1252_fallback() -> None:
    """Bytes that are not UTF-8 (Excel's 'CSV' on Windows) decode as Windows-1252."""
    data = csv_bytes(["NO;NAMA ORMAS;STATUS", "1;Forum Jum’at Berkah;AKTIF"], "cp1252")
    parsed = parse(data)
    assert parsed.encoding == "cp1252"
    assert parsed.tables[0].rows[0][1]["nama_ormas"] == "Forum Jum’at Berkah"


def test_utf16_unicode_text_export_with_tabs() -> None:
    """Excel's 'Unicode Text' (UTF-16 with BOM, tab separated) is read."""
    data = "NO\tNAMA ORMAS\tSTATUS\r\n1\tPaguyuban Warga\tAKTIF\r\n".encode("utf-16")
    parsed = parse(data)
    assert parsed.encoding == "utf-16" and parsed.delimiter == "\t"
    assert parsed.tables[0].rows[0][1] == {"no": "1", "nama_ormas": "Paguyuban Warga", "status": "AKTIF"}


def test_comma_delimiter_with_quoted_commas() -> None:
    """',' is chosen even when ';' would split nothing and quoted cells hold commas."""
    lines = [
        "NO,NAMA,ALAMAT,STATUS",
        '1,Forum A,"Jl. Raya, No. 5",AKTIF',
        '2,Forum B,"Kp. Sawah, RT 02",AKTIF',
    ]
    parsed = parse(csv_bytes(lines))
    assert parsed.delimiter == ","
    assert parsed.tables[0].rows[0][1]["alamat"] == "Jl. Raya, No. 5"


def test_semicolon_wins_over_commas_inside_text() -> None:
    """Commas inside unquoted text give uneven widths, so ';' is chosen."""
    lines = [
        "NO;NAMA;ALAMAT;STATUS",
        "1;Forum A;Jl. Raya, No. 5, Cibinong;AKTIF",
        "2;Forum B;Kp. Sawah;AKTIF",
    ]
    assert detect_delimiter("\r\n".join(lines)) == ";"


def test_tab_delimiter() -> None:
    """Tab-separated text is detected."""
    assert detect_delimiter("NO\tNAMA\tSTATUS\n1\tA\tAKTIF\n2\tB\tAKTIF\n") == "\t"


# --- header rows -------------------------------------------------------------------------------------


def test_title_rows_above_the_header_are_passed_over() -> None:
    """Two title lines and a blank line (full-width ';;;;' as Excel writes them) sit above the header."""
    path = write_ormas_csv(
        Path(os.environ.get("TMPDIR", "/tmp")), f"t{os.getpid()}.csv", ormas_rows(3), title=True
    )
    try:
        (table,) = parse(path.read_bytes()).tables
    finally:
        path.unlink()
    assert table.header_at == (4,) and table.columns == ORMAS_COLUMNS and len(table.rows) == 3


def test_title_with_several_cells_is_not_taken_for_the_header() -> None:
    """'Kabupaten: | Bogor | Jawa Barat' (3 text cells) above a 6-column table is not the header."""
    lines = ["Kabupaten:;Bogor;Jawa Barat;;;", "NO;NAMA;SINGKATAN;BIDANG;KECAMATAN;STATUS",
             "1;Forum A;FA;Sosial;Cibinong;AKTIF"]  # fmt: skip
    (table,) = parse(csv_bytes(lines)).tables
    assert table.header_at == (2,) and table.columns[0] == "no"


def test_two_header_rows_with_merged_cells_xlsx() -> None:
    """'KORBAN' merged over 'MD | LUKA | MENGUNGSI' becomes korban_md, korban_luka, korban_mengungsi."""
    book = Workbook()
    ws = book.active
    ws.append(["REKAP KONFLIK"])
    ws.append(["NO", "NO. LAPORAN", "KORBAN", None, None, "KERUGIAN (Rp)"])
    ws.append([None, None, "MD", "LUKA", "MENGUNGSI", None])
    ws.merge_cells("C2:E2")
    ws.merge_cells("A2:A3")
    ws.merge_cells("F2:F3")
    ws.append([1, "LK/1/I/2024", 0, 3, 12, 15000000])
    (table,) = parse(xlsx_bytes(book), "r.xlsx").tables
    assert table.columns == [
        "no",
        "no_laporan",
        "korban_md",
        "korban_luka",
        "korban_mengungsi",
        "kerugian_rp",
    ]
    assert table.header_at == (2, 3)
    assert table.rows == [(4, {"no": 1, "no_laporan": "LK/1/I/2024", "korban_md": 0, "korban_luka": 3,
                               "korban_mengungsi": 12, "kerugian_rp": 15000000})]  # fmt: skip


def test_two_header_rows_in_csv_without_merge_information() -> None:
    """A CSV export of a two-row header leaves the group label over blanks; it is spread to its group."""
    (table,) = parse((FIXTURES / "rekap_konflik_dua_header.csv").read_bytes()).tables
    assert table.columns == ["no", "no_laporan", "tanggal", "kecamatan", "korban_md", "korban_luka",
                             "korban_mengungsi", "kerugian_rp", "keterangan"]  # fmt: skip
    assert [r[1]["no_laporan"] for r in table.rows] == ["LK/117/I/2024", "LK/118/I/2024", "LK/121/III/2024"]
    assert table.rows[0][1]["kerugian_rp"] == "15.000.000"  # CSV cells stay text for the mapping


def test_forced_header_row_and_height() -> None:
    """header_row and header_rows override detection."""
    lines = ["A;B;C", "x;y;z", "1;2;3"]
    (table,) = parse(csv_bytes(lines), header_row=2, header_rows=1).tables
    assert table.columns == ["x", "y", "z"] and table.rows == [(3, {"x": "1", "y": "2", "z": "3"})]


def test_required_columns_make_detection_strict() -> None:
    """With required_columns the first text row lacking them is skipped."""
    lines = ["Daftar;Ormas;Terdaftar", "NO;NAMA ORMAS;STATUS", "1;Forum;AKTIF"]
    (table,) = parse(csv_bytes(lines), required_columns=["nama_ormas"]).tables
    assert table.header_at == (2,)


def test_header_normalisation_duplicates_and_unnamed_columns() -> None:
    """Names become snake_case ASCII; repeats get _2; an unnamed column with data is column_<n>."""
    assert normalise("NO. SKT/SK AHU") == "no_skt_sk_ahu"
    assert normalise("  Kerugian (Rp)\n") == "kerugian_rp"
    assert normalise("Tanggal Ke-giatan °") == "tanggal_ke_giatan"
    lines = ["NO;NAMA;NAMA;;STATUS;", "1;A;B;catatan;AKTIF;", "2;C;D;;AKTIF;"]
    (table,) = parse(csv_bytes(lines)).tables
    assert table.columns == ["no", "nama", "nama_2", "column_4", "status"]


# --- where data ends ---------------------------------------------------------------------------------


def test_empty_trailing_rows_are_skipped() -> None:
    """Blank ';;;;' lines at the end (and between rows) are not records."""
    lines = ["NO;NAMA;STATUS", "1;A;AKTIF", ";;", "2;B;AKTIF", ";;", ";;", ""]
    (table,) = parse(csv_bytes(lines)).tables
    assert [n for n, _ in table.rows] == [2, 4] and table.blank_rows == 4


def test_totals_row_ends_the_data() -> None:
    """'JUMLAH' with numbers in many columns ends the table; nothing below it is read."""
    (table,) = parse((FIXTURES / "rekap_konflik_dua_header.csv").read_bytes()).tables
    assert table.ended_at == 11 and len(table.rows) == 3


def test_signature_block_ends_the_data() -> None:
    """'Mengetahui,', 'Kepala Badan ...' and 'NIP. ...' lines (no totals row) end the table."""
    for first in ("Mengetahui,", "Kepala Badan Kesbangpol Kabupaten Bogor", "NIP. 19700101 199003 1 005",
                  "Cibinong, 31 Januari 2024", "a.n. Kepala Badan"):  # fmt: skip
        lines = ["NO;NAMA;KECAMATAN;STATUS", "1;A;Cibinong;AKTIF", f";;{first};", ";;Drs. H. Ahmad Fauzi;"]
        (table,) = parse(csv_bytes(lines)).tables
        assert len(table.rows) == 1 and table.ended_at == 3, first


def test_a_full_data_row_starting_with_kepala_is_data() -> None:
    """'Kepala Desa ...' as the first cell of a wide row is data, not a signature line."""
    lines = [
        "JABATAN;NAMA;DESA;STATUS",
        "Kepala Desa;Asep Saepudin;Pakansari;AKTIF",
        "Sekdes;Iis;Pakansari;AKTIF",
    ]
    (table,) = parse(csv_bytes(lines)).tables
    assert len(table.rows) == 2


def test_repeated_header_rows_are_skipped() -> None:
    """A header repeated mid-table (printed page breaks) is not a record."""
    lines = ["NO;NAMA;STATUS", "1;A;AKTIF", "NO;NAMA;STATUS", "2;B;AKTIF"]
    (table,) = parse(csv_bytes(lines)).tables
    assert len(table.rows) == 2 and table.repeated_headers == 1


def test_data_like_rows_after_the_end_are_counted() -> None:
    """Rows that look like data below a totals row are counted for a warning, not read."""
    lines = ["NO;NAMA;STATUS", "1;A;AKTIF", "JUMLAH;1;", "2;B;AKTIF"]
    (table,) = parse(csv_bytes(lines)).tables
    assert len(table.rows) == 1 and table.rows_after_end == 1


# --- workbooks ---------------------------------------------------------------------------------------


def test_one_sheet_per_month_all_read_hidden_skipped(tmp_path: Path) -> None:
    """Three month sheets (one empty month) are read; the hidden 'Referensi' sheet is not."""
    path = write_conflict_workbook(
        tmp_path, "rekap.xlsx", {1: incidents(1, 4), 2: incidents(2, 0), 3: incidents(3, 2)}
    )
    parsed = parse(path.read_bytes(), path.name)
    assert [t.sheet for t in parsed.tables] == ["Januari", "Februari", "Maret"]
    assert [len(t.rows) for t in parsed.tables] == [4, 0, 2]
    jan = parsed.tables[0]
    assert "korban_luka" in jan.columns and jan.header_at == (4, 5) and jan.ended_at == 11
    assert isinstance(jan.rows[0][1]["tanggal"], str) and jan.rows[0][1]["tanggal"].startswith("2024-01-")
    assert (
        len(parse(path.read_bytes(), path.name, include_hidden_sheets=True, min_header_cells=2).tables) == 4
    )


def test_sheet_pattern_and_sheet_list_select_sheets(tmp_path: Path) -> None:
    """sheet_pattern and sheets narrow the sheets read; matching none fails the file."""
    path = write_conflict_workbook(tmp_path, "rekap.xlsx", {1: incidents(1, 1), 2: incidents(2, 1)})
    data = path.read_bytes()
    assert [t.sheet for t in parse(data, path.name, sheet_pattern="^feb").tables] == ["Februari"]
    assert [t.sheet for t in parse(data, path.name, sheets=["Januari"]).tables] == ["Januari"]
    with pytest.raises(UnreadableFile) as info:
        parse(data, path.name, sheet_pattern="^Desember$")
    assert info.value.reason == "no_header"


def test_spreadsheet_numbers_are_exact_never_float() -> None:
    """A non-integral cell is a Decimal; integral doubles (counts, NIK-length numbers) are ints."""
    book = Workbook()
    ws = book.active
    ws.append(["NO", "NILAI PER SUARA", "JUMLAH SUARA", "NIK"])
    ws.append([1, 1200.5, 1543210.0, 3201010101800099])
    row = parse(xlsx_bytes(book), "n.xlsx").tables[0].rows[0][1]
    assert row["nilai_per_suara"] == Decimal("1200.5") and isinstance(row["nilai_per_suara"], Decimal)
    assert row["jumlah_suara"] == 1543210 and isinstance(row["jumlah_suara"], int)
    assert row["nik"] == 3201010101800099


# --- files that cannot be read -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "laporan.csv", "unsupported_format"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "rekap.xls", "unsupported_format"),
        (b"<html><body><table><tr><td>NO</td></tr></table>", "rekap.xls", "unsupported_format"),
        (b"PK\x03\x04garbage that is no zip", "rekap.xlsx", "corrupt_xlsx"),
        (b"this is not a workbook", "rekap.xlsx", "corrupt_xlsx"),
        (b"", "kosong.csv", "empty_file"),
        (b"\x00\x01\x02binary\x00", "data.csv", "unsupported_format"),
    ],
)
def test_unreadable_files_have_a_reason(data: bytes, name: str, reason: str) -> None:
    """Not CSV/XLSX, corrupt or empty: UnreadableFile with a stable reason code."""
    with pytest.raises(UnreadableFile) as info:
        parse(data, name)
    assert info.value.reason == reason


def test_zip_without_workbook_part_is_corrupt_xlsx() -> None:
    """An XLSX whose workbook part is missing cannot be opened: corrupt_xlsx."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("xl/workbook.xml", "<not-really/>")
    with pytest.raises(UnreadableFile) as info:
        parse(buffer.getvalue(), "rusak.xlsx")
    assert info.value.reason == "corrupt_xlsx"


def test_no_header_found() -> None:
    """A file of numbers only has no header row: no_header, naming the rule and not a cell."""
    with pytest.raises(UnreadableFile) as info:
        parse(csv_bytes(["1;2;3", "4;5;6", "3201010101800099;8;9"]))
    assert info.value.reason == "no_header" and "3201010101800099" not in str(info.value)


# --- identity ----------------------------------------------------------------------------------------


def test_revision_of_cells() -> None:
    """Integers stay; dates and date-times become epoch ms (naive ones in UTC); junk is None."""
    assert revision_of("17") == 17 and revision_of(5) == 5 and revision_of(Decimal("3")) == 3
    assert revision_of("2024-07-01 10:11:12") == 1719828672000
    assert revision_of("01/07/2024") == 1719792000000 and revision_of("1-7-2024 10.11") == 1719828660000
    assert revision_of("kemarin") is None and revision_of(None) is None and revision_of(-1) is None


def _ctx(tmp_path: Path, name: str = "drop-bogor") -> AdapterContext:
    return AdapterContext(
        name=name,
        schema="ormas_registration",
        identity=SourceIdentity(system="siormas-bogor", office="32.01", adapter=name),
        state=StateStore(tmp_path / "state.sqlite3"),
        state_dir=tmp_path,
        metrics=Metrics(),
    )


def test_record_ids_from_columns_digest_and_sheet(tmp_path: Path) -> None:
    """id_columns name the record; without them digest/sheet/row; a blank id cell gives None."""
    parsed = parse(csv_bytes(["NO;NO SKT;STATUS", "1;01-00-00/0123/VI/2021;AKTIF", "2;;AKTIF"]))
    ctx = _ctx(tmp_path)
    now = datetime.now(UTC)
    common: dict[str, Any] = {"filename": "a.csv", "digest": "ab" * 32, "revision": 7, "modified_at": now,
                              "make": ctx.record}  # fmt: skip
    by_col = to_records(parsed, config=cfg(tmp_path, id_columns=["no_skt"], meta_keys=True), **common)
    assert [r.source_record_id for r in by_col] == ["01-00-00/0123/VI/2021", None]
    assert by_col[0].revision == 7 and by_col[0].raw["_row"] == 2 and by_col[0].raw["_file"] == "a.csv"
    default = to_records(parsed, config=cfg(tmp_path), **common)
    assert "_row" not in default[0].raw  # off by default: strict mappings see only the columns
    assert [r.source_record_id for r in default] == ["abababababababab/2", "abababababababab/3"]
    assert orjson.loads(default[0].original or b"")["status"] == "AKTIF"
    with pytest.raises(UnreadableFile) as info:
        check_columns(parsed, cfg(tmp_path, id_columns=["nomor_skt"]))
    assert info.value.reason == "missing_columns"


def test_plugin_config_is_strict_and_described() -> None:
    """Unknown keys are refused and every field documents itself."""
    assert PLUGIN.role == "source" and PLUGIN.name == "file_drop"
    with pytest.raises(ValueError):
        FileDropConfig.model_validate({"path": "/x", "surprise": 1})
    assert all(f.description for f in FileDropConfig.model_fields.values())


# --- the folder contract -----------------------------------------------------------------------------


async def _drain(source: FileDropSource, commit: bool = True) -> list[SourceBatch]:
    batches = []
    async for batch in source.read():
        batches.append(batch)
        if commit:
            await batch.commit()
    return batches


async def test_file_moves_to_done_only_after_its_last_batch(tmp_path: Path) -> None:
    """7 rows in batches of 3: the file stays in the inbox until the third commit, then moves."""
    config = cfg(tmp_path, batch_size=3, id_columns=["no_skt_sk_ahu"])
    ctx = _ctx(tmp_path)
    source = FileDropSource(config, ctx)
    await source.start()
    path = write_ormas_csv(config.path, "ormas.csv", ormas_rows(7))
    seen = []
    async for batch in source.read():
        seen.append(len(batch.records))
        assert path.exists()  # not before the commit of the last batch
        await batch.commit()
    assert seen == [3, 3, 1] and not path.exists() and (config.done_path / "ormas.csv").exists()
    assert ctx.state.is_processed(
        "drop-bogor", hashlib.sha256((config.done_path / "ormas.csv").read_bytes()).hexdigest()
    )


async def test_unreadable_file_goes_to_failed_with_a_value_free_report(tmp_path: Path) -> None:
    """A file with no header moves to failed/ with a report naming the reason and no cell value."""
    config = cfg(tmp_path)
    source = FileDropSource(config, _ctx(tmp_path))
    await source.start()
    (config.path / "angka.csv").write_bytes(csv_bytes(["1;3201010101800099;3", "4;5;6"]))
    (config.path / "scan.pdf").write_bytes(b"%PDF-1.4 ...")
    assert await _drain(source) == []
    for name, reason in (("angka.csv", "no_header"), ("scan.pdf", "unsupported_format")):
        assert (config.failed_path / name).exists()
        report_bytes = (config.failed_path / f"{name}.report.json").read_bytes()
        report = orjson.loads(report_bytes)
        assert report["reason"] == reason and report["file"] == name and len(report["sha256"]) == 64
        assert b"3201010101800099" not in report_bytes


async def test_crash_between_confirm_and_move_does_not_resend(tmp_path: Path) -> None:
    """A file whose digest is already processed is only moved to done/: no batch is offered again."""
    config = cfg(tmp_path)
    ctx = _ctx(tmp_path)
    source = FileDropSource(config, ctx)
    await source.start()
    path = write_ormas_csv(config.path, "ormas.csv", ormas_rows(2))
    ctx.state.mark_processed("drop-bogor", hashlib.sha256(path.read_bytes()).hexdigest())
    assert await _drain(source) == []
    assert (config.done_path / "ormas.csv").exists() and not path.exists()


async def test_restart_resumes_after_the_committed_batches(tmp_path: Path) -> None:
    """After 1 of 3 batches committed (then a crash), a new source offers only the remaining rows,
    with the same revision as the first run."""
    config = cfg(tmp_path, batch_size=2, id_columns=["no_skt_sk_ahu"], meta_keys=True)
    ctx = _ctx(tmp_path)
    path = write_ormas_csv(config.path, "ormas.csv", ormas_rows(5))
    first = FileDropSource(config, ctx)
    gen = first.read()
    batch = await gen.__anext__()
    await batch.commit()
    revision = batch.records[0].revision
    await gen.aclose()  # the crash: the second batch was never confirmed
    os.utime(path, (time.time() + 5, time.time() + 5))  # someone touched it; the revision must not change
    os.utime(path, (time.time() - 5, time.time() - 5))
    again = await _drain(FileDropSource(config, ctx))
    rows = [r.raw["_row"] for b in again for r in b.records]
    assert rows == [4, 5, 6] and {r.revision for b in again for r in b.records} == {revision}
    assert (config.done_path / "ormas.csv").exists()


async def test_file_changed_while_read_is_not_moved(tmp_path: Path) -> None:
    """If the file changes before its last commit, it stays in the inbox to be read as new content."""
    config = cfg(tmp_path)
    source = FileDropSource(config, _ctx(tmp_path))
    path = write_ormas_csv(config.path, "ormas.csv", ormas_rows(2))
    gen = source.read()
    batch = await gen.__anext__()
    write_ormas_csv(config.path, "ormas.csv", ormas_rows(3))
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    await batch.commit()
    await gen.aclose()
    assert path.exists() and not (config.done_path / "ormas.csv").exists()


async def test_temporary_and_lock_files_are_ignored(tmp_path: Path) -> None:
    """'.tmp', '~$' lock files, hidden files and files still being written are left alone."""
    config = cfg(tmp_path, settle_s=60)
    source = FileDropSource(config, _ctx(tmp_path))
    await source.start()
    for name in ("rekap.xlsx.tmp", "~$rekap.xlsx", ".hidden.csv"):
        (config.path / name).write_bytes(b"NO;NAMA\r\n1;A\r\n")
    write_ormas_csv(config.path, "fresh.csv", ormas_rows(1))  # modified just now: not settled
    assert await _drain(source) == []
    assert sorted(p.name for p in config.path.iterdir() if p.is_file()) == [
        ".hidden.csv", "fresh.csv", "rekap.xlsx.tmp", "~$rekap.xlsx"]  # fmt: skip


async def test_same_name_in_done_gets_the_digest(tmp_path: Path) -> None:
    """A second export with the same name lands beside the first in done/, not over it."""
    config = cfg(tmp_path)
    source = FileDropSource(config, _ctx(tmp_path))
    await source.start()
    write_ormas_csv(config.path, "ormas.csv", ormas_rows(1))
    await _drain(source)
    write_ormas_csv(config.path, "ormas.csv", ormas_rows(2))
    await _drain(FileDropSource(config, _ctx(tmp_path)))
    assert len(list(config.done_path.glob("ormas*.csv"))) == 2


async def test_adapter_contract_kit(tmp_path: Path) -> None:
    """The hub's source contract kit passes: the shared sample through a node, state only in commits,
    nothing again once committed."""
    import tomllib

    from hub.testing.contract import check_source_contract

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ormas_register.csv").write_bytes((FIXTURES / "ormas_register.csv").read_bytes())
    mapping = tomllib.loads((FIXTURES / "ormas_mapping.toml").read_text())
    report = await check_source_contract(
        PLUGIN,
        {"path": str(inbox), "settle_s": 0, "stop_when_idle": True, "id_columns": ["no_skt_sk_ahu"]},
        schema="ormas_registration",
        expect_records=3,
        mapping=mapping,
        office="32.01",
    )
    assert report.records_read == 3 and report.applied == 3 and report.reread == 0
