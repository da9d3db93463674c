"""foreign_national_monitoring 1.0.0: a case of monitoring foreign nationals' activity
(pengawasan orang asing).

Identity: the case id. ``kode_wilayah`` is where the activity takes place (kab/kota, kecamatan or desa).
Subjects are identified by passport tokens and citizenship only; names are not needed and not carried.
Default classification RAHASIA: a case file about identifiable persons under surveillance, shared within
the Tim Pengawasan Orang Asing (Timpora) before any finding is established.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.classification import Classification
from schemas.pii import PiiClass, pii_field
from schemas.types import CountryCode, DocNumber, FreeText, KodeWilayah, PasporToken, ShortText

from ._common import PayloadModel, build_spec, ensure_order


class IzinTinggal(StrEnum):
    """Kind of stay permit."""

    BEBAS_VISA = "bebas_visa"
    VISA_KUNJUNGAN = "visa_kunjungan"
    KITAS = "kitas"
    KITAP = "kitap"
    TIDAK_DIKETAHUI = "tidak_diketahui"


class JenisKegiatan(StrEnum):
    """Kind of activity observed."""

    WISATA = "wisata"
    BISNIS = "bisnis"
    BEKERJA = "bekerja"
    PENELITIAN = "penelitian"
    KEAGAMAAN = "keagamaan"
    SOSIAL_BUDAYA = "sosial_budaya"
    JURNALISTIK = "jurnalistik"
    POLITIK = "politik"
    LAINNYA = "lainnya"


class Penetapan(StrEnum):
    """The case's finding."""

    DALAM_PEMANTAUAN = "dalam_pemantauan"
    TIDAK_ADA_PELANGGARAN = "tidak_ada_pelanggaran"
    PEMBINAAN = "pembinaan"
    DISERAHKAN_IMIGRASI = "diserahkan_imigrasi"
    DISERAHKAN_KEPOLISIAN = "diserahkan_kepolisian"


class SubjekAsing(PayloadModel):
    """One foreign national in the case."""

    kewarganegaraan: CountryCode = Field(description="Citizenship, ISO 3166-1 alpha-2")
    paspor_token: PasporToken = pii_field(PiiClass.PERSONAL, description="Token of the passport number")
    izin_tinggal: IzinTinggal = Field(description="Kind of stay permit")

    @model_validator(mode="after")
    def _foreign(self) -> SubjekAsing:
        if self.kewarganegaraan == "ID":
            raise PydanticCustomError("subjek_wni", "a subject of this schema is not an Indonesian citizen")
        return self


class ForeignNationalMonitoring(PayloadModel):
    """One monitoring case: subjects, activity, place, period and finding."""

    nomor_kasus: DocNumber = Field(description="Case id")
    kode_wilayah: KodeWilayah = Field(description="Where the activity takes place")
    subjek: list[SubjekAsing] = Field(min_length=1, max_length=100, description="Foreign nationals concerned")
    kegiatan: JenisKegiatan = Field(description="Kind of activity")
    uraian_kegiatan: FreeText = pii_field(PiiClass.PERSONAL, description="The activity (redacted)")
    sponsor: ShortText | None = Field(default=None, description="Sponsoring organisation, if any")
    periode_mulai: date = Field(description="First day of the activity")
    periode_selesai: date | None = Field(default=None, description="Last day, if known")
    penetapan: Penetapan = Field(description="Finding")
    tanggal_penetapan: date | None = Field(default=None, description="Date of the finding")
    instansi_terlibat: list[ShortText] = Field(
        default_factory=list, max_length=20, description="Timpora members involved, e.g. Imigrasi, Polres"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ForeignNationalMonitoring:
        ensure_order(self.periode_mulai, self.periode_selesai)
        if self.penetapan is not Penetapan.DALAM_PEMANTAUAN and self.tanggal_penetapan is None:
            raise PydanticCustomError("tanggal_penetapan_missing", "a finding needs tanggal_penetapan")
        return self


SPEC = build_spec(
    name="foreign_national_monitoring",
    model=ForeignNationalMonitoring,
    title="Foreign national monitoring",
    description="A case of monitoring foreign nationals' activity: subjects (tokenised), activity, place, "
    "period, finding.",
    region_levels={2, 3, 4},
    identity=("nomor_kasus",),
    classification=Classification.RAHASIA,
)

EXAMPLE: dict[str, Any] = {
    "nomor_kasus": "POA/51.03/2024/007",
    "kode_wilayah": "51.03.01",
    "subjek": [
        {"kewarganegaraan": "au", "paspor_token": "PA1234567", "izin_tinggal": "visa_kunjungan"},
        {"kewarganegaraan": "NL", "paspor_token": "NX98F2K41", "izin_tinggal": "visa_kunjungan"},
    ],
    "kegiatan": "bekerja",
    "uraian_kegiatan": "Memberi kursus selancar berbayar dengan visa kunjungan wisata.",
    "sponsor": "Pantai Kuta Surf School",
    "periode_mulai": "2024-04-02",
    "penetapan": "diserahkan_imigrasi",
    "tanggal_penetapan": "2024-04-20",
    "instansi_terlibat": ["Kantor Imigrasi Ngurah Rai", "Polres Badung", "Kesbangpol Kabupaten Badung"],
}
