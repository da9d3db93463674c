"""conflict_incident 1.0.0: a social-conflict incident and its handling
(UU 7/2012, Penanganan Konflik Sosial).

Identity: the source's report number. ``kode_wilayah`` is where it happened (kab/kota, kecamatan or desa).
The chronology is free text and the main leak path: it is redacted (NIKs, phone numbers) on validation and
marked ``specific`` (it may tie a named person to injuries or alleged offences, UU 27/2022 Pasal 4(2)).
Reporter data (pelapor) does not belong here: adapters drop it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field

from schemas.pii import PiiClass, pii_field
from schemas.types import DocNumber, FreeText, KodeWilayah, NonNegInt, Rupiah, ShortText

from ._common import GeoPoint, PayloadModel, build_spec


class TahapKonflik(StrEnum):
    """Stage: a potential conflict, or one of the handling stages of UU 7/2012 Pasal 4 (prevention,
    stopping, post-conflict recovery)."""

    POTENSI = "potensi"
    PENCEGAHAN = "pencegahan"
    PENGHENTIAN = "penghentian"
    PEMULIHAN = "pemulihan"


class SumberKonflik(StrEnum):
    """Source of the conflict (UU 7/2012 Pasal 5)."""

    POLITIK = "politik"
    EKONOMI = "ekonomi"
    SOSIAL_BUDAYA = "sosial_budaya"
    AGAMA_SUKU_ETNIS = "agama_suku_etnis"
    BATAS_WILAYAH = "batas_wilayah"
    SUMBER_DAYA_ALAM = "sumber_daya_alam"
    DISTRIBUSI_SUMBER_DAYA = "distribusi_sumber_daya"


class SkalaKonflik(StrEnum):
    """Scale of the conflict situation (UU 7/2012 Pasal 14-15), or below any declared status."""

    LOKAL = "lokal"
    KABUPATEN_KOTA = "kabupaten_kota"
    PROVINSI = "provinsi"
    NASIONAL = "nasional"


class StatusPenanganan(StrEnum):
    """Handling status as reported by the source."""

    BARU = "baru"
    PROSES = "proses"
    SELESAI = "selesai"


class Pihak(PayloadModel):
    """A party to the conflict: a group or an organisation, not a named person."""

    nama_pihak: ShortText = Field(description="The group, e.g. 'Warga RW 05' or a company")
    perkiraan_jumlah: NonNegInt | None = Field(default=None, description="Estimated number of people")


class Korban(PayloadModel):
    """Victim counts."""

    meninggal: NonNegInt = Field(default=0, description="Dead")
    luka: NonNegInt = Field(default=0, description="Injured")
    mengungsi: NonNegInt = Field(default=0, description="Displaced")


class Penanganan(PayloadModel):
    """One handling step."""

    tanggal: date = Field(description="Date of the step")
    tindakan: FreeText = pii_field(PiiClass.PERSONAL, description="What was done (redacted)")
    pelaksana: ShortText = Field(description="Who acted, an institution (e.g. Polsek, Kesbangpol, FKUB)")


class ConflictIncident(PayloadModel):
    """One conflict incident with parties, victims, losses, chronology and handling steps."""

    nomor_laporan: DocNumber = Field(description="The source's report number")
    waktu_kejadian: AwareDatetime = Field(description="When it happened, with the source's UTC offset")
    kode_wilayah: KodeWilayah = Field(description="Where it happened")
    tahap: TahapKonflik = Field(description="Stage of handling")
    sumber_konflik: SumberKonflik = Field(description="Source of the conflict (UU 7/2012 Pasal 5)")
    jenis_konflik: ShortText = Field(description="The source's own label, e.g. 'Sengketa Lahan'")
    skala: SkalaKonflik = Field(default=SkalaKonflik.LOKAL, description="Scale")
    pihak: list[Pihak] = Field(min_length=1, max_length=20, description="Parties involved")
    korban: Korban = Field(default_factory=Korban, description="Victim counts")
    kerugian: Rupiah | None = Field(default=None, description="Material loss in Rupiah, if assessed")
    kronologi: FreeText = pii_field(
        PiiClass.SPECIFIC, description="Chronology (redacted; may name people, injuries, alleged offences)"
    )
    penanganan: list[Penanganan] = Field(default_factory=list, max_length=100, description="Handling steps")
    status: StatusPenanganan = Field(description="Handling status")
    lokasi: GeoPoint | None = Field(default=None, description="Coordinates, if known")


SPEC = build_spec(
    name="conflict_incident",
    model=ConflictIncident,
    title="Conflict incident",
    description="A social-conflict incident: stage, source, parties, victims, losses, chronology, handling.",
    region_levels={2, 3, 4},
    identity=("nomor_laporan",),
)

EXAMPLE: dict[str, Any] = {
    "nomor_laporan": "LK/117/I/2024",
    "waktu_kejadian": "2024-01-25T14:30:00+07:00",
    "kode_wilayah": "32.01.01.1010",
    "tahap": "penghentian",
    "sumber_konflik": "sumber_daya_alam",
    "jenis_konflik": "Sengketa Lahan",
    "skala": "lokal",
    "pihak": [{"nama_pihak": "Warga RW 05", "perkiraan_jumlah": 40}, {"nama_pihak": "PT Maju Properti"}],
    "korban": {"meninggal": 0, "luka": 3},
    "kerugian": "15000000",
    "kronologi": "Sdr. Budi Santoso (NIK 3201010101800099) melaporkan pemagaran lahan warga oleh pengembang.",
    "penanganan": [
        {
            "tanggal": "2024-01-26",
            "tindakan": "Mediasi di kantor kecamatan.",
            "pelaksana": "Kecamatan Cibinong",
        }
    ],
    "status": "proses",
}
