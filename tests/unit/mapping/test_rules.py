"""Every rule kind of a field: paths, constants, templates, value maps, parsers, PII, lists, python."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.unit.mapping.support import issues_of, map_one

TEST_NIK = "3201010101800099"


def test_source_paths_nested_list_index_and_loose_keys() -> None:
    """Dotted paths reach nested objects and list items; keys match ignoring case and punctuation."""
    raw = {
        "laporan": {"lokasi": {"kab": "Kab. Bogor"}, "pihak": [{"nama": "Warga"}, {"nama": "PT A"}]},
        "NO. SKT/SK AHU": "01/02",
        "NAMA ORMAS": "Gerakan",
    }
    fields = {
        "a": "laporan.lokasi.kab",
        "b": "laporan.pihak.1.nama",
        "c": "NO. SKT/SK AHU",
        "d": "nama_ormas",
    }
    assert map_one(fields, raw).payload == {"a": "Kab. Bogor", "b": "PT A", "c": "01/02", "d": "Gerakan"}


def test_missing_and_empty_values_are_left_out() -> None:
    """Absent paths, out-of-range indexes and 'no value' texts ("", "-", "N/A") produce no field."""
    raw = {"a": "", "b": "-", "c": "N/A", "d": None, "list": [1]}
    fields = {"a": "a", "b": "b", "c": "c", "d": "d", "e": "nope", "f": "list.5"}
    assert map_one(fields, raw).payload == {}


def test_none_values_can_be_overridden() -> None:
    """A rule's none_values replaces the mapping's ("-" kept, "TIDAK ADA" dropped)."""
    fields = {
        "a": {"path": "a", "none_values": ["tidak ada"]},
        "b": {"path": "b", "none_values": ["tidak ada"]},
    }
    assert map_one(fields, {"a": "-", "b": "TIDAK ADA"}).payload == {"a": "-"}


def test_constant_template_and_default() -> None:
    """const gives a fixed value, template fills placeholders, default fills a missing value."""
    fields = {
        "lingkup": {"const": "kabupaten_kota"},
        "nomor": {"template": "{tahun}/{kode}/{partai}"},
        "korban.meninggal": {"path": "md", "parse": "int", "default": 0},
        "flag": {"const": False},
    }
    raw = {"tahun": "2024", "kode": 32, "partai": "PCN", "md": "-"}
    payload = map_one(fields, raw).payload
    assert payload == {
        "lingkup": "kabupaten_kota",
        "nomor": "2024/32/PCN",
        "korban": {"meninggal": 0},
        "flag": False,
    }


def test_template_with_missing_placeholder() -> None:
    """A template whose placeholder has no value is an issue naming the placeholder path."""
    issues = issues_of({"nomor": {"template": "{tahun}/{partai}"}}, {"tahun": "2024"})
    assert [(i.loc, i.rule) for i in issues] == [("nomor", "missing")] and "{partai}" in issues[0].message


def test_value_map_is_case_and_space_insensitive() -> None:
    """ "  PROSES " and "selesai" hit the map's Proses and Selesai."""
    rule = {"path": "s", "map": {"Baru": "baru", "Proses": "proses", "Selesai": "selesai"}}
    assert map_one({"status": rule}, {"s": "  PROSES "}).payload == {"status": "proses"}
    assert map_one({"status": rule}, {"s": "sElEsAi"}).payload == {"status": "selesai"}


def test_value_map_regex_and_otherwise() -> None:
    """Keys "re:..." are searched in order after exact keys; "*" catches the rest."""
    rule = {"path": "n", "map": {"re:^ahu-": "sk_ahu", "*": "skt"}}
    assert map_one({"j": rule}, {"n": "AHU-0001234.AH.01.07"}).payload == {"j": "sk_ahu"}
    assert map_one({"j": rule}, {"n": "01-00-00/0123/VI/2021"}).payload == {"j": "skt"}


def test_unmapped_value_is_an_error_listing_the_known_keys() -> None:
    """A value not in a map without "*" is value_unmapped; the message lists the map, not the value."""
    issues = issues_of(
        {"status": {"path": "s", "map": {"Baru": "baru", "Proses": "proses"}}}, {"s": "Ditunda"}
    )
    assert issues[0].rule == "value_unmapped" and "Baru, Proses" in issues[0].message
    assert "Ditunda" not in issues[0].message


def test_split_then_map_each_item() -> None:
    """split cuts text into a list; map and parse then apply to every item."""
    rule = {"path": "b", "split": [",", "/"], "map": {"sosial": "Sosial", "budaya": "Budaya", "*": "Lainnya"}}
    assert map_one({"bidang": rule}, {"b": "SOSIAL/ Budaya, olahraga"}).payload == {
        "bidang": ["Sosial", "Budaya", "Lainnya"]
    }


