"""The adapter kit: sample reading, `simpul mapping test`, `simpul adapters list|show|new` (the scaffold's
own tests run in a subprocess), and the contract test kit against good and broken adapters."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.adapters.model import AdapterContext, AdapterPlugin, SourceBatch
from hub.cli.root import main
from hub.testing.contract import (
    check_config_model,
    check_sink_contract,
    check_source_contract,
    example_envelopes,
)
from hub.testing.fakes import FakeSink, FakeSourceConfig, fake_sink_plugin, fake_source_plugin
from tests.helpers import SAMPLES, item

ROOT = Path(__file__).resolve().parents[2]
TEST_NIK = "3201010101800099"
CSV_HEADER = "NO;NAMA ORMAS;NO. SKT/SK AHU;TGL TERBIT;MASA BERLAKU;KECAMATAN;KETUA;NIK KETUA;STATUS"


# --- simpul mapping test -------------------------------------------------------------------------------

ORMAS_TOML = """
dev_mode = true
[[sources]]
name = "ormas-bogor"
kind = "file_drop"
schema = "ormas_registration"
system = "ormas-bogor"
office = "32.01"
[sources.config]
path = "/srv/simpul/inbox/ormas"
[sources.mapping]
version = "t/1"
id = "no_skt_sk_ahu"
revision = { const = 1 }
[sources.mapping.fields]
nomor_registrasi = "no_skt_sk_ahu"
nama = "nama_ormas"
jenis_registrasi = { const = "skt" }
bentuk = { const = "tidak_berbadan_hukum" }
lingkup = { const = "kabupaten_kota" }
bidang_kegiatan = { const = ["Sosial"] }
alamat_sekretariat = { const = "Jl. Raya" }
kode_wilayah = { region = { kecamatan = "kecamatan" } }
tanggal_terbit = { path = "tgl_terbit", parse = "date" }
berlaku_sampai = { path = "masa_berlaku", parse = "end_date", start = "tgl_terbit" }
status = { path = "status", map = { AKTIF = "aktif" } }
[[sources.mapping.fields.pengurus.rows]]
jabatan = { const = "ketua" }
nama = "ketua"
nik_token = { path = "nik_ketua", pii = "nik" }
"""


def write_case(tmp_path: Path, rows: list[str], config: str = ORMAS_TOML, suffix: str = ".toml") -> list[str]:
    cfg = tmp_path / f"node{suffix}"
    cfg.write_text(config, encoding="utf-8")
    sample = tmp_path / "register.csv"
    sample.write_text("\n".join([CSV_HEADER, *rows]) + "\n", encoding="utf-8")
    return ["mapping", "test", "--config", str(cfg), "--adapter", "ormas-bogor", "--sample", str(sample)]


GOOD = f"1;Gerakan Pemuda;01-00-00/0123/VI/2021;12-06-2021;5 Tahun;Cibinong;H. Dedi;{TEST_NIK};AKTIF"
BAD = f"2;Budi Santoso Foundation;{TEST_NIK};31-02-2023;lama;Kota Antah;Budi Santoso;{TEST_NIK[:-1]};TIDUR"


def test_mapping_test_prints_records_as_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A good row: "valid against ormas_registration@1.0.0", the payload as the warehouse stores it (the NIK
    as its token, not "***" and not in clear), the id the mapping gives, exit 0."""
    code = main(write_case(tmp_path, [GOOD]))
    out = capsys.readouterr().out
    assert code == 0 and "valid against ormas_registration@1.0.0" in out
    assert re.search(r'"nik_token": "nik1_[0-9a-f]+"', out) and '"kode_wilayah": "32.01.01"' in out
    assert "***" not in out and TEST_NIK not in out
    assert "record 1: id 01-00-00/0123/VI/2021, revision 1" in out


def test_mapping_test_lists_mapping_then_schema_issues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad row: every mapping issue, then schema issues, with loc and rule; exit 1; no value printed."""
    code = main(write_case(tmp_path, [GOOD, BAD]))
    out = capsys.readouterr().out
    assert code == 1 and "2 record(s): 1 valid, 1 invalid" in out
    bad = out[out.index("record 2: INVALID") :]
    for loc, rule in [
        ("tanggal_terbit", "date_invalid"),
        ("kode_wilayah", "region_unknown"),
        ("status", "value_unmapped"),
        ("pengurus.0.nik_token", "nik_format"),
    ]:
        assert re.search(rf"mapping\s+{re.escape(loc)}\s+{rule}", bad), (loc, bad)
    assert re.search(r"schema\s+data\.nomor_registrasi\s+looks_like_nik", bad)
    assert bad.index("mapping ") < bad.index("schema ")
    for secret in ("Budi", "Santoso", TEST_NIK[:-1], "TIDUR", "Antah", "31-02"):
        assert secret not in out


def test_mapping_test_reports_region_rules_of_the_hub(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Validation is the hub's: a record outside the office's region fails as it would at ingest."""
    config = ORMAS_TOML.replace('office = "32.01"', 'office = "32.71"').replace(
        'kode_wilayah = { region = { kecamatan = "kecamatan" } }',
        'kode_wilayah = { region = { kecamatan = "kecamatan", within = "32.01" } }',
    )
    code = main(write_case(tmp_path, [GOOD], config))
    out = capsys.readouterr().out
    assert code == 1 and re.search(r"schema\s+data\.kode_wilayah\s+region_outside_office", out)


