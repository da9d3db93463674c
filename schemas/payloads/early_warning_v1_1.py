"""early_warning 1.1.0: the assessed level becomes optional (a report not yet assessed has none).

Changes from 1.0.0 (compatible; every 1.0.0 record is a 1.1.0 record):

* ``tingkat`` is optional: an early-warning app or a form filled in by FKDM members reports what was seen;
  the level is assessed later (or by the office). A mapping had to write a constant "sedang" for every
  report, a made-up value that analysts could not tell from an assessed one.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, Field

from schemas.classification import Classification
from schemas.pii import PiiClass, pii_field
from schemas.types import DocNumber, FreeText, KodeWilayah, ShortText

from ._common import GeoPoint, PayloadModel, TingkatKerawanan, build_spec
from .early_warning import EXAMPLE as EXAMPLE_V1
from .early_warning import Aspek, JenisAthg, SumberInformasi


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
    sumber: SumberInformasi = Field(description="Kind of source")
    nama_sumber: ShortText | None = Field(default=None, description="Reporting unit, e.g. FKDM Kec. Luwuk")
    pelapor_anonim: bool = Field(default=True, description="The reporter stays anonymous (no reporter data)")
    rekomendasi: FreeText | None = Field(default=None, description="Recommended action (redacted)")
    lokasi: GeoPoint | None = Field(default=None, description="Coordinates, if known")


SPEC = build_spec(
    name="early_warning",
    version="1.1.0",
    model=EarlyWarning,
    title="Early warning",
    description="An early-warning (deteksi dini) report of ATHG by aspect, level and source (SIPKS, FKDM).",
    region_levels={1, 2, 3, 4},
    identity=("sumber_id", "kode_wilayah", "waktu_laporan"),
    classification=Classification.RAHASIA,
    changes="tingkat optional (reports are assessed later; no made-up level)",
)

EXAMPLE: dict[str, Any] = {k: v for k, v in EXAMPLE_V1.items() if k != "tingkat"}
