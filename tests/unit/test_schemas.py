"""Payload schemas: examples, safe errors on bad input, cross-field rules, catalog and JSON Schema export."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from hub.errors import UnknownSchema
from schemas import catalog
from schemas.classification import Classification
from schemas.payloads import EXAMPLES, SPECS
from schemas.pii import NikTokenizer

TOKENIZER = NikTokenizer(b"unit-test-key-0123456789abcdef")
CTX = {"nik_tokenizer": TOKENIZER}
NIK = "3201010101800099"
NAME = "Budi Santoso"
SECRETS = (NIK, NAME)
NAMES = [spec.name for spec in SPECS]


def _validate(name: str, data: dict[str, Any]) -> BaseModel:
    return catalog.get(name).model.model_validate(data, context=CTX)


def _example(name: str) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[name])


def _assert_safe(exc: ValidationError) -> None:
    text = str(exc) + repr(exc.errors(include_input=False))
    for secret in SECRETS:
        assert secret not in text


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every field of a JSON-like record (dict keys and list indices), nested ones included."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    if path:
        yield path
    for key, value in items:
        yield from _leaves(value, (*path, key))


def _replace(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    holder: Any = out
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return out


def _one_error(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    errors = exc.value.errors(include_input=False)
    assert len(errors) == 1, errors
    return str(errors[0]["type"])


MINOR_BUMPED = ("early_warning", "research_permit")  # 1.1.0: a required field made optional

# --- examples and specs ----------------------------------------------------------------------------


def test_there_are_ten_schemas_registered() -> None:
    """All ten schemas of DOMAIN.md are registered, each first at 1.0.0; early_warning and research_permit
    are at 1.1.0 now (a required field became optional: tingkat, tanggal_pengajuan)."""
    assert sorted(NAMES) == sorted({s.name for s in catalog.all_specs()})
    assert len(NAMES) == 10 and {s.version for s in SPECS} == {"1.0.0"}
    current = {n: catalog.get(n).version for n in NAMES}
    assert current == {n: "1.1.0" if n in MINOR_BUMPED else "1.0.0" for n in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_example_validates_and_round_trips(name: str) -> None:
    """The example validates with a tokenizer; its JSON output validates again without one."""
    model = _validate(name, _example(name))
    dumped = model.model_dump_json()
    assert NIK not in dumped
    again = catalog.get(name).model.model_validate_json(dumped)
    assert again == model


@pytest.mark.parametrize("name", NAMES)
def test_spec_is_consistent(name: str) -> None:
    """Each spec names existing identity fields, has kode_wilayah, sane levels and a classification."""
    spec = catalog.get(name)
    assert "kode_wilayah" in spec.model.model_fields
    assert spec.region_levels and spec.region_levels <= {1, 2, 3, 4}
    assert set(spec.identity) <= set(spec.model.model_fields)
    assert spec.model.model_config.get("extra") == "forbid"
    assert spec.model.model_config.get("hide_input_in_errors") is True


def test_classifications_and_pii_paths() -> None:
    """RAHASIA by default for early warnings and foreign-national cases; NIK tokens are marked PII."""
    rahasia = {s.name for s in SPECS if s.default_classification is Classification.RAHASIA}
    assert rahasia == {"early_warning", "foreign_national_monitoring"}
    assert "pengurus.*.nik_token" in catalog.get("ormas_registration").pii_paths
    assert "pemohon.nik_token" in catalog.get("research_permit").pii_paths
    assert "subjek.*.paspor_token" in catalog.get("foreign_national_monitoring").pii_paths
    assert "kronologi" in catalog.get("conflict_incident").pii_paths


# --- bad input never leaks -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_missing_fields_are_reported_safely(name: str) -> None:
    """An empty record fails with 'missing' for each required field."""
    with pytest.raises(ValidationError) as exc:
        _validate(name, {})
    required = {n for n, f in catalog.get(name).model.model_fields.items() if f.is_required()}
    assert {e["loc"][0] for e in exc.value.errors() if e["type"] == "missing"} == required


@pytest.mark.parametrize("name", NAMES)
def test_extra_fields_are_refused_safely(name: str) -> None:
    """Unknown fields (a reporter's name and NIK) are refused and their values never shown."""
    data = _example(name) | {"pelapor_nama": NAME, "pelapor_nik": NIK}
    with pytest.raises(ValidationError) as exc:
        _validate(name, data)
    assert {e["type"] for e in exc.value.errors()} == {"extra_forbidden"}
    _assert_safe(exc.value)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_types_anywhere_are_reported_safely(name: str) -> None:
    """Replacing any field, nested ones too, by an object holding a name and a NIK fails without leaking."""
    example = _example(name)
    for path in _leaves(example):
        with pytest.raises(ValidationError) as exc:
            _validate(name, _replace(example, path, {"nama": NAME, "nik": NIK}))
        _assert_safe(exc.value)


@pytest.mark.parametrize("name", NAMES)
def test_nik_in_any_text_field_is_refused_or_redacted(name: str) -> None:
    """A name plus NIK put into any field either fails safely or is published with the NIK redacted."""
    example = _example(name)
    for path in _leaves(example):
        try:
            model = _validate(name, _replace(example, path, f"{NAME} {NIK}"))
        except ValidationError as exc:
            _assert_safe(exc)
        else:
            assert NIK not in model.model_dump_json(), path


@pytest.mark.parametrize("name", NAMES)
def test_errors_for_wrong_values_are_safe(name: str) -> None:
    """A bad NIK and an unknown region give typed errors that do not echo the input."""
    data = _example(name) | {"kode_wilayah": "32.98.99"}
    with pytest.raises(ValidationError) as exc:
        _validate(name, data)
    assert "kode_wilayah_unknown" in {e["type"] for e in exc.value.errors()}
    assert "32.98.99" not in str(exc.value)


def test_bad_nik_in_nested_list_is_located_safely() -> None:
    """An invalid officer NIK is reported at pengurus.0.nik_token without its value."""
    data = _example("ormas_registration")
    data["pengurus"][0]["nik_token"] = "3201017513800001"
    with pytest.raises(ValidationError) as exc:
        _validate("ormas_registration", data)
    (error,) = exc.value.errors(include_input=False)
    assert error["loc"] == ("pengurus", 0, "nik_token") and error["type"] == "nik_birth_date"
    assert "3201017513800001" not in str(exc.value)


# --- cross-field rules -----------------------------------------------------------------------------


def test_party_total_mismatch() -> None:
    """total_bantuan must be exactly jumlah_suara_sah x nilai_per_suara."""
    data = _example("party_financial_aid") | {"total_bantuan": "1851852000.01"}
    with pytest.raises(ValidationError) as exc:
        _validate("party_financial_aid", data)
    assert _one_error(exc) == "total_mismatch"
    assert "1851852000" not in str(exc.value)


def test_party_tingkat_follows_region_level() -> None:
    """A provincial record pays DPRD provinsi votes, a kab/kota record DPRD kab/kota votes."""
    prov = _validate("party_financial_aid", _example("party_financial_aid"))
    kab = _validate("party_financial_aid", _example("party_financial_aid") | {"kode_wilayah": "32.01"})
    assert (prov.tingkat, kab.tingkat) == ("dprd_provinsi", "dprd_kabupaten_kota")  # type: ignore[attr-defined]


def test_voter_participation_mismatch() -> None:
    """partisipasi must match pengguna / listed voters within 0.01 points."""
    ok = _example("voter_participation") | {"partisipasi": "83.70"}
    _validate("voter_participation", ok)
    with pytest.raises(ValidationError) as exc:
        _validate("voter_participation", ok | {"partisipasi": "83.60"})
    assert _one_error(exc) == "partisipasi_mismatch"


@pytest.mark.parametrize(
    ("name", "change", "rule"),
    [
        ("periodic_report", {"periode_ke": 3, "jenis_periode": "semester"}, "periode_mismatch"),
        ("periodic_report", {"status": "dikembalikan"}, "catatan_missing"),
        ("political_education_activity", {"tanggal_selesai": "2024-01-14"}, "periode_terbalik"),
        ("ormas_registration", {"jenis_registrasi": "sk_ahu"}, "bentuk_mismatch"),
        ("foreign_national_monitoring", {"tanggal_penetapan": None}, "tanggal_penetapan_missing"),
        ("research_permit", {"tanggal_terbit": None}, "tanggal_terbit_missing"),
        (
            "voter_participation",
            {"pengguna_hak_pilih": 300000, "partisipasi": "100"},
            "pengguna_exceeds_pemilih",
        ),
    ],
)
def test_cross_field_rules(name: str, change: dict[str, Any], rule: str) -> None:
    """Each model-level rule fails with its own stable error type."""
    with pytest.raises(ValidationError) as exc:
        _validate(name, _example(name) | change)
    assert _one_error(exc) == rule


def test_periodic_report_letters_are_unique() -> None:
    """One item per Pasal 25 letter."""
    data = _example("periodic_report")
    data["butir"][1]["urusan"] = "d"
    with pytest.raises(ValidationError) as exc:
        _validate("periodic_report", data)
    assert _one_error(exc) == "duplicate_urusan"


def test_research_permit_applicant_identity() -> None:
    """A citizen carries a NIK token, a foreign national a passport token, never both."""
    data = _example("research_permit")
    data["pemohon"] |= {"kewarganegaraan": "MY", "paspor_token": "A12345678"}
    with pytest.raises(ValidationError) as exc:
        _validate("research_permit", data)
    assert _one_error(exc) == "identitas_pemohon"
    del data["pemohon"]["nik_token"]
    assert _validate("research_permit", data).pemohon.paspor_token.startswith("psp1_")  # type: ignore[attr-defined]


# --- catalog ---------------------------------------------------------------------------------------


def test_unknown_schema_names_it() -> None:
    """get() of an unknown name or version raises UnknownSchema naming the schema."""
    with pytest.raises(UnknownSchema, match="no_such_schema"):
        catalog.get("no_such_schema")
    with pytest.raises(UnknownSchema, match=r"early_warning@9\.0\.0"):
        catalog.get("early_warning", "9.0.0")
    assert catalog.get("early_warning", "1.0.0") is not catalog.get("early_warning")
    assert catalog.get("early_warning", "1.1.0") is catalog.get("early_warning")
    assert catalog.get("early_warning", "1") is catalog.get("early_warning")


def test_list_and_show() -> None:
    """list_lines has one line per published version; show lists nested fields with type, presence and
    PII class."""
    lines = catalog.list_lines()
    assert len(lines) == 10 + len(MINOR_BUMPED)
    assert {line.split()[1] for line in lines} == {"1.0.0", "1.1.0"}
    text = catalog.show("ormas_registration")
    row = next(line for line in text.splitlines() if line.startswith("pengurus.*.nik_token"))
    assert row.split()[1:6] == ["NikToken", "|", "None", "optional", "personal"]
    assert "[skt|sk_ahu]" in text


def test_json_schema_export(tmp_path: Path) -> None:
    """Export writes valid draft 2020-12 JSON Schema per schema plus the envelope, with tokenised examples."""
    paths = catalog.export_json_schema(tmp_path / "out")
    names = sorted(p.name for p in paths)
    expected = [f"{n}-1.0.0.schema.json" for n in NAMES] + [f"{n}-1.1.0.schema.json" for n in MINOR_BUMPED]
    assert names == sorted([*expected, "envelope-1.schema.json"])
    for path in paths:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert document["$id"].startswith("urn:simpul:schema:") and document["title"]
        assert NIK not in path.read_text(encoding="utf-8")
        if path.name != "envelope-1.schema.json":
            assert document["additionalProperties"] is False
            assert document["examples"] and "kode_wilayah" in document["required"]
