"""ormas_registration 1.0.0: a registered community organisation (ormas), UU 17/2013 jo. UU 16/2017.

Identity: the registration number, a Surat Keterangan Terdaftar (SKT, Kemendagri or a Kesbangpol) or a
Kemenkumham SK AHU for a legal entity. ``kode_wilayah`` is where the secretariat is, as precisely as the
source knows it (kab/kota, kecamatan or desa). Officers (pengurus) carry only a NIK token, never a NIK.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.pii import PiiClass, pii_field
from schemas.types import Abbreviation, DocNumber, KodeWilayah, NikToken, ShortText

from ._common import PayloadModel, build_spec, ensure_order


class JenisRegistrasi(StrEnum):
    """The kind of registration document."""

    SKT = "skt"
    SK_AHU = "sk_ahu"


class BentukOrmas(StrEnum):
    """Legal form: a legal entity (perkumpulan, yayasan) or an organisation without legal personality."""

    PERKUMPULAN = "perkumpulan"
    YAYASAN = "yayasan"
    TIDAK_BERBADAN_HUKUM = "tidak_berbadan_hukum"


class LingkupOrmas(StrEnum):
    """Territorial scope of the organisation."""

    NASIONAL = "nasional"
    PROVINSI = "provinsi"
    KABUPATEN_KOTA = "kabupaten_kota"


class StatusOrmas(StrEnum):
    """Registration status."""

    AKTIF = "aktif"
    PERLU_LAPOR_ULANG = "perlu_lapor_ulang"
    KEDALUWARSA = "kedaluwarsa"
    DIBEKUKAN = "dibekukan"
    DIBUBARKAN = "dibubarkan"


class Pengurus(PayloadModel):
    """One officer of the ormas."""

    jabatan: ShortText = Field(description="Position, e.g. ketua, sekretaris, bendahara")
    nama: ShortText = pii_field(PiiClass.PERSONAL, description="Full name")
    nik_token: NikToken | None = pii_field(PiiClass.PERSONAL, default=None, description="Token of the NIK")


class OrmasRegistration(PayloadModel):
    """A registered ormas with its officers and the validity of its registration."""

    nomor_registrasi: DocNumber = Field(description="Nomor SKT or nomor SK AHU")
    jenis_registrasi: JenisRegistrasi = Field(description="SKT or SK AHU")
    nama: ShortText = Field(description="Name of the organisation")
    singkatan: Abbreviation | None = Field(default=None, description="Abbreviation")
    bentuk: BentukOrmas = Field(description="Legal form")
    lingkup: LingkupOrmas = Field(description="Territorial scope")
    bidang_kegiatan: list[ShortText] = Field(min_length=1, max_length=20, description="Fields of activity")
    alamat_sekretariat: ShortText = pii_field(
        PiiClass.PERSONAL, description="Secretariat address (often an officer's home)"
    )
    kode_wilayah: KodeWilayah = Field(description="Where the secretariat is (kab/kota, kecamatan or desa)")
    tanggal_terbit: date = Field(description="Date the registration was issued")
    berlaku_sampai: date | None = Field(default=None, description="End of validity; none for an SK AHU")
    status: StatusOrmas = Field(description="Registration status")
    pengurus: list[Pengurus] = Field(default_factory=list, max_length=50, description="Officers")

    @model_validator(mode="after")
    def _consistent(self) -> OrmasRegistration:
        ensure_order(self.tanggal_terbit, self.berlaku_sampai)
        if (
            self.jenis_registrasi is JenisRegistrasi.SK_AHU
            and self.bentuk is BentukOrmas.TIDAK_BERBADAN_HUKUM
        ):
            raise PydanticCustomError("bentuk_mismatch", "an SK AHU is issued only to a legal entity")
        return self


SPEC = build_spec(
    name="ormas_registration",
    model=OrmasRegistration,
    title="Ormas registration",
    description="A registered ormas (SKT or SK AHU) with officers, scope, validity and status (SIORMAS).",
    region_levels={2, 3, 4},
    identity=("nomor_registrasi",),
)

EXAMPLE: dict[str, Any] = {
    "nomor_registrasi": "01-00-00/0123/VI/2021",
    "jenis_registrasi": "skt",
    "nama": "Gerakan Pemuda Peduli Lingkungan",
    "singkatan": "GPPL",
    "bentuk": "tidak_berbadan_hukum",
    "lingkup": "kabupaten_kota",
    "bidang_kegiatan": ["Lingkungan Hidup"],
    "alamat_sekretariat": "Jl. Raya Bogor Km 45",
    "kode_wilayah": "320101",
    "tanggal_terbit": "2021-06-12",
    "berlaku_sampai": "2026-06-12",
    "status": "aktif",
    "pengurus": [
        {"jabatan": "ketua", "nama": "Dedi Suryadi", "nik_token": "3201010101800099"},
        {"jabatan": "sekretaris", "nama": "Iis Rohayati", "nik_token": "3201054506750099"},
    ],
}