def test_mapping_test_reads_yaml_configs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same node config written as YAML works."""
    import tomllib

    import yaml

    config = yaml.safe_dump(tomllib.loads(ORMAS_TOML), allow_unicode=True)
    assert main(write_case(tmp_path, [GOOD], config, ".yaml")) == 0
    assert "valid against" in capsys.readouterr().out


def test_mapping_test_config_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown source, a source without mapping, a broken mapping: exit 2 with the reason; no rows: exit 1."""
    args = write_case(tmp_path, [GOOD])
    assert main([*args[:5], "nope", *args[6:]]) == 2
    assert "no source named 'nope'" in capsys.readouterr().err
    no_mapping = ORMAS_TOML[: ORMAS_TOML.index("[sources.mapping]")]
    assert main(write_case(tmp_path, [GOOD], no_mapping)) == 2
    assert "has no mapping" in capsys.readouterr().err
    broken = ORMAS_TOML.replace('parse = "date"', 'parse = "tanggal"')
    assert main(write_case(tmp_path, [GOOD], broken)) == 2
    assert "sources[ormas-bogor].mapping" in capsys.readouterr().err
    assert main(write_case(tmp_path, [])) == 1
    assert "0 record(s)" in capsys.readouterr().out


def test_the_bahasa_walkthrough_in_the_docs_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The Panduan singkat mapping in docs/adapters.md passes on the shared ormas CSV, as the docs promise."""
    sample = SAMPLES / "ormas_register.csv"
    docs = (ROOT / "docs" / "adapters.md").read_text(encoding="utf-8")
    walkthrough = docs[docs.index("## Panduan singkat") :]
    block = re.findall(r"```toml\n(.*?)```", walkthrough, re.S)[0]
    (tmp_path / "node.toml").write_text("dev_mode = true\n" + block, encoding="utf-8")
    args = ["mapping", "test", "--config", str(tmp_path / "node.toml"), "--adapter", "ormas-bogor"]
    assert main([*args, "--sample", str(sample)]) == 0
    assert "3 record(s): 3 valid, 0 invalid" in capsys.readouterr().out


# --- simpul adapters list | show ---------------------------------------------------------------------


class _Nested(BaseModel):
    """A nested settings block."""

    model_config = ConfigDict(extra="forbid")
    header: str = Field("X-API-KEY", description="Header carrying the key")


class _DocConfig(BaseModel):
    """A config model with every kind of field."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="Base URL of the regional API")
    page_size: int = Field(100, ge=1, description="Records per page")
    tags: list[str] = Field(default_factory=list, description="Labels")
    auth: _Nested = Field(default_factory=_Nested, description="Authentication")


def _factory(config: Any, context: AdapterContext) -> Any:
    raise AssertionError("not built in these tests")


DOC_PLUGIN = AdapterPlugin("doc_source", "source", "Polls a documented API\nmore text", _DocConfig, _factory)


