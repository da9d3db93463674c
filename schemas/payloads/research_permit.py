"""research_permit 1.0.0: a research recommendation letter (Surat Keterangan Penelitian, Permendagri 3/2018).

Identity: the SKP number. ``kode_wilayah`` is the issuing office's region (provinsi or kab/kota; the
ministry's own letters are issued centrally and do not flow through regions); ``lokasi`` lists the
research locations. The applicant is identified by a NIK token (citizens) or a passport token (foreign
nationals), never the clear number.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.pii import PiiClass, pii_field
from schemas.types import CountryCode, DocNumber, KodeWilayah, NikToken, PasporToken, ShortText

from ._common import PayloadModel, build_spec, ensure_order


class LingkupPenelitian(StrEnum):
    """Territorial scope of the research locations."""

    NASIONAL = "nasional"
    PROVINSI = "provinsi"
    KABUPATEN_KOTA = "kabupaten_kota"


class KategoriPemohon(StrEnum):
    """Kind of applicant."""

    MAHASISWA = "mahasiswa"
    DOSEN_PENELITI = "dosen_peneliti"
    LEMBAGA_PENELITIAN = "lembaga_penelitian"
    LEMBAGA_NONPEMERINTAH = "lembaga_nonpemerintah"
    INSTANSI_PEMERINTAH = "instansi_pemerintah"


class StatusSkp(StrEnum):
    """Status of the letter."""

    DIAJUKAN = "diajukan"
    DIPROSES = "diproses"
    DITERBITKAN = "diterbitkan"
    DITOLAK = "ditolak"
    DICABUT = "dicabut"


class Pemohon(PayloadModel):
    """The applicant: a NIK token for a citizen (kewarganegaraan ID), a passport token otherwise."""

    nama: ShortText = pii_field(PiiClass.PERSONAL, description="Full name")
    kewarganegaraan: CountryCode = Field(default="ID", description="Citizenship, ISO 3166-1 alpha-2")
    nik_token: NikToken | None = pii_field(PiiClass.PERSONAL, default=None, description="Token of the NIK")
    paspor_token: PasporToken | None = pii_field(
        PiiClass.PERSONAL, default=None, description="Token of the passport number"
    )
    kategori: KategoriPemohon = Field(description="Kind of applicant")
    institusi: ShortText = Field(description="Institution, e.g. a university")

    @model_validator(mode="after")
    def _one_identity(self) -> Pemohon:
        citizen = self.kewarganegaraan == "ID"
        if citizen and (self.nik_token is None or self.paspor_token is not None):
            raise PydanticCustomError("identitas_pemohon", "a citizen is identified by a NIK token only")
        if not citizen and (self.paspor_token is None or self.nik_token is not None):
            raise PydanticCustomError(
                "identitas_pemohon", "a foreign national is identified by a passport token"
            )
        return self


class ResearchPermit(PayloadModel):
    """One research recommendation letter (SKP) and its status."""

    nomor_skp: DocNumber = Field(description="Nomor Surat Keterangan Penelitian")
    kode_wilayah: KodeWilayah = Field(description="Region of the issuing office (provinsi or kab/kota)")
    tanggal_pengajuan: date = Field(description="Date applied")
    tanggal_terbit: date | None = Field(default=None, description="Date issued")
    status: StatusSkp = Field(description="Status")
    pemohon: Pemohon = Field(description="The applicant")
    jumlah_anggota_tim: int = Field(
        default=1, ge=1, le=100, description="Researchers including the applicant"
    )
    judul: ShortText = Field(description="Research title")
    lingkup: LingkupPenelitian = Field(description="Scope of the locations")
    lokasi: list[KodeWilayah] = Field(min_length=1, max_length=100, description="Research locations")
    periode_mulai: date = Field(description="Start of fieldwork")
    periode_selesai: date = Field(description="End of fieldwork")

    @model_validator(mode="after")
    def _consistent(self) -> ResearchPermit:
        ensure_order(self.periode_mulai, self.periode_selesai)
        if self.tanggal_terbit is not None:
            ensure_order(self.tanggal_pengajuan, self.tanggal_terbit, "tanggal_terbit_invalid")
        elif self.status in (StatusSkp.DITERBITKAN, StatusSkp.DICABUT):
            raise PydanticCustomError("tanggal_terbit_missing", "an issued letter needs tanggal_terbit")
        return self


SPEC = build_spec(
    name="research_permit",
    model=ResearchPermit,
    title="Research permit (SKP)",
    description="A research recommendation letter: applicant (tokenised), title, locations, period, status.",
    region_levels={1, 2},
    identity=("nomor_skp",),
)

EXAMPLE: dict[str, Any] = {
    "nomor_skp": "070/0412/Kesbangpol/2024",
    "kode_wilayah": "32.01",
    "tanggal_pengajuan": "2024-03-01",
    "tanggal_terbit": "2024-03-06",
    "status": "diterbitkan",
    "pemohon": {
        "nama": "Budi Santoso",
        "kewarganegaraan": "ID",
        "nik_token": "3201010101800099",
        "kategori": "mahasiswa",
        "institusi": "Institut Pertanian Bogor",
    },
    "jumlah_anggota_tim": 1,
    "judul": "Partisipasi Pemilih Pemula pada Pemilu 2024 di Kabupaten Bogor",
    "lingkup": "kabupaten_kota",
    "lokasi": ["32.01.01", "32.01.07"],
    "periode_mulai": "2024-03-11",
    "periode_selesai": "2024-05-31",
}
