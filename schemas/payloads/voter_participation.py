"""voter_participation 1.0.0: voter turnout of one election in one region, with a breakdown by generation.

Identity: election, year and region. ``partisipasi`` is checked against the counts: it must equal
``pengguna_hak_pilih / (dpt + dptb + dpk) * 100`` within 0.01 percentage points (error
``partisipasi_mismatch``); with no DPTb/DPK figures that is pengguna / DPT, as KPU publishes it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.types import KodeWilayah, NonNegInt, Percent

from ._common import PayloadModel, build_spec

TOLERANCE = Decimal("0.01")


class JenisPemilihan(StrEnum):
    """Which election."""

    PRESIDEN = "pemilu_presiden"
    DPR = "pemilu_dpr"
    DPD = "pemilu_dpd"
    DPRD_PROVINSI = "pemilu_dprd_provinsi"
    DPRD_KABUPATEN_KOTA = "pemilu_dprd_kabupaten_kota"
    GUBERNUR = "pilkada_gubernur"
    BUPATI_WALI_KOTA = "pilkada_bupati_wali_kota"


class Generasi(StrEnum):
    """Voter generation, by birth year as KPU groups them."""

    PRE_BOOMER = "pre_boomer"
    BABY_BOOMER = "baby_boomer"
    GEN_X = "gen_x"
    MILENIAL = "milenial"
    GEN_Z = "gen_z"


class PartisipasiGenerasi(PayloadModel):
    """Registered voters and voters who voted, for one generation."""

    generasi: Generasi = Field(description="Generation")
    pemilih: NonNegInt = Field(description="Registered voters of this generation")
    pengguna_hak_pilih: NonNegInt = Field(description="Of them, those who voted")

    @model_validator(mode="after")
    def _bounded(self) -> PartisipasiGenerasi:
        if self.pengguna_hak_pilih > self.pemilih:
            raise PydanticCustomError("pengguna_exceeds_pemilih", "more voters than registered voters")
        return self


class VoterParticipation(PayloadModel):
    """Turnout of one election in one region."""

    pemilihan: JenisPemilihan = Field(description="Which election")
    tahun: int = Field(ge=2004, le=2100, description="Election year")
    tanggal_pemungutan: date = Field(description="Polling day")
    kode_wilayah: KodeWilayah = Field(description="Region the figures are for (any level)")
    dpt: NonNegInt = Field(description="Voters on the final voter list (DPT)")
    dptb: NonNegInt = Field(default=0, description="Voters on the additional list (DPTb)")
    dpk: NonNegInt = Field(default=0, description="Voters on the special list (DPK)")
    pengguna_hak_pilih: NonNegInt = Field(description="Voters who voted")
    partisipasi: Percent = Field(description="Turnout, % of all listed voters")
    target_partisipasi: Percent | None = Field(default=None, description="Target turnout, %")
    jumlah_tps: NonNegInt | None = Field(default=None, description="Polling stations (TPS)")
    per_generasi: list[PartisipasiGenerasi] = Field(
        default_factory=list, max_length=5, description="Breakdown by generation"
    )

    @model_validator(mode="after")
    def _consistent(self) -> VoterParticipation:
        listed = self.dpt + self.dptb + self.dpk
        if self.pengguna_hak_pilih > listed:
            raise PydanticCustomError("pengguna_exceeds_pemilih", "more voters than listed voters")
        expected = Decimal(self.pengguna_hak_pilih) * 100 / listed if listed else Decimal(0)
        if abs(expected - self.partisipasi) > TOLERANCE:
            raise PydanticCustomError(
                "partisipasi_mismatch", "partisipasi must equal pengguna_hak_pilih / listed voters x 100"
            )
        if len({g.generasi for g in self.per_generasi}) != len(self.per_generasi):
            raise PydanticCustomError("duplicate_generasi", "each generation may appear once")
        return self


SPEC = build_spec(
    name="voter_participation",
    model=VoterParticipation,
    title="Voter participation",
    description="Voter turnout of one election in one region: DPT, voters, participation %, target, by "
    "generation.",
    region_levels={1, 2, 3, 4},
    identity=("pemilihan", "tahun", "kode_wilayah"),
)

EXAMPLE: dict[str, Any] = {
    "pemilihan": "pemilu_presiden",
    "tahun": 2024,
    "tanggal_pemungutan": "2024-02-14",
    "kode_wilayah": "32.01.01",
    "dpt": 260512,
    "dptb": 1840,
    "dpk": 312,
    "pengguna_hak_pilih": 219874,
    "partisipasi": "83.71",
    "target_partisipasi": "81.00",
    "jumlah_tps": 1012,
    "per_generasi": [
        {"generasi": "milenial", "pemilih": 87340, "pengguna_hak_pilih": 74010},
        {"generasi": "gen_z", "pemilih": 61200, "pengguna_hak_pilih": 50310},
    ],
}