def test_adapters_list_shows_role_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Every registered adapter in a table: name, role, first line of the summary."""
    for plugin in (fake_source_plugin, fake_sink_plugin, DOC_PLUGIN):
        registry.register(plugin)
    assert main(["adapters", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["adapter", "role", "summary"]
    assert any(re.match(r"doc_source\s+source\s+Polls a documented API$", line) for line in lines)
    assert any(re.match(r"fake_sink\s+sink\s+Keeps records", line) for line in lines)


def test_adapters_show_prints_the_config_reference(capsys: pytest.CaptureFixture[str]) -> None:
    """Field, type, default, required and description, nested fields dotted."""
    registry.register(DOC_PLUGIN)
    assert main(["adapters", "show", "doc_source"]) == 0
    out = capsys.readouterr().out
    assert "doc_source (source): Polls a documented API" in out
    assert re.search(r"^url\s+str\s+-\s+required\s+Base URL of the regional API$", out, re.M)
    assert re.search(r"^page_size\s+int\s+100\s+optional\s+Records per page$", out, re.M)
    assert re.search(r"^tags\s+list\[str\]\s+\[\]\s+optional\s+Labels$", out, re.M)
    assert re.search(r'^auth\.header\s+str\s+"X-API-KEY"\s+optional\s+Header carrying the key$', out, re.M)
    assert main(["adapters", "show", "no_such"]) == 2
    assert "no adapter named 'no_such'" in capsys.readouterr().err


# --- simpul adapters new ------------------------------------------------------------------------------


def test_scaffold_generates_a_package_whose_tests_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`simpul adapters new` writes an installable package; its generated tests pass as generated."""
    assert (
        main(["adapters", "new", "sitimdu_cianjur", "--dir", str(tmp_path), "--schema", "conflict_incident"])
        == 0
    )
    assert "created" in capsys.readouterr().out
    root = tmp_path / "sitimdu_cianjur"
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."simpul.adapters"]' in pyproject
    assert 'sitimdu_cianjur = "sitimdu_cianjur:PLUGIN"' in pyproject
    assert not (root / "tests" / "__init__.py").exists()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root)],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_scaffold_refuses_bad_names_and_occupied_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Names must be package names; an existing non-empty folder is never overwritten."""
    assert main(["adapters", "new", "Sitimdu-Bogor", "--dir", str(tmp_path)]) == 2
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("x", encoding="utf-8")
    assert main(["adapters", "new", "taken", "--dir", str(tmp_path)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert (tmp_path / "taken" / "keep.txt").read_text(encoding="utf-8") == "x"


async def test_scaffolded_source_passes_the_cursor_contract_in_process(tmp_path: Path) -> None:
    """The generated JSON-file source keeps a cursor: committed records are not emitted again."""
    assert main(["adapters", "new", "kit_probe", "--dir", str(tmp_path)]) == 0
    sys.path.insert(0, str(tmp_path / "kit_probe"))
    try:
        plugin = importlib.import_module("kit_probe").PLUGIN
        import tomllib

        entry = tomllib.loads((tmp_path / "kit_probe/kit_probe/mapping.example.toml").read_text())["sources"][
            0
        ]
        config = {"path": str(tmp_path / "kit_probe/tests/sample.json"), "batch_size": 2}
        report = await check_source_contract(
            plugin, config, schema=entry["schema"], expect_records=3, mapping=entry["mapping"]
        )
    finally:
        sys.path.remove(str(tmp_path / "kit_probe"))
        for name in [m for m in sys.modules if m == "kit_probe" or m.startswith("kit_probe.")]:
            del sys.modules[name]
    assert (report.records_read, report.batches, report.applied, report.reread) == (3, 2, 3, 0)


# --- the contract kit ----------------------------------------------------------------------------------


def _batches() -> list[list[dict[str, Any]]]:
    return [[item("ormas_registration", f"A{i}") for i in range(3)], [item("ormas_registration", "B0")]]


async def test_fake_source_passes_the_contract() -> None:
    """The shipped FakeSource (not cursor based) passes: 4 records read, 4 applied through a node."""
    report = await check_source_contract(
        fake_source_plugin, {"batches": _batches()}, schema="ormas_registration", expect_records=4,
        cursor_based=False,
    )  # fmt: skip
    assert (report.records_read, report.batches, report.applied, report.quarantined) == (4, 2, 4, 0)


async def test_contract_counts_expected_quarantine() -> None:
    """A record the hub must quarantine is allowed when announced, and caught when not."""
    batches = [[item("ormas_registration", "A"), item("ormas_registration", "bad", kode_wilayah="99.99")]]
    report = await check_source_contract(
        fake_source_plugin, {"batches": batches}, schema="ormas_registration", expect_records=2,
        cursor_based=False, expect_quarantined=1,
    )  # fmt: skip
    assert (report.applied, report.quarantined) == (1, 1)
    with pytest.raises(AssertionError, match=r"1 record\(s\) quarantined, expected 0"):
        await check_source_contract(
            fake_source_plugin, {"batches": batches}, schema="ormas_registration", cursor_based=False
        )


async def test_contract_catches_re_emitting_a_committed_source() -> None:
    """FakeSource serves everything again after its commits: as a cursor-based source it fails."""
    with pytest.raises(AssertionError, match="emitted 4 record"):
        await check_source_contract(fake_source_plugin, {"batches": _batches()}, schema="ormas_registration")


async def test_contract_catches_wrong_counts_and_config() -> None:
    """A wrong record count and an invalid config are reported with what was expected."""
    with pytest.raises(AssertionError, match="read 4 record"):
        await check_source_contract(
            fake_source_plugin, {"batches": _batches()}, schema="ormas_registration", expect_records=5,
            cursor_based=False,
        )  # fmt: skip
    with pytest.raises(AssertionError, match=r"config\.batches"):
        await check_source_contract(fake_source_plugin, {"batches": "x"}, schema="ormas_registration")


class _SelfCommitting:
    """A broken source: commits its own batches while being read, and forgets the revision."""

    def __init__(self, config: FakeSourceConfig, context: AdapterContext) -> None:
        self._context = context

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def read(self) -> AsyncIterator[SourceBatch]:
        record = self._context.record(item("ormas_registration", "X")["data"], source_record_id="X")
        self._context.state.put(self._context.name, "cursor", "X")  # before any confirm: wrong
        yield SourceBatch([record])


async def test_contract_catches_state_written_outside_commit_and_missing_revision() -> None:
    """Writing state during read and records without a revision are both reported."""
    plugin = AdapterPlugin("self_committing", "source", "broken", FakeSourceConfig, _SelfCommitting)
    with pytest.raises(AssertionError) as caught:
        await check_source_contract(plugin, {}, schema="ormas_registration")
    assert "wrote source state 1 time(s) while being read" in str(caught.value)
    assert "record 1 has no revision" in str(caught.value)


class _Loose(BaseModel):
    """A config model that breaks the rules."""

    path: str = Field(description="described")
    level: int = 1


def test_config_model_rules() -> None:
    """extra must be forbidden and every field described."""
    plugin = AdapterPlugin("loose", "source", "x", _Loose, _factory)
    with pytest.raises(AssertionError) as caught:
        check_config_model(plugin)
    assert "extra='forbid'" in str(caught.value) and "level: config field has no description" in str(
        caught.value
    )
    check_config_model(DOC_PLUGIN)


async def test_fake_sink_passes_without_durability_and_fails_with_it() -> None:
    """FakeSink keeps the warehouse's revision rules but forgets everything when rebuilt."""
    envelopes = example_envelopes("ormas_registration", 3)
    report = await check_sink_contract(fake_sink_plugin, {}, envelopes, durable=False)
    assert report.rounds["redelivery"] == ["duplicate"] * 3
    assert report.rounds["older revision after newer"] == ["stale"] * 3
    assert report.rounds["same revision, other content"] == ["conflict"] * 3
    with pytest.raises(AssertionError, match="redelivery after reopening"):
        await check_sink_contract(fake_sink_plugin, {}, envelopes)


