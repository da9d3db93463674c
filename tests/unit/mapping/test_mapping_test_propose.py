"""``simpul mapping propose`` and ``simpul mapping test`` on the raw samples of tests/fixtures/raw: every
proposal is accepted by ``check-config``, comments every schema field, and matches what its sample shows;
``mapping test --json`` prints one object with the totals; a skip rule's rows land in "skipped"."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hub.cli.root import main
from hub.kit.propose import propose
from hub.kit.propose_fields import targets
from hub.kit.propose_names import name_score, words
from hub.kit.propose_values import TEST_ROW
from schemas.catalog import get as get_schema

RAW = Path(__file__).resolve().parents[2] / "fixtures" / "raw"
SAMPLES = [
    ("soap", "research_permit", "32.01", "soap_izin_penelitian.xml"),
    ("file_drop", "foreign_national_monitoring", "92", "rekap_pora_papua_barat.xlsx"),
    ("rest_poll", "conflict_incident", "32.73", "rest_konflik_page1.json"),
    ("sql_poll", "ormas_registration", "32.73", "ormas_mariadb_export.csv"),
    ("file_drop", "party_financial_aid", "32", "bankeu_parpol_rekap.csv"),
    ("file_drop", "early_warning", "72.01", "form_deteksi_dini.csv"),
]
# (read, valid) of `mapping test --json` on each proposal as printed, no hand edit.
AS_PROPOSED = {
    "soap_izin_penelitian.xml": (3, 3),
    "rekap_pora_papua_barat.xlsx": (4, 4),
    "rest_konflik_page1.json": (3, 3),
    "ormas_mariadb_export.csv": (4, 0),  # jenis_registrasi, tanggal_terbit and the officer need a hand
    "bankeu_parpol_rekap.csv": (3, 3),
    "form_deteksi_dini.csv": (5, 0),  # sumber_id: a form has no report number
}


def _propose(capsys: pytest.CaptureFixture[str], kind: str, schema: str, office: str, sample: str) -> str:
    args = ["mapping", "propose", "--kind", kind, "--schema", schema, "--office", office]
    assert main([*args, "--sample", str(RAW / sample)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(("kind", "schema", "office", "sample"), SAMPLES)
def test_proposal_is_a_valid_config_with_a_comment_on_every_field(
    kind: str, schema: str, office: str, sample: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Placed in a node config, the proposal passes `simpul check-config`; every schema leaf field has a
    line: `field = rule   # how` or `# field: TODO ...`."""
    text = _propose(capsys, kind, schema, office, sample)
    node = tmp_path / "node.toml"
    node.write_text('node = "n"\nlevel = "kabkota"\ndev_mode = true\n\n' + text, encoding="utf-8")
    assert main(["check-config", str(node)]) == 0, capsys.readouterr()
    fields_part = text[text.index("[sources.mapping.fields]") :]
    for target in targets(get_schema(schema).model):
        if (
            "." in target.path
            and target.kind != "objects"
            and target.path.split(".")[0]
            in {t.path for t in targets(get_schema(schema).model) if t.kind == "objects"}
        ):
            continue
        line = re.search(
            rf'^(?:"?{re.escape(target.path)}"? = .*   # .+|# {re.escape(target.path)}: .+)$',
            fields_part,
            re.M,
        )
        assert line, (target.path, fields_part)


