"""political_education_activity 1.0.0: a political-education activity (pendidikan politik) and its reach.

Identity: the source's activity id. ``kode_wilayah`` is where it was held (for an online activity, the
organiser's region). Participants are counted, never listed.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from schemas.pii import PiiClass, pii_field
from schemas.types import DocNumber, FreeText, KodeWilayah, NonNegInt, Rupiah, ShortText

from ._common import PayloadModel, build_spec, ensure_order


class Sasaran(StrEnum):
    """Target group."""

    PEMILIH_PEMULA = "pemilih_pemula"
    MILENIAL = "milenial"
    GEN_Z = "gen_z"
    PEREMPUAN = "perempuan"
    PENYANDANG_DISABILITAS = "penyandang_disabilitas"
    MASYARAKAT_ADAT = "masyarakat_adat"
    TOKOH_MASYARAKAT = "tokoh_masyarakat"
    PENGURUS_PARTAI = "pengurus_partai"
    ORMAS = "ormas"
    ASN = "asn"
    UMUM = "umum"


class Metode(StrEnum):
    """How the activity was held."""

    TATAP_MUKA = "tatap_muka"
    DARING = "daring"
    HIBRIDA = "hibrida"


class SumberAnggaran(StrEnum):
    """Where the money came from."""

    APBN = "apbn"
    APBD = "apbd"
    BANTUAN_PARPOL = "bantuan_parpol"
    LAINNYA = "lainnya"


class PoliticalEducationActivity(PayloadModel):
    """One political-education activity: what, for whom, when, how many, at what cost."""

    kegiatan_id: DocNumber = Field(description="The source's activity id")
    judul: ShortText = Field(description="Title")
    penyelenggara: ShortText = Field(description="Organiser, e.g. Badan Kesbangpol Kab. Bogor or a party")
    kode_wilayah: KodeWilayah = Field(description="Where it was held")
    metode: Metode = Field(description="Face to face, online or hybrid")
    sasaran: list[Sasaran] = Field(min_length=1, description="Target groups")
    tanggal_mulai: date = Field(description="First day")
    tanggal_selesai: date = Field(description="Last day")
    peserta_laki_laki: NonNegInt = Field(description="Male participants")
    peserta_perempuan: NonNegInt = Field(description="Female participants")
    peserta_disabilitas: NonNegInt = Field(default=0, description="Participants with disabilities")
    narasumber: list[ShortText] = pii_field(
        PiiClass.PERSONAL, default_factory=list, max_length=30, description="Speakers' names and roles"
    )
    anggaran: Rupiah | None = Field(default=None, description="Budget spent, Rupiah")
    sumber_anggaran: SumberAnggaran | None = Field(default=None, description="Source of the budget")
    ringkasan: FreeText | None = Field(default=None, description="Summary and outcomes (redacted)")

    @model_validator(mode="after")
    def _consistent(self) -> PoliticalEducationActivity:
        ensure_order(self.tanggal_mulai, self.tanggal_selesai)
        return self


SPEC = build_spec(
    name="political_education_activity",
    model=PoliticalEducationActivity,
    title="Political education activity",
    description="A political-education activity: organiser, target groups, dates, participants, budget.",
    region_levels={1, 2, 3, 4},
    identity=("kegiatan_id",),
)

EXAMPLE: dict[str, Any] = {
    "kegiatan_id": "PENDPOL-2024-003",
    "judul": "Sosialisasi Pemilih Cerdas untuk Pemilih Pemula",
    "penyelenggara": "Badan Kesbangpol Kabupaten Bogor",
    "kode_wilayah": "32.01.01",
    "metode": "tatap_muka",
    "sasaran": ["pemilih_pemula", "gen_z"],
    "tanggal_mulai": "2024-01-15",
    "tanggal_selesai": "2024-01-15",
    "peserta_laki_laki": 112,
    "peserta_perempuan": 131,
    "peserta_disabilitas": 4,
    "narasumber": ["Komisioner KPU Kabupaten Bogor", "Akademisi Universitas Pakuan"],
    "anggaran": "24500000.00",
    "sumber_anggaran": "apbd",
    "ringkasan": "Peserta memahami tahapan pemungutan suara dan cara mengenali hoaks.",
}