class _SqliteConfig(BaseModel):
    """Where the warehouse file is (relative to the adapter's state folder)."""

    model_config = ConfigDict(extra="forbid")
    file: str = Field("warehouse.sqlite3", description="Warehouse file name in the adapter's state folder")


def _sqlite(config: _SqliteConfig, context: AdapterContext) -> Any:
    sink = SqliteSink(context.state_dir / config.file)

    async def start() -> None:
        return None

    sink.start = start  # type: ignore[attr-defined]
    return sink


async def test_sqlite_warehouse_passes_the_sink_contract_durably() -> None:
    """The real SQLite warehouse, wrapped as a plugin, passes every round including reopening."""
    plugin = AdapterPlugin("sqlite_probe", "sink", "SQLite warehouse", _SqliteConfig, _sqlite)
    envelopes = example_envelopes("early_warning", 2) + example_envelopes("party_financial_aid", 2)
    report = await check_sink_contract(plugin, {}, envelopes)
    assert report.rounds["redelivery after reopening"] == ["duplicate"] * 4


class _Careless(FakeSink):
    """A broken sink: answers in reverse order and calls everything applied."""

    async def write(self, envelopes: Sequence[Any]) -> Sequence[Any]:
        results = list(await super().write(envelopes))
        return [type(r)(r.idempotency_key, "applied") for r in reversed(results)]


async def test_contract_catches_unordered_and_non_idempotent_sinks() -> None:
    """Results out of order and redelivery reported as applied are both reported."""
    plugin = AdapterPlugin(
        "careless", "sink", "broken", fake_sink_plugin.config_model, lambda c, x: _Careless()
    )
    with pytest.raises(AssertionError) as caught:
        await check_sink_contract(plugin, {}, example_envelopes("ormas_registration", 2), durable=False)
    assert "first write: result 0 is out of order" in str(caught.value)
    assert "redelivery: statuses ['applied', 'applied'], expected ['duplicate', 'duplicate']" in str(
        caught.value
    )


def test_adapters_show_prints_long_defaults_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    """file_drop's footer patterns: no "..." anywhere, every default pattern printed as a TOML list item,
    the *_extra options documented."""
    from adapters.file_drop.config import SIGNATURE_PATTERNS, TOTAL_PATTERNS

    assert main(["adapters", "show", "file_drop"]) == 0
    out = capsys.readouterr().out
    assert "..." not in out and "defaults in full" in out
    for pattern in [*SIGNATURE_PATTERNS, *TOTAL_PATTERNS]:
        assert f"    {json.dumps(pattern)}," in out
    assert re.search(r"^signature_patterns_extra\s+list\[str\]\s+\[\]\s+optional\s+More signature", out, re.M)
