"""``schemas diff``: a table of real-looking changes, each classified with its reason, and the CLI."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import pytest
from pydantic import Field

from hub.cli.root import main
from schemas import catalog
from schemas.classification import Classification
from schemas.diff import bump_between, diff_specs
from schemas.payloads._common import PayloadModel
from schemas.pii import PiiClass, pii_field
from schemas.registry import SchemaSpec
from schemas.types import KodeWilayah, NonNegInt, ShortText


class Tahap(StrEnum):
    """Stage."""

    POTENSI = "potensi"
    PENCEGAHAN = "pencegahan"


class TahapPlus(StrEnum):
    """Stage."""

    POTENSI = "potensi"
    PENCEGAHAN = "pencegahan"
    PEMULIHAN = "pemulihan"


class TahapMinus(StrEnum):
    """Stage."""

    POTENSI = "potensi"


class Pihak(PayloadModel):
    nama_pihak: ShortText = Field(description="The group")
    jumlah: NonNegInt | None = Field(default=None, description="People")


class PihakTanpaJumlah(PayloadModel):
    nama_pihak: ShortText = Field(description="The group")


class Base(PayloadModel):
    """A conflict report as a regional app sends it."""

    nomor_laporan: str = Field(max_length=100, description="Report number")
    kode_wilayah: KodeWilayah = Field(description="Where")
    tahap: Tahap = Field(description="Stage")
    tanggal: date = Field(description="Day")
    korban_luka: NonNegInt = Field(description="Injured")
    kerugian: int | None = Field(default=None, description="Loss")
    pelapor: ShortText | None = pii_field(PiiClass.PERSONAL, default=None, description="Reporter")
    pihak: list[Pihak] = Field(default_factory=list, description="Parties")


def _variant(**fields: Any) -> type[PayloadModel]:
    """``Base`` with fields replaced (a value) or removed (None)."""
    annotations = {k: v for k, v in Base.__annotations__.items()}
    namespace: dict[str, Any] = {}
    for name in list(annotations):
        namespace[name] = Base.model_fields[name]
    for name, change in fields.items():
        if change is None:
            annotations.pop(name, None)
            namespace.pop(name, None)
        else:
            annotations[name], namespace[name] = change
    namespace["__annotations__"] = annotations
    namespace["__module__"] = __name__
    return type("Variant", (PayloadModel,), namespace)


def _spec(model: type[PayloadModel], version: str, **kw: Any) -> SchemaSpec:
    base: dict[str, Any] = {
        "region_levels": frozenset({2, 3}),
        "identity": ("nomor_laporan",),
        "default_classification": Classification.TERBATAS,
    }
    base.update(kw)
    return SchemaSpec(name="konflik", version=version, model=model, title="Konflik", description="d", **base)


OLD = _spec(Base, "1.0.0")
# (case, new model, spec overrides, renames, expected (kind, path, change substring))
CASES: list[tuple[str, type[PayloadModel], dict[str, Any], dict[str, str] | None, tuple[str, str, str]]] = [
    ("optional field added", _variant(catatan=(str | None, Field(None, description="Note"))), {}, None,
     ("compatible", "catatan", "optional field added")),
    ("enum value added", _variant(tahap=(TahapPlus, Field(description="Stage"))), {}, None,
     ("compatible", "tahap", "enum value added: pemulihan")),
    ("description changed", _variant(korban_luka=(NonNegInt, Field(description="Injured people"))), {}, None,
     ("docs", "korban_luka", "description changed")),
    ("field removed", _variant(kerugian=None), {}, None, ("breaking", "kerugian", "field removed")),
    ("renamed, declared", _variant(tanggal=None, tanggal_kejadian=(date, Field(description="Day"))), {},
     {"tanggal": "tanggal_kejadian"}, ("breaking", "tanggal", "renamed to tanggal_kejadian")),
    ("renamed, guessed", _variant(tanggal=None, tgl=(date, Field(description="Day"))), {}, None,
     ("breaking", "tanggal", "field removed")),
    ("enum value removed", _variant(tahap=(TahapMinus, Field(description="Stage"))), {}, None,
     ("breaking", "tahap", "enum value removed: pencegahan")),
    ("type narrowed: length",
     _variant(nomor_laporan=(str, Field(max_length=50, description="Report number"))), {}, None,
     ("breaking", "nomor_laporan", "type narrowed: maxLength 100 -> 50")),
    ("type narrowed: type", _variant(kerugian=(bool | None, Field(None, description="Loss"))), {}, None,
     ("breaking", "kerugian", "type narrowed integer|null -> boolean|null")),
    ("type widened", _variant(korban_luka=(int | str, Field(description="Injured"))), {}, None,
     ("compatible", "korban_luka", "type widened")),
    ("limit widened", _variant(nomor_laporan=(str, Field(max_length=200, description="Report number"))),
     {}, None, ("compatible", "nomor_laporan", "limit widened: maxLength 100 -> 200")),
    ("required added", _variant(sumber=(str, Field(description="Source"))), {}, None,
     ("breaking", "sumber", "required field added")),
    ("optional became required", _variant(kerugian=(int, Field(description="Loss"))), {}, None,
     ("breaking", "kerugian", "became required")),
    ("required became optional", _variant(korban_luka=(NonNegInt | None, Field(None, description="Injured"))),
     {}, None, ("compatible", "korban_luka", "became optional")),
    ("nested field removed", _variant(pihak=(list[PihakTanpaJumlah], Field(default_factory=list,
     description="Parties"))), {}, None, ("breaking", "pihak.*.jumlah", "field removed")),
    ("PII class changed", _variant(pelapor=(ShortText | None, Field(None, description="Reporter"))), {}, None,
     ("breaking", "pelapor", "PII class personal -> none")),
    ("region levels narrowed", Base, {"region_levels": frozenset({2})}, None,
     ("breaking", "", "region levels narrowed")),
    ("classification raised", Base, {"default_classification": Classification.RAHASIA}, None,
     ("breaking", "", "default classification")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "model", "overrides", "renames", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_change_is_classified(
    case: str,
    model: type[PayloadModel],
    overrides: dict[str, Any],
    renames: dict[str, str] | None,
    expected: tuple[str, str, str],
) -> None:
    """Each change of the table is found with the expected kind, path and wording, and a reason."""
    result = diff_specs(OLD, _spec(model, "9.0.0", **overrides), renames=renames or {})
    kind, path, text = expected
    found = [c for c in result.changes if c.path == path and text in c.change]
    assert found, [c.line() for c in result.changes]
    assert found[0].kind == kind and found[0].reason
    assert result.kind == kind or (kind != "breaking" and result.kind in ("compatible", "docs"))


def test_guessed_rename_is_hinted() -> None:
    """A removed field with an identical new sibling is reported removed, with 'looks renamed to'."""
    new = _spec(_variant(tanggal=None, tgl=(date, Field(description="Day"))), "2.0.0")
    change = next(c for c in diff_specs(OLD, new, renames={}).changes if c.path == "tanggal")
    assert "looks renamed to tgl" in change.reason


def test_identical_versions_have_no_changes() -> None:
    """Diffing a version against itself finds nothing and needs no bump."""
    result = diff_specs(OLD, _spec(Base, "1.0.1"), renames={})
    assert result.changes == [] and result.required_bump == "none" and result.bump_ok


def test_bump_between() -> None:
    """Which part of the version went up."""
    assert bump_between("1.0.0", "2.0.0") == "major"
    assert bump_between("1.2.0", "1.3.0") == "minor"
    assert bump_between("1.2.3", "1.2.4") == "patch"
    assert bump_between("1.2.3", "1.2.3") == "none"


def test_ormas_registration_v2_diff() -> None:
    """The 2.0.0 draft: rename and narrowed list breaking, new field and enum value compatible."""
    old, new = catalog.get("ormas_registration", "1.0.0"), catalog.get("ormas_registration", "2.0.0")
    result = diff_specs(old, new)
    got = {(c.kind, c.path, c.change) for c in result.changes}
    assert ("breaking", "tanggal_terbit", "renamed to tanggal_registrasi") in got
    assert ("breaking", "bidang_kegiatan", "type narrowed: maxItems 20 -> 10") in got
    assert ("compatible", "jumlah_anggota", "optional field added") in got
    assert ("compatible", "status", "enum value added: dicabut") in got
    assert result.required_bump == "major" and result.bump_ok


def test_cli_diff_prints_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    """`simpul schemas diff` prints the verdict and one line per change, exit 0 when bumped enough."""
    assert main(["schemas", "diff", "ormas_registration", "1.0.0", "2.0.0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ormas_registration 1.0.0 -> 2.0.0: breaking (needs a major bump, is major)")
    assert "breaking   tanggal_terbit: renamed to tanggal_registrasi - records using the old name" in out


def test_cli_diff_of_an_unknown_version_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown version is an error naming it, exit 1."""
    assert main(["schemas", "diff", "ormas_registration", "1.0.0", "7.0.0"]) == 1
    assert "unknown schema: ormas_registration@7.0.0" in capsys.readouterr().err
