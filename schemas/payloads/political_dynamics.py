"""political_dynamics 1.0.0: a political-situation report around an election (SIMPOLDAGRI / SIPANTAU).

Identity: the source's report number. Default classification TERBATAS, not RAHASIA: the report carries
aggregates (case counts, issues, demonstrations) and no named individuals, and it is shared with the
Forkopimda, Bawaslu and KPU. A source raises it per message when an issue assessment warrants it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from schemas.pii import PiiClass, pii_field
from schemas.types import DocNumber, FreeText, KodeWilayah, NonNegInt, ShortText

from ._common import PayloadModel, TingkatKerawanan, UrusanPasal25, build_spec, ensure_order


class Agenda(StrEnum):
    """The democratic agenda concerned."""

    PEMILU = "pemilu"
    PILKADA = "pilkada"
    LAINNYA = "lainnya"


class Tahapan(StrEnum):
    """Main election stages (simplified from the KPU stage regulations)."""

    PERENCANAAN = "perencanaan"
    PEMUTAKHIRAN_DATA_PEMILIH = "pemutakhiran_data_pemilih"
    PENCALONAN = "pencalonan"
    KAMPANYE = "kampanye"
    MASA_TENANG = "masa_tenang"
    PEMUNGUTAN_SUARA = "pemungutan_suara"
    REKAPITULASI = "rekapitulasi"
    PENETAPAN_HASIL = "penetapan_hasil"
    SENGKETA = "sengketa"
    PELANTIKAN = "pelantikan"
    DI_LUAR_TAHAPAN = "di_luar_tahapan"


class IsuPolitik(PayloadModel):
    """One political issue observed in the period."""

    topik: ShortText = Field(description="Topic, e.g. 'Politik uang', 'Hoaks', 'Politisasi SARA'")
    uraian: FreeText = pii_field(PiiClass.PERSONAL, description="Description (redacted; may name people)")
    kerawanan: TingkatKerawanan = Field(description="Assessed vulnerability")


class UnjukRasa(PayloadModel):
    """One demonstration."""

    tanggal: date = Field(description="Date")
    tuntutan: FreeText = Field(description="Demands (redacted)")
    perkiraan_massa: NonNegInt | None = Field(default=None, description="Estimated participants")
    kondusif: bool = Field(description="Stayed peaceful (kondusif)")


class PoliticalDynamics(PayloadModel):
    """The political situation of one region in one reporting period."""

    nomor_laporan: DocNumber = Field(description="The source's report number")
    kode_wilayah: KodeWilayah = Field(description="Region reported on")
    periode_mulai: date = Field(description="First day of the period reported")
    periode_selesai: date = Field(description="Last day of the period reported")
    agenda: Agenda = Field(description="Election agenda")
    tahun_agenda: int = Field(ge=2004, le=2100, description="Year of the election")
    tahapan: Tahapan = Field(description="Current election stage")
    kerawanan: TingkatKerawanan = Field(description="Overall vulnerability of the region")
    isu: list[IsuPolitik] = Field(default_factory=list, max_length=50, description="Issues observed")
    kasus_netralitas_asn: NonNegInt = Field(default=0, description="Reported ASN neutrality cases")
    unjuk_rasa: list[UnjukRasa] = Field(default_factory=list, max_length=200, description="Demonstrations")
    ringkasan: FreeText | None = Field(default=None, description="Summary (redacted)")
    urusan: list[UrusanPasal25] = Field(
        default_factory=lambda: [UrusanPasal25.F], description="UU 23/2014 Pasal 25(1) items concerned"
    )

    @model_validator(mode="after")
    def _period(self) -> PoliticalDynamics:
        ensure_order(self.periode_mulai, self.periode_selesai)
        return self


SPEC = build_spec(
    name="political_dynamics",
    model=PoliticalDynamics,
    title="Political dynamics",
    description="Political situation around an election: stage, issues, vulnerability, ASN neutrality, "
    "demonstrations.",
    region_levels={1, 2, 3},
    identity=("nomor_laporan",),
)

EXAMPLE: dict[str, Any] = {
    "nomor_laporan": "POL/2024/02/017",
    "kode_wilayah": "32.01",
    "periode_mulai": "2024-02-01",
    "periode_selesai": "2024-02-07",
    "agenda": "pemilu",
    "tahun_agenda": 2024,
    "tahapan": "masa_tenang",
    "kerawanan": "sedang",
    "isu": [
        {
            "topik": "Politik uang",
            "uraian": "Laporan pembagian sembako oleh tim sukses di dua desa; ditangani Bawaslu.",
            "kerawanan": "tinggi",
        }
    ],
    "kasus_netralitas_asn": 2,
    "unjuk_rasa": [
        {
            "tanggal": "2024-02-05",
            "tuntutan": "Netralitas penyelenggara.",
            "perkiraan_massa": 150,
            "kondusif": True,
        }
    ],
    "ringkasan": "Situasi umum kondusif menjelang pemungutan suara.",
}
