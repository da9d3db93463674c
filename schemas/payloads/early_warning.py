"""early_warning 1.0.0: an early-warning report (deteksi dini) of a threat to social and political stability.

Identity: the source's report id with the region and the report time. Default classification RAHASIA:
early warnings come from FKDM and Kominda intelligence and name places of SARA tension before anything
happened; leaking them can itself provoke conflict. A source may lower it per message only by policy.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field

from schemas.classification import Classification
from schemas.pii import PiiClass, pii_field
from schemas.types import DocNumber, FreeText, KodeWilayah, ShortText

from ._common import GeoPoint, PayloadModel, TingkatKerawanan, build_spec


class Aspek(StrEnum):
    """Aspect of national resilience concerned (ipoleksosbud-hankam)."""

    IDEOLOGI = "ideologi"
    POLITIK = "politik"
    EKONOMI = "ekonomi"
    SOSIAL = "sosial"
    BUDAYA = "budaya"
    HANKAM = "hankam"


class JenisAthg(StrEnum):
    """Kind of ATHG: ancaman, tantangan, hambatan, gangguan (threat, challenge, obstacle, disturbance)."""

    ANCAMAN = "ancaman"
    TANTANGAN = "tantangan"
    HAMBATAN = "hambatan"
    GANGGUAN = "gangguan"


class SumberInformasi(StrEnum):
    """Where the information came from."""

    FKDM = "fkdm"
    KOMINDA = "kominda"
    MASYARAKAT = "masyarakat"
    MEDIA = "media"
    APARAT = "aparat"
    LAINNYA = "lainnya"


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
    tingkat: TingkatKerawanan = Field(description="Assessed level")
    sumber: SumberInformasi = Field(description="Kind of source")
    nama_sumber: ShortText | None = Field(default=None, description="Reporting unit, e.g. FKDM Kec. Luwuk")
    pelapor_anonim: bool = Field(default=True, description="The reporter stays anonymous (no reporter data)")
    rekomendasi: FreeText | None = Field(default=None, description="Recommended action (redacted)")
    lokasi: GeoPoint | None = Field(default=None, description="Coordinates, if known")


SPEC = build_spec(
    name="early_warning",
    model=EarlyWarning,
    title="Early warning",
    description="An early-warning (deteksi dini) report of ATHG by aspect, level and source (SIPKS, FKDM).",
    region_levels={1, 2, 3, 4},
    identity=("sumber_id", "kode_wilayah", "waktu_laporan"),
    classification=Classification.RAHASIA,
)

EXAMPLE: dict[str, Any] = {
    "sumber_id": "c1f0a9e2-7c1b-4e55-9a61-2f0d2b7f9a10",
    "waktu_laporan": "2024-02-10T21:14:03+08:00",
    "kode_wilayah": "72.01.04.1031",
    "aspek": "sosial",
    "jenis_athg": "ancaman",
    "kategori": "Potensi Konflik SARA",
    "judul": "Penolakan pembangunan rumah ibadah",
    "uraian": "Sekelompok warga berkumpul di depan lokasi pembangunan dan menolak kelanjutan pekerjaan.",
    "tingkat": "sedang",
    "sumber": "fkdm",
    "nama_sumber": "FKDM Kec. Luwuk",
    "pelapor_anonim": True,
    "rekomendasi": "Fasilitasi dialog FKUB dengan warga dan panitia pembangunan.",
    "lokasi": {"lat": "-0.9512", "lon": "122.7890"},
}