@pytest.mark.parametrize(("kind", "schema", "office", "sample"), SAMPLES)
def test_mapping_test_json_on_the_proposal(
    kind: str, schema: str, office: str, sample: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a config, `mapping test` tests the proposal: exactly one JSON object with read, skipped and
    records (id, ok, payload or null, issues); no NIK of the sample in clear."""
    args = ["mapping", "test", "--kind", kind, "--schema", schema, "--office", office, "--json"]
    code = main([*args, "--sample", str(RAW / sample)])
    out = capsys.readouterr().out
    result = json.loads(out)
    assert set(result) == {"read", "skipped", "records"}
    read, valid = AS_PROPOSED[sample]
    assert result["read"] == read and sum(r["ok"] for r in result["records"]) == valid
    assert code == (0 if valid == read else 1)
    for record in result["records"]:
        assert set(record) == {"id", "ok", "payload", "issues", "notes"}
        assert (record["payload"] is None) == (not record["ok"])
    for nik in ("3201010101800099", "3273011203700099", "7201041203900099"):
        assert nik not in out


def test_soap_proposal_reaches_attributes_countries_and_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    text = _propose(capsys, *SAMPLES[0])
    assert 'kode_wilayah = { region = { code = "penerbit/@kodeBps" } }' in text
    assert 'lokasi = { path = "lokasi/@kodeWilayah", split = [",", ";"] }' in text
    assert '"pemohon.kewarganegaraan" = { path = "pemohon.kewarganegaraan", parse = "country" }' in text
    assert '"pemohon.nik_token" = { path = "pemohon.nik", pii = "nik" }' in text
    assert '"pemohon.paspor_token" = { path = "pemohon.noPaspor", pii = "passport" }' in text
    assert 'id_field = "@noIzin"' in text
    # No change stamp in the response: a content-derived revision, said why, no TODO left for it.
    assert re.search(r"^revision = \{ from_content = true \}   # the source has no change stamp", text, re.M)
    assert "const = 1" not in text


def test_workbook_proposal_uses_two_row_header_groups(capsys: pytest.CaptureFixture[str]) -> None:
    """Group-first names: the kab/kota column is `kegiatan_kab_kota`, found by its words; the subject
    becomes one object per row; the case number (the schema's identity), not the passport, is the id."""
    text = _propose(capsys, *SAMPLES[1])
    assert (
        'kode_wilayah = { region = { kabkota = "kegiatan_kab_kota", kecamatan = "kegiatan_distrik" } }'
        in text
    )
    assert 'paspor_token = { path = "identitas_no_paspor", pii = "passport" }' in text
    assert 'kewarganegaraan = { path = "identitas_kewarganegaraan", parse = "country" }' in text
    assert re.search(r'^id = "no_kasus"', text, re.M)


def test_form_proposal_timestamp_drop_and_region_typo(capsys: pytest.CaptureFixture[str]) -> None:
    """reported_at and waktu_laporan from the form's timestamp; the reporter's name dropped; the trailing
    unnamed column is column_14; a desa that is not found is flagged TODO, not hidden; the test row gets
    a skip rule; free-text times are left unknown (the share said); the multi-answer column maps to its
    first answer where the schema keeps one value, and says so."""
    text = _propose(capsys, *SAMPLES[5])
    assert 'reported_at = { path = "timestamp", parse = "datetime" }' in text
    assert 'drop = ["nama_pelapor"]' in text and "column_14" in text
    assert re.search(r'^kode_wilayah = .*desa = "desa_kelurahan".*TODO: 1 record', text, re.M)
    assert re.search(
        r'^waktu_kejadian = \{ path = "waktu_kejadian", parse = "datetime", on_unparseable = "unknown" \}'
        r"   # .*2 of 4 sample value\(s\) \(50%\) do not parse",
        text,
        re.M,
    )
    assert re.search(
        r"^\[\[sources.mapping.skip\]\]   # 1 sample row\(s\) look like test submissions", text, re.M
    )
    skip = tomllib.loads(text)["sources"][0]["mapping"]["skip"]
    assert skip == [{"reason": "test submission", "when": {"path": "judul_laporan", "matches": TEST_ROW}}]
    assert re.search(
        r"^sumber = .*\"FKDM, Masyarakat\" = \"fkdm\".*\"Media, Aparat\" = \"media\"", text, re.M
    )
    assert "keeps one value here: each maps to its first answer" in text
    # The test row is not what the proposal was made from: the id column stays distinct without it.
    assert re.search(r'^id = "timestamp"', text, re.M)


def test_test_rows_are_found_by_a_column_of_few_matches() -> None:
    """Only a column matching in fewer than half the rows makes a skip rule, and a report that merely
    contains "mencoba" is not a test row; personal columns are never the rule's column."""
    from hub.kit.propose_values import _test_rows
    from hub.model.records import SourceRecord
    from schemas.envelope import SourceIdentity

    source = SourceIdentity(system="s", office="72.01", adapter="a")

    def rows(*judul: str, pelapor: str = "Ahmad") -> list[SourceRecord]:
        return [SourceRecord("early_warning", {"judul": j, "nama_pelapor": pelapor}, source) for j in judul]

    rule, kept = _test_rows(rows("Tes formulir", "Warga mencoba menutup jalan", "Banjir", "Demo"))
    assert (
        rule is not None
        and rule[1] == 1
        and [r.raw["judul"] for r in kept] == ["Warga mencoba menutup jalan", "Banjir", "Demo"]
    )
    assert _test_rows(rows("Warga mencoba menutup jalan", "Banjir", "Demo"))[0] is None
    assert _test_rows(rows("test", "uji coba"))[0] is None  # every row: not a test row, the wrong column
    assert _test_rows(rows("Banjir", "Demo", "Longsor", pelapor="Dummy"))[0] is None


def test_table_export_proposal_treats_zero_dates_as_none(capsys: pytest.CaptureFixture[str]) -> None:
    text = _propose(capsys, *SAMPLES[3])
    assert '"0000-00-00", "0000-00-00 00:00:00"]' in text
    assert 'key_column = "id"' in text and 'deleted_at_column = "deleted_at"' in text
    assert 'berlaku_sampai = { path = "tgl_berlaku", parse = "date" }' in text


def test_names_match_by_words_not_by_substrings() -> None:
    """Abbreviations and synonyms meet; a group prefix does not hide the field's own word; an unrelated
    column containing a word of the field is not enough."""
    assert words("tglTerbit") == ["tanggal", "terbit"] and words("NO. KASUS") == ["nomor", "kasus"]
    assert name_score("tanggal_terbit", "tgl_terbit") > 0.9
    assert name_score("kewarganegaraan", "identitas_kewarganegaraan") > 0
    assert name_score("sumber_id", "sumber_informasi") == 0  # an id needs an id-like column
    assert name_score("nomor_kasus", "no") == 0


def test_mapping_test_with_a_source_file_and_skip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--source FILE.toml is tested instead of the proposal; a row the mapping's skip rule drops goes into
    "skipped" with its reason and is neither a record nor an issue."""
    kind, schema, office, sample = SAMPLES[4]
    block = tomllib.loads(propose(kind, schema, office, RAW / sample).text)
    mapping = block["sources"][0]["mapping"]
    mapping["fields"]["status_lpj"]["map"]["Sudah LPJ"] = "lpj_diserahkan"
    mapping["skip"] = [{"reason": "singkatan is PKS", "when": {"path": "singkatan", "in": ["pks"]}}]
    source = tmp_path / "source.toml"
    source.write_text(_toml(block), encoding="utf-8")
    args = ["mapping", "test", "--kind", kind, "--schema", schema, "--office", office, "--json"]
    assert main([*args, "--source", str(source), "--sample", str(RAW / sample)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["read"] == 3 and len(result["records"]) == 2
    skip = [s for s in result["skipped"] if s["why"].startswith("skip rule")]
    assert len(skip) == 1 and skip[0]["why"] == "skip rule: singkatan is PKS"
    assert re.fullmatch(r"record 2 \(id [0-9a-f]{16}/3\)", skip[0]["where"])  # the file's row 3
    stored = {r["payload"]["singkatan_partai"]: r["payload"]["status_lpj"] for r in result["records"]}
    assert stored == {"GERINDRA": "lpj_diserahkan", "GOLKAR": "belum_lpj"}
    assert all(r["issues"] == [] and r["notes"] == [] for r in result["records"])
    # The human report says the same: the row is skipped by rule, two records, both valid.
    assert main([*args[:-1], "--source", str(source), "--sample", str(RAW / sample)]) == 0
    human = capsys.readouterr().out
    assert re.search(r"skipped record 2 \(id [0-9a-f]{16}/3\): skip rule: singkatan is PKS", human)
    assert "2 record(s): 2 valid, 0 invalid" in human


def test_mapping_test_needs_a_config_or_kind_schema_office(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mapping", "test", "--sample", str(RAW / "bankeu_parpol_rekap.csv")]) == 2
    assert "give --config and --adapter, or --kind, --schema and --office" in capsys.readouterr().err
    args = ["mapping", "propose", "--kind", "fake_sink", "--schema", "early_warning", "--office", "72.01"]
    assert main([*args, "--sample", str(RAW / "form_deteksi_dini.csv")]) == 2


def _toml(data: dict[str, Any]) -> str:
    from hub.kit.propose_render import toml_value

    entry = data["sources"][0]
    lines = ["[[sources]]", *(f"{k} = {toml_value(v)}" for k, v in entry.items() if not isinstance(v, dict))]
    lines += ["[sources.config]", *(f"{k} = {toml_value(v)}" for k, v in entry["config"].items())]
    mapping = entry["mapping"]
    lines += ["[sources.mapping]", *(f"{k} = {toml_value(v)}" for k, v in mapping.items() if k != "fields")]
    lines += ["[sources.mapping.fields]", *(f'"{k}" = {toml_value(v)}' for k, v in mapping["fields"].items())]
    return "\n".join(lines) + "\n"


def _worked_examples() -> list[list[str]]:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "adapters.md").read_text(encoding="utf-8")
    table = docs[docs.index("## Worked examples per source kind") :].split("\n\n")[2]
    rows = [[c.strip().strip("`") for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    return [r for r in rows if r[6].isdigit()]  # a hand-written config has no proposal to compare with


@pytest.mark.parametrize("row", _worked_examples(), ids=lambda r: r[1])
def test_worked_examples_table_matches_the_configs(
    row: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The docs' table of worked examples: each config runs on its sample with the totals the table gives,
    and differs from a fresh `mapping propose` by exactly the lines the table says were edited by hand."""
    import difflib

    _, config, sample, read, skipped, valid, edited = row
    path = Path(__file__).resolve().parents[3] / "ops" / "examples" / config
    entry = tomllib.loads(path.read_text(encoding="utf-8"))["sources"][0]
    args = ["mapping", "test", "--config", str(path), "--adapter", entry["name"], "--json"]
    main([*args, "--sample", str(RAW / sample)])
    result = json.loads(capsys.readouterr().out)
    totals = (result["read"], len(result["skipped"]), sum(r["ok"] for r in result["records"]))
    assert totals == (int(read), int(skipped), int(valid))
    proposal = propose(entry["kind"], entry["schema"], entry["office"], RAW / sample).text
    ours = path.read_text(encoding="utf-8")
    block = ours[ours.index("[[sources]]") :].splitlines()
    diff = difflib.ndiff(proposal[proposal.index("[[sources]]") :].splitlines(), block)
    assert sum(1 for line in diff if line.startswith("+ ")) == int(edited)


def test_a_period_in_one_cell_gives_both_dates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ "15 Jan s.d. 20 Feb 2024" in a PERIODE column: periode_mulai and periode_selesai both read it, as
    the start and the end of a date_range, and the records validate."""
    sample = tmp_path / "periode.csv"
    sample.write_text(
        "NO;NO. KASUS;NO PASPOR;KEWARGANEGARAAN;IZIN TINGGAL;KEGIATAN;KABUPATEN;URAIAN;PERIODE;PENETAPAN\n"
        "1;PORA/PB/2024/009;AB7654321;Australia;KITAS;Penelitian;Manokwari;Survei;15 Jan s.d. 20 Feb 2024;"
        "Dalam Pemantauan\n2;PORA/PB/2024/010;AB7654322;Jepang;Bebas Visa;Wisata;Manokwari;Selam;"
        "3-10 Februari 2024;Dalam Pemantauan\n",
        encoding="utf-8",
    )
    args = ["--kind", "file_drop", "--schema", "foreign_national_monitoring", "--office", "92"]
    assert main(["mapping", "propose", *args, "--sample", str(sample)]) == 0
    text = capsys.readouterr().out
    assert 'periode_mulai = { path = "periode", parse = "date_range", part = "start" }' in text
    assert 'periode_selesai = { path = "periode", parse = "date_range", part = "end" }' in text
    assert main(["mapping", "test", *args, "--sample", str(sample), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)["records"]
    assert [(r["payload"]["periode_mulai"], r["payload"]["periode_selesai"]) for r in records] == [
        ("2024-01-15", "2024-02-20"),
        ("2024-02-03", "2024-02-10"),
    ]


def test_mapping_test_shows_notes_masked_as_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each record's notes are in the output, as the envelope would store them: an unparseable free-text
    time keeps its raw text; a personal field's raw text is masked (``***``) even on a record that fails
    validation (the note comes from the mapping, the masking from the schema's PII paths)."""
    kind, schema, office, sample = SAMPLES[5]
    example = Path(__file__).resolve().parents[3] / "ops/examples/form_deteksi_dini_banggai.toml"
    block = {"sources": tomllib.loads(example.read_text(encoding="utf-8"))["sources"]}
    fields = block["sources"][0]["mapping"]["fields"]
    fields["uraian"] = {"path": "uraian_kejadian", "parse": "int", "on_unparseable": "unknown"}
    source = tmp_path / "source.toml"
    source.write_text(_toml(block), encoding="utf-8")
    args = ["mapping", "test", "--kind", kind, "--schema", schema, "--office", office]
    assert main([*args, "--json", "--source", str(source), "--sample", str(RAW / sample)]) == 1
    out = capsys.readouterr().out
    records = json.loads(out)["records"]
    assert len(records) == 4 and not any(r["ok"] for r in records)  # uraian is required
    queue = next(r for r in records if any(n["loc"] == "waktu_kejadian" for n in r["notes"]))
    assert queue["ok"] is False
    assert [(i["stage"], i["loc"], i["rule"]) for i in queue["issues"]] == [
        ("schema", "data.uraian", "missing")
    ]
    assert queue["notes"] == [
        {
            "loc": "waktu_kejadian",
            "rule": "value_unparseable",
            "detail": "date_format; left unknown; raw text: kemarin malam",
        },
        {
            "loc": "uraian",
            "rule": "value_unparseable",
            "detail": "number_format; left unknown; raw text: ***",
        },
    ]
    assert "Antrian kendaraan" not in out and "7201041203900099" not in out
    main([*args, "--source", str(source), "--sample", str(RAW / sample)])
    human = capsys.readouterr().out
    assert "  note     uraian  value_unparseable  number_format; left unknown; raw text: ***" in human
    assert (
        "  note     waktu_kejadian  value_unparseable  date_format; left unknown; raw text: kemarin malam"
        in human
    )


def test_a_negated_value_never_maps_to_the_plain_code() -> None:
    """ "TIDAK AKTIF" shares the word aktif with the code `aktif` but means the opposite: it is left for a
    person to decide (a wrong code that validates is worse than a TODO); "Sudah LPJ" is not `belum_lpj`."""
    from hub.kit.propose_values import _enum_map

    table, missing = _enum_map(["AKTIF", "TIDAK AKTIF"], ["aktif", "kedaluwarsa", "dibekukan"])
    assert table == {"AKTIF": "aktif"} and missing == ["TIDAK AKTIF"]
    table, missing = _enum_map(["Sudah LPJ", "Belum LPJ"], ["sudah_lpj", "belum_lpj"])
    assert table == {"Sudah LPJ": "sudah_lpj", "Belum LPJ": "belum_lpj"}
    table, _ = _enum_map(["Sudah LPJ"], ["belum_lpj", "lpj_diterima"])
    assert table.get("Sudah LPJ") != "belum_lpj"
