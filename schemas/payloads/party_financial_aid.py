"""party_financial_aid 1.0.0: financial aid to a political party (bantuan keuangan partai politik).

Identity: budget year, region and party. Only regional aid flows here, and the level of ``kode_wilayah``
says which legislature the votes were for: level 1 (provinsi) pays parties by their DPRD provinsi votes,
level 2 (kab/kota) by their DPRD kabupaten/kota votes (the ``tingkat`` property; DPR aid is paid by the
ministry itself). PP 5/2009 jo. PP 1/2018 sets the aid per valid vote at Rp1.000 (DPR), Rp1.200 (DPRD
provinsi) and Rp1.500 (DPRD kabupaten/kota); a region may grant more within its fiscal capacity, so
``nilai_per_suara`` is recorded, not forced (see :data:`NILAI_PER_SUARA_PP_1_2018`). ``total_bantuan`` must
equal ``jumlah_suara_sah x nilai_per_suara`` exactly (error ``total_mismatch``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.types import Abbreviation, DocNumber, KodeWilayah, NonNegInt, Rupiah, ShortText

from ._common import PayloadModel, build_spec


class Tingkat(StrEnum):
    """Which legislature the votes were cast for (follows from the level of the paying region)."""

    DPRD_PROVINSI = "dprd_provinsi"
    DPRD_KABUPATEN_KOTA = "dprd_kabupaten_kota"


NILAI_PER_SUARA_PP_1_2018: dict[str, Decimal] = {
    "dpr": Decimal(1000),
    Tingkat.DPRD_PROVINSI.value: Decimal(1200),
    Tingkat.DPRD_KABUPATEN_KOTA.value: Decimal(1500),
}
"""The per-vote amounts of PP 1/2018, Rupiah."""


class StatusLpj(StrEnum):
    """State of the accountability report (LPJ) and its BPK audit."""

    BELUM_LPJ = "belum_lpj"
    LPJ_DISERAHKAN = "lpj_diserahkan"
    DIAUDIT_BPK = "diaudit_bpk"


class PartyFinancialAid(PayloadModel):
    """Aid to one party, for one budget year, from one provincial or kab/kota government."""

    tahun_anggaran: int = Field(ge=2009, le=2100, description="Budget year")
    kode_wilayah: KodeWilayah = Field(description="The paying government: provinsi or kab/kota")
    nama_partai: ShortText = Field(description="Party name")
    singkatan_partai: Abbreviation = Field(description="Party abbreviation")
    jumlah_kursi: NonNegInt = Field(description="Seats won")
    jumlah_suara_sah: NonNegInt = Field(description="Valid votes won")
    nilai_per_suara: Rupiah = Field(description="Aid per valid vote (PP 1/2018: Rp1.200 / Rp1.500 baseline)")
    total_bantuan: Rupiah = Field(description="Total aid = jumlah_suara_sah x nilai_per_suara")
    tanggal_pencairan: date | None = Field(default=None, description="Date paid out")
    status_lpj: StatusLpj = Field(description="Accountability report status")
    nomor_lhp_bpk: DocNumber | None = Field(default=None, description="BPK audit report number")
    realisasi_pendidikan_politik: Rupiah | None = Field(
        default=None, description="Part spent on political education (PP 1/2018: at least 60%)"
    )

    @property
    def tingkat(self) -> Tingkat:
        """DPRD level the votes were cast for: provinsi for a level-1 region, kab/kota below."""
        return Tingkat.DPRD_PROVINSI if "." not in self.kode_wilayah else Tingkat.DPRD_KABUPATEN_KOTA

    @model_validator(mode="after")
    def _consistent(self) -> PartyFinancialAid:
        if self.total_bantuan != self.jumlah_suara_sah * self.nilai_per_suara:
            raise PydanticCustomError(
                "total_mismatch", "total_bantuan must equal jumlah_suara_sah x nilai_per_suara"
            )
        if (
            self.realisasi_pendidikan_politik is not None
            and self.realisasi_pendidikan_politik > self.total_bantuan
        ):
            raise PydanticCustomError("realisasi_exceeds_total", "realisasi exceeds total_bantuan")
        if self.status_lpj is StatusLpj.DIAUDIT_BPK and self.nomor_lhp_bpk is None:
            raise PydanticCustomError("nomor_lhp_bpk_missing", "an audited LPJ needs nomor_lhp_bpk")
        return self


SPEC = build_spec(
    name="party_financial_aid",
    model=PartyFinancialAid,
    title="Party financial aid",
    description="Financial aid to a political party per valid vote (PP 1/2018): votes, rate, total, LPJ.",
    region_levels={1, 2},
    identity=("tahun_anggaran", "kode_wilayah", "singkatan_partai"),
)

EXAMPLE: dict[str, Any] = {
    "tahun_anggaran": 2024,
    "kode_wilayah": "32",
    "nama_partai": "Partai Contoh Nasional",
    "singkatan_partai": "PCN",
    "jumlah_kursi": 12,
    "jumlah_suara_sah": 1543210,
    "nilai_per_suara": "1200.00",
    "total_bantuan": "1851852000.00",
    "tanggal_pencairan": "2024-05-17",
    "status_lpj": "diaudit_bpk",
    "nomor_lhp_bpk": "12/LHP/XVIII.BDG/06/2024",
    "realisasi_pendidikan_politik": "1111111200.00",
}