def test_source_lists_are_processed_item_by_item() -> None:
    """A list in the source is parsed item by item; empty items are dropped."""
    assert map_one({"n": {"path": "xs", "parse": "int"}}, {"xs": ["1", "-", "2.000"]}).payload == {
        "n": [1, 2000]
    }


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ({"parse": "int"}, "1.543.210", 1543210),
        ({"parse": "decimal", "style": "point"}, "-0.9512", Decimal("-0.9512")),
        ({"parse": "rupiah"}, "Rp 15.000.000,-", Decimal("15000000")),
        ({"parse": "bool"}, "Ya", True),
        ({"parse": "date"}, "3 Feb 2023", date(2023, 2, 3)),
        ({"parse": "date_range", "part": "start"}, "15 Jan s.d. 20 Feb 2024", date(2024, 1, 15)),
        ({"parse": "date_range", "part": "end"}, "15 Jan s.d. 20 Feb 2024", date(2024, 2, 20)),
        ({"parse": "years"}, "5 Tahun", 5),
        ({"parse": "phone"}, "0812-3456-7890", "+6281234567890"),
        ({"parse": "text"}, Decimal("1200.00"), "1200.00"),
        ({"parse": "text"}, 117, "117"),
        ({"case": "title"}, "KAB. BOGOR", "Kab. Bogor"),
        ({"case": "upper"}, "pcn", "PCN"),
    ],
)
def test_parsers_as_rules(rule: dict[str, object], value: object, expected: object) -> None:
    """Each parser name works inside a rule."""
    assert map_one({"x": {"path": "v", **rule}}, {"v": value}).payload == {"x": expected}


def test_datetime_rule_with_time_column_and_zones() -> None:
    """tgl + jam become one aware datetime; auto takes the zone of the record's region, else the office."""
    fields = {
        "kode_wilayah": {"const": "72.01"},
        "waktu": {"path": "tgl", "parse": "datetime", "time": "jam"},
        "waktu_wib": {"path": "tgl", "parse": "datetime", "time": "jam", "tz": "WIB"},
    }
    payload = map_one(fields, {"tgl": "25/01/2024", "jam": "14.30"}, office="32.01").payload
    assert payload["waktu"].utcoffset() == timedelta(hours=8)  # Sulawesi Tengah: WITA
    assert payload["waktu_wib"].utcoffset() == timedelta(hours=7)
    office = map_one(
        {"w": {"path": "t", "parse": "datetime"}}, {"t": "2024-01-25 10:00"}, office="96.01"
    ).payload
    assert office["w"].utcoffset() == timedelta(hours=9)


def test_datetime_without_time_uses_time_default_or_fails() -> None:
    """An empty jam column falls back to time_default; without one it is time_missing."""
    rule = {"path": "tgl", "parse": "datetime", "time": "jam"}
    raw = {"tgl": "25/01/2024", "jam": ""}
    assert issues_of({"w": rule}, raw)[0].rule == "time_missing"
    stamp = map_one({"w": {**rule, "time_default": "00:00"}}, raw).payload["w"]
    assert stamp == datetime.fromisoformat("2024-01-25T00:00:00+07:00")


def test_end_date_rule_reads_the_start_column() -> None:
    """ "5 Tahun" from TGL TERBIT "12-06-2021" ends 2026-06-12; "-" is no end."""
    rule = {"path": "masa", "parse": "end_date", "start": "tgl"}
    assert map_one({"sampai": rule}, {"masa": "5 Tahun", "tgl": "12-06-2021"}).payload == {
        "sampai": date(2026, 6, 12)
    }
    assert map_one({"sampai": rule}, {"masa": "-", "tgl": "12-06-2021"}).payload == {}


def test_pii_nik_redact_and_passport() -> None:
    """nik: a checked clear NIK for a NikToken field; redact: NIKs/phones out of text; passport: cleaned."""
    fields = {
        "nik_token": {"path": "nik", "pii": "nik"},
        "kronologi": {"path": "k", "pii": "redact"},
        "paspor": {"path": "p", "pii": "passport"},
    }
    raw = {"nik": "3201 0101 0180 0099", "k": f"Sdr. X (NIK {TEST_NIK}) 0812-3456-7890", "p": "a1234567"}
    assert map_one(fields, raw).payload == {
        "nik_token": TEST_NIK,
        "kronologi": "Sdr. X (NIK [NIK]) [TELEPON]",
        "paspor": "A1234567",
    }


