"""The region rule: kode wilayah from names inside a scope, or from a code column; BPS not supported."""

from __future__ import annotations

import pytest

from hub.errors import ConfigError
from hub.mapping import compile_mapping
from tests.unit.mapping.support import issues_of, map_one, mapping

NAMES = {"kabkota": "kab", "kecamatan": "kec", "desa": "desa"}


def kode(raw: dict[str, object], office: str = "32.01", **region: object) -> str:
    result = map_one({"kode_wilayah": {"region": region or NAMES}}, raw, office=office).payload[
        "kode_wilayah"
    ]
    assert isinstance(result, str)
    return result


def test_names_resolve_level_by_level_inside_the_office() -> None:
    """KAB. BOGOR / CIBINONG / Ciriung from a Bogor office is 32.01.01.1010."""
    assert kode({"kab": "KAB. BOGOR", "kec": "CIBINONG", "desa": "Ciriung"}) == "32.01.01.1010"


def test_as_precise_as_the_record_allows() -> None:
    """Without a desa the result is the kecamatan; without names at all, the office itself."""
    assert kode({"kab": "KAB. BOGOR", "kec": "Cileungsi", "desa": ""}) == "32.01.07"
    assert kode({"kab": "", "kec": "", "desa": None}) == "32.01"


def test_min_level_demands_precision() -> None:
    """min_level = 3 refuses a record that names only the kabupaten."""
    issues = issues_of({"k": {"region": {**NAMES, "min_level": 3}}}, {"kab": "Kab. Bogor", "kec": "-"})
    assert issues[0].rule == "region_too_coarse"


def test_a_name_outside_the_office_is_refused() -> None:
    """A Bogor office reporting a kecamatan of Kab. Sukabumi gets region_outside_scope, not Bogor."""
    issues = issues_of({"k": {"region": NAMES}}, {"kab": "KAB. SUKABUMI", "kec": "Cibadak"})
    assert [(i.loc, i.rule) for i in issues] == [("k", "region_outside_scope")]


def test_ambiguous_scope_name_is_accepted_when_it_includes_the_office() -> None:
    """ "Bogor" (Kabupaten or Kota) is consistent with a Kab. Bogor office."""
    assert kode({"kab": "Bogor", "kec": "Cibinong"}) == "32.01.01"


def test_unknown_and_ambiguous_names() -> None:
    """A name matching nothing is region_unknown; one matching several is region_ambiguous."""
    unknown = issues_of({"k": {"region": NAMES}}, {"kec": "Kecamatan Antah Berantah"})
    assert unknown[0].rule == "region_unknown" and "Antah" not in unknown[0].message
    ambiguous = issues_of(
        {"k": {"region": {"kabkota": "kab", "within": "none"}}}, {"kab": "Bogor"}, office="pusat"
    )
    assert ambiguous[0].rule == "region_ambiguous" and "2 regions" in ambiguous[0].message


def test_unknown_name_suggests_official_spellings_only() -> None:
    """region_unknown lists the closest official names in the scope, never the submitted one."""
    raw = {"kab": "Kab. Banggai", "kec": "Luwuk", "desa": "Keraton"}
    issue = issues_of({"k": {"region": NAMES}}, raw, office="72.01")[0]
    assert issue.message.endswith("(closest in the reference: Karaton)") and "Keraton" not in issue.message


def test_aliases_fix_spellings_and_pin_codes() -> None:
    """The app's "Keraton" is the reference's "Karaton"; an alias may also give the code."""
    raw = {"kab": "Kab. Banggai", "kec": "Luwuk", "desa": "Keraton"}
    assert issues_of({"k": {"region": NAMES}}, raw, office="72.01")[0].rule == "region_unknown"
    assert kode(raw, "72.01", **NAMES, aliases={"KERATON": "Karaton"}) == "72.01.04.1031"
    assert kode(raw, "72.01", **NAMES, aliases={"keraton": "72.01.04.1031"}) == "72.01.04.1031"


def test_code_column_and_fixed_scope() -> None:
    """A Kemendagri code column (dotted or not) is checked; within = a code scopes the names."""
    assert kode({"kode_prov": "32"}, "32", code="kode_prov") == "32"
    assert kode({"kode": "3201010"[:6]}, "pusat", code="kode") == "32.01.01"
    assert kode({"kec": "Luwuk"}, "pusat", kecamatan="kec", within="72.01") == "72.01.04"
    issues = issues_of({"k": {"region": {"code": "c"}}}, {"c": "99.99"})
    assert issues[0].rule == "region_code_unknown"


def test_bad_within_and_bps_are_config_errors() -> None:
    """within must be a known code; bps is refused with the reason (BPS codes are not Kemendagri codes)."""
    with pytest.raises(ConfigError, match=r"fields\.k\.region"):
        compile_mapping(mapping({"k": {"region": {"kecamatan": "kec", "within": "99"}}}))
    with pytest.raises(ConfigError, match="BPS codes are not supported"):
        compile_mapping(mapping({"k": {"region": {"bps": "kode_bps"}}}))


# --- regions split off from the scope's area (the 2022 Papua moves) -----------------------------------


@pytest.mark.parametrize(
    ("name", "code"), [("Kota Sorong", "96.71"), ("Raja Ampat", "96.03"), ("KAB. TAMBRAUW", "96.04")]
)
def test_names_split_off_from_the_office_keep_their_true_current_code(name: str, code: str) -> None:
    """Papua Barat's office (92) still reports places now in Papua Barat Daya (96): found there."""
    assert kode({"kab": name}, "92", kabkota="kab") == code


def test_kecamatan_under_a_successor_kabupaten_and_a_successor_province_name() -> None:
    assert (
        kode({"kab": "Kota Sorong", "kec": "Sorong Timur"}, "92", kabkota="kab", kecamatan="kec")
        == "96.71.02"
    )
    raw = {"prov": "Papua Barat Daya", "kab": "Raja Ampat"}
    assert kode(raw, "92", provinsi="prov", kabkota="kab") == "96.03"


def test_successors_are_only_those_of_the_scope() -> None:
    """Papua's office (91) naming Kota Sorong (moved out of Papua Barat, not Papua): region_unknown, and the
    message names where it is now."""
    (issue,) = issues_of({"k": {"region": {"kabkota": "kab"}}}, {"kab": "Kota Sorong"}, office="91")
    assert issue.rule == "region_unknown"
    assert "96.71, moved from province 92 to 96 Papua Barat Daya by UU 29/2022" in issue.message
    (issue,) = issues_of({"k": {"region": {"kabkota": "kab"}}}, {"kab": "Kota Sorong"}, office="32")
    assert "Papua Barat Daya" in issue.message  # anywhere outside the scope, the hint helps


def test_a_pre_2022_code_is_crosswalked_with_a_note() -> None:
    out = map_one({"kode_wilayah": {"region": {"code": "c"}}}, {"c": "9271"}, office="92")
    assert out.payload == {"kode_wilayah": "96.71"}
    (note,) = out.notes
    assert (note.loc, note.rule) == ("kode_wilayah", "region_crosswalked")
    assert note.detail == "the source's pre-2022 code 92.71 is 96.71 since UU 29/2022 (2022-12-08)"
