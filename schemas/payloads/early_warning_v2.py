"""early_warning 2.0.0 (draft): the kind of source becomes a list, because a report can have several.

Changes from 1.0.0 (``simpul schemas diff early_warning 1.0.0 2.0.0``):

* ``sumber`` is a list of kinds of source (1-6, no repeats) instead of one - breaking. Forms ask it as a
  checkbox question ("FKDM, Masyarakat"): with one value a mapping had to drop all answers but one.
* ``tingkat`` stays optional, as in 1.1.0.

A draft: exported, diffable and upcast-tested, not yet used for ingest (publishing it makes it current:
ingest then routes ``early_warning.v2.*`` and sinks upcast 1.x records). ``schemas.evolution`` holds the
upcaster from 1.x: ``sumber: "fkdm"`` becomes ``["fkdm"]``; nothing else changes.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, Field, field_validator
from pydantic_core import PydanticCustomError

from schemas.classification import Classification
from schemas.pii import PiiClass, pii_field
from schemas.types import DocNumber, FreeText, KodeWilayah, ShortText

from ._common import GeoPoint, PayloadModel, TingkatKerawanan, build_spec
from .early_warning import Aspek, JenisAthg, SumberInformasi
from .early_warning_v1_1 import EXAMPLE as EXAMPLE_V1


class EarlyWarning(PayloadModel):
    """One early-warning report, as it goes up at once (not in a periodic report)."""

    sumber_id: DocNumber = Field(description="Id of the report in the source system")
    waktu_laporan: AwareDatetime = Field(description="When the source reported it, with its UTC offset")
    waktu_kejadian: AwareDatetime | None = Field(default=None, description="When it was observed, if known")
    kode_wilayah: KodeWilayah = Field(description="Where it happens, as precisely as known")
    aspek: Aspek = Field(description="Aspect concerned")
    jenis_athg: JenisAthg = Field(description="Kind of ATHG")
    kategori: ShortText | None = Field(default=None, description="The source's own category label")
    judul: ShortText = Field(description="Short title")
    uraian: FreeText = pii_field(PiiClass.PERSONAL, description="Description (redacted; may name people)")
    tingkat: TingkatKerawanan | None = Field(default=None, description="Assessed level, if assessed")
    sumber: list[SumberInformasi] = Field(
        min_length=1, max_length=6, description="Kinds of source (several when several reported it)"
    )
    nama_sumber: ShortText | None = Field(default=None, description="Reporting unit, e.g. FKDM Kec. Luwuk")
    pelapor_anonim: bool = Field(default=True, description="The reporter stays anonymous (no reporter data)")
    rekomendasi: FreeText | None = Field(default=None, description="Recommended action (redacted)")
    lokasi: GeoPoint | None = Field(default=None, description="Coordinates, if known")

    @field_validator("sumber")
    @classmethod
    def _distinct(cls, value: list[SumberInformasi]) -> list[SumberInformasi]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("sumber_repeated", "each kind of source is listed once")
        return value


SPEC = build_spec(
    name="early_warning",
    version="2.0.0",
    status="draft",
    model=EarlyWarning,
    title="Early warning",
    description="An early-warning (deteksi dini) report of ATHG by aspect, level and source (SIPKS, FKDM).",
    region_levels={1, 2, 3, 4},
    identity=("sumber_id", "kode_wilayah", "waktu_laporan"),
    classification=Classification.RAHASIA,
    changes="sumber is a list of kinds of source (a form's checkbox answer: several at once)",
)

EXAMPLE: dict[str, Any] = {**EXAMPLE_V1, "sumber": ["fkdm", "masyarakat"]}
