"""periodic_report 1.0.0: a periodic report (triwulan, semester, tahunan) on urusan pemerintahan umum.

Identity: the issuing office (its kode wilayah) and the period. The body has one item per UU 23/2014
Pasal 25(1) letter reported on (kegiatan, capaian, kendala) and optional indicators. The report moves
through ``draft -> diajukan -> diverifikasi -> diteruskan -> diterima | dikembalikan``; each state change
is a new revision of the same record.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.types import Abbreviation, FreeText, KodeWilayah, NonNegInt, ShortText

from ._common import PayloadModel, UrusanPasal25, build_spec


class JenisPeriode(StrEnum):
    """Reporting period kind."""

    TRIWULAN = "triwulan"
    SEMESTER = "semester"
    TAHUNAN = "tahunan"


PERIODS_PER_YEAR = {JenisPeriode.TRIWULAN: 4, JenisPeriode.SEMESTER: 2, JenisPeriode.TAHUNAN: 1}


class StatusLaporan(StrEnum):
    """Workflow state of the report."""

    DRAFT = "draft"
    DIAJUKAN = "diajukan"
    DIVERIFIKASI = "diverifikasi"
    DITERUSKAN = "diteruskan"
    DITERIMA = "diterima"
    DIKEMBALIKAN = "dikembalikan"


class ButirLaporan(PayloadModel):
    """What was done under one Pasal 25(1) letter."""

    urusan: UrusanPasal25 = Field(description="UU 23/2014 Pasal 25(1) letter, a-g")
    jumlah_kegiatan: NonNegInt = Field(description="Number of activities")
    kegiatan: FreeText = Field(description="Activities carried out (redacted)")
    capaian: FreeText = Field(description="Results achieved (redacted)")
    kendala: FreeText | None = Field(default=None, description="Obstacles (redacted)")


class Indikator(PayloadModel):
    """One performance indicator."""

    nama: ShortText = Field(description="Indicator, e.g. 'Indeks Demokrasi Indonesia'")
    satuan: Abbreviation = Field(description="Unit, e.g. '%', 'kegiatan', 'indeks'")
    target: Decimal | None = Field(default=None, max_digits=18, decimal_places=4, description="Target")
    realisasi: Decimal = Field(max_digits=18, decimal_places=4, description="Achieved value")


class PeriodicReport(PayloadModel):
    """A periodic report of one Kesbangpol office for one period."""

    kantor: ShortText = Field(description="Issuing office, e.g. Badan Kesbangpol Kabupaten Bogor")
    kode_wilayah: KodeWilayah = Field(description="Region of the issuing office (provinsi or kab/kota)")
    jenis_periode: JenisPeriode = Field(description="Period kind")
    tahun: int = Field(ge=2014, le=2100, description="Year")
    periode_ke: int = Field(ge=1, le=4, description="Which triwulan (1-4) or semester (1-2); 1 for tahunan")
    status: StatusLaporan = Field(description="Workflow state")
    waktu_status: AwareDatetime = Field(description="When the state was reached, with the UTC offset")
    catatan_verifikasi: FreeText | None = Field(default=None, description="Verifier's note (redacted)")
    butir: list[ButirLaporan] = Field(min_length=1, max_length=7, description="One item per Pasal 25 letter")
    indikator: list[Indikator] = Field(default_factory=list, max_length=50, description="Indicators")

    @model_validator(mode="after")
    def _consistent(self) -> PeriodicReport:
        if self.periode_ke > PERIODS_PER_YEAR[self.jenis_periode]:
            raise PydanticCustomError("periode_mismatch", "periode_ke does not exist for this jenis_periode")
        if len({b.urusan for b in self.butir}) != len(self.butir):
            raise PydanticCustomError("duplicate_urusan", "each Pasal 25 letter may appear once")
        if self.status is StatusLaporan.DIKEMBALIKAN and self.catatan_verifikasi is None:
            raise PydanticCustomError("catatan_missing", "a returned report needs catatan_verifikasi")
        return self


SPEC = build_spec(
    name="periodic_report",
    model=PeriodicReport,
    title="Periodic report",
    description="A triwulan/semester/annual report per UU 23/2014 Pasal 25(1) letter, with indicators and "
    "workflow status.",
    region_levels={1, 2},
    identity=("kode_wilayah", "jenis_periode", "tahun", "periode_ke"),
)

EXAMPLE: dict[str, Any] = {
    "kantor": "Badan Kesbangpol Kabupaten Bogor",
    "kode_wilayah": "32.01",
    "jenis_periode": "triwulan",
    "tahun": 2024,
    "periode_ke": 1,
    "status": "diajukan",
    "waktu_status": "2024-04-05T10:00:00+07:00",
    "butir": [
        {
            "urusan": "d",
            "jumlah_kegiatan": 6,
            "kegiatan": "Mediasi sengketa lahan di Cibinong; rapat tim terpadu penanganan konflik sosial.",
            "capaian": "Dua potensi konflik diselesaikan melalui musyawarah.",
            "kendala": "Keterbatasan anggaran operasional tim terpadu.",
        },
        {
            "urusan": "f",
            "jumlah_kegiatan": 3,
            "kegiatan": "Pendidikan politik bagi pemilih pemula di tiga kecamatan.",
            "capaian": "243 peserta; partisipasi Pemilu 2024 di atas target.",
        },
    ],
    "indikator": [
        {"nama": "Partisipasi pemilih Pemilu 2024", "satuan": "%", "target": "81", "realisasi": "83.71"}
    ],
}
