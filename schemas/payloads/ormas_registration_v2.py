"""ormas_registration 2.0.0 (draft): the registration date renamed, member count and revocation added.

Changes from 1.0.0 (``simpul schemas diff ormas_registration 1.0.0 2.0.0`` lists them with reasons):

* ``tanggal_terbit`` is renamed ``tanggal_registrasi`` (the SIORMAS term) - breaking;
* ``bidang_kegiatan`` holds at most 10 fields of activity (was 20): SIORMAS shows no more - breaking;
* ``status`` gains ``dicabut`` (an SKT revoked under UU 16/2017) - compatible;
* optional ``jumlah_anggota`` (reported member count) - compatible.

A draft: exported, diffable and upcast-tested, not yet used for ingest. ``schemas.evolution`` holds the
upcaster from 1.x; records with more than 10 fields of activity cannot be upcast and are quarantined.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.pii import PiiClass, pii_field
from schemas.types import Abbreviation, DocNumber, KodeWilayah, NonNegInt, ShortText

from ._common import PayloadModel, build_spec, ensure_order
from .ormas_registration import EXAMPLE as EXAMPLE_V1
from .ormas_registration import BentukOrmas, JenisRegistrasi, LingkupOrmas, Pengurus


class StatusOrmas(StrEnum):
    """Registration status."""

    AKTIF = "aktif"
    PERLU_LAPOR_ULANG = "perlu_lapor_ulang"
    KEDALUWARSA = "kedaluwarsa"
    DIBEKUKAN = "dibekukan"
    DICABUT = "dicabut"
    DIBUBARKAN = "dibubarkan"


class OrmasRegistration(PayloadModel):
    """A registered ormas with its officers and the validity of its registration."""

    nomor_registrasi: DocNumber = Field(description="Nomor SKT or nomor SK AHU")
    jenis_registrasi: JenisRegistrasi = Field(description="SKT or SK AHU")
    nama: ShortText = Field(description="Name of the organisation")
    singkatan: Abbreviation | None = Field(default=None, description="Abbreviation")
    bentuk: BentukOrmas = Field(description="Legal form")
    lingkup: LingkupOrmas = Field(description="Territorial scope")
    bidang_kegiatan: list[ShortText] = Field(min_length=1, max_length=10, description="Fields of activity")
    alamat_sekretariat: ShortText = pii_field(
        PiiClass.PERSONAL, description="Secretariat address (often an officer's home)"
    )
    kode_wilayah: KodeWilayah = Field(description="Where the secretariat is (kab/kota, kecamatan or desa)")
    tanggal_registrasi: date = Field(description="Date the registration was issued (was tanggal_terbit)")
    berlaku_sampai: date | None = Field(default=None, description="End of validity; none for an SK AHU")
    status: StatusOrmas = Field(description="Registration status")
    jumlah_anggota: NonNegInt | None = Field(default=None, description="Reported number of members")
    pengurus: list[Pengurus] = Field(default_factory=list, max_length=50, description="Officers")

    @model_validator(mode="after")
    def _consistent(self) -> OrmasRegistration:
        ensure_order(self.tanggal_registrasi, self.berlaku_sampai)
        if (
            self.jenis_registrasi is JenisRegistrasi.SK_AHU
            and self.bentuk is BentukOrmas.TIDAK_BERBADAN_HUKUM
        ):
            raise PydanticCustomError("bentuk_mismatch", "an SK AHU is issued only to a legal entity")
        return self


SPEC = build_spec(
    name="ormas_registration",
    version="2.0.0",
    status="draft",
    model=OrmasRegistration,
    title="Ormas registration",
    description="A registered ormas (SKT or SK AHU) with officers, scope, validity and status (SIORMAS).",
    region_levels={2, 3, 4},
    identity=("nomor_registrasi",),
    changes="tanggal_terbit renamed tanggal_registrasi; at most 10 bidang_kegiatan; status dicabut; "
    "optional jumlah_anggota",
)

EXAMPLE: dict[str, Any] = {
    **{k: v for k, v in EXAMPLE_V1.items() if k != "tanggal_terbit"},
    "tanggal_registrasi": EXAMPLE_V1["tanggal_terbit"],
    "jumlah_anggota": 120,
}