def test_rows_from_flat_columns() -> None:
    """pengurus rows from KETUA / NIK KETUA and SEKRETARIS columns; an empty row is left out."""
    fields = {
        "pengurus": {
            "rows": [
                {
                    "jabatan": {"const": "ketua"},
                    "nama": "KETUA",
                    "nik_token": {"path": "NIK KETUA", "pii": "nik"},
                },
                {"jabatan": {"const": "sekretaris"}, "nama": "SEKRETARIS"},
                {"jabatan": {"const": "bendahara"}, "nama": "BENDAHARA"},
            ]
        }
    }
    raw = {"KETUA": "H. Dedi", "NIK KETUA": TEST_NIK, "SEKRETARIS": "Iis", "BENDAHARA": ""}
    assert map_one(fields, raw).payload == {
        "pengurus": [
            {"jabatan": "ketua", "nama": "H. Dedi", "nik_token": TEST_NIK},
            {"jabatan": "sekretaris", "nama": "Iis"},
        ]
    }


def test_rows_issue_locations_follow_the_output_list() -> None:
    """A bad NIK in the second kept row is filed under pengurus.1.nik_token."""
    fields = {
        "pengurus": {
            "rows": [
                {"jabatan": {"const": "ketua"}, "nik_token": {"path": "n1", "pii": "nik"}},
                {"jabatan": {"const": "bendahara"}, "nik_token": {"path": "n2", "pii": "nik"}},
            ]
        }
    }
    issues = issues_of(fields, {"n1": TEST_NIK, "n2": "12345"})
    assert [(i.loc, i.rule) for i in issues] == [("pengurus.1.nik_token", "nik_format")]


def test_each_item_of_a_source_list_and_of_a_split() -> None:
    """each builds one object per item: paths read the item, "@" is the item, "$." the whole record."""
    fields = {
        "pihak": {
            "each": "pihak",
            "fields": {"nama_pihak": "nama", "perkiraan_jumlah": {"path": "jml", "parse": "int"}},
        },
        "pihak2": {"each": {"path": "teks", "split": [" vs "]}, "fields": {"nama": "@", "kab": "$.kab"}},
    }
    raw = {"pihak": [{"nama": "Warga", "jml": "40"}, {"nama": "PT A"}, {}], "teks": "A vs B", "kab": "Bogor"}
    assert map_one(fields, raw).payload == {
        "pihak": [{"nama_pihak": "Warga", "perkiraan_jumlah": 40}, {"nama_pihak": "PT A"}],
        "pihak2": [{"nama": "A", "kab": "Bogor"}, {"nama": "B", "kab": "Bogor"}],
    }


def test_python_escape_hatch_for_a_field_and_the_payload() -> None:
    """python: a whole-record function, a transform after the rule's steps, and a payload post-processor."""
    fields = {
        "total": {"python": "tests.unit.mapping.funcs:victims"},
        "kode": {"path": "k", "python": "tests.unit.mapping.funcs:shout"},
        "korban.luka": {"path": "korban_luka", "parse": "int"},
    }
    raw = {"korban_md": "1", "korban_luka": "12", "k": "pcn"}
    payload = map_one(fields, raw, python="tests.unit.mapping.funcs:add_skala").payload
    assert payload == {"total": 13, "kode": "PCN", "korban": {"luka": 12}, "skala": "kabupaten_kota"}


def test_python_failures_never_carry_the_value() -> None:
    """An exception is python_failed naming the function and class only; a MappingError keeps its issues."""
    issues = issues_of(
        {"x": {"path": "nik", "python": "tests.unit.mapping.funcs:explode"}}, {"nik": TEST_NIK}
    )
    assert issues[0].rule == "python_failed" and "ValueError" in issues[0].message
    assert TEST_NIK not in str([i.as_dict() for i in issues])
    issues = issues_of({"x": {"path": "a", "python": "tests.unit.mapping.funcs:refuse"}}, {"a": "1"})
    assert [(i.loc, i.rule) for i in issues] == [("x", "custom_rule")]


def test_latest_of_several_paths() -> None:
    """pick = latest parses every candidate and keeps the greatest (a soft delete after the last update)."""
    rule = {"path": ["updated_at", "deleted_at"], "pick": "latest", "parse": "epoch_ms", "tz": "WIB"}
    both = map_one({"r": rule}, {"updated_at": "2023-08-01 09:00:00", "deleted_at": "2024-01-05 10:00:00"})
    only = map_one({"r": rule}, {"updated_at": "2023-08-01 09:00:00", "deleted_at": None})
    assert both.payload["r"] == 1704423600000 and only.payload["r"] == 1690855200000
    first = map_one({"r": {"path": ["a", "b"]}}, {"a": "", "b": "x"})
    assert first.payload == {"r": "x"}


def test_required_field_missing() -> None:
    """required = true makes a missing value a mapping issue (else the schema decides)."""
    assert [(i.loc, i.rule) for i in issues_of({"nama": {"path": "n", "required": True}}, {"n": " "})] == [
        ("nama", "missing")
    ]
