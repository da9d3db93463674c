"""research_permit 1.1.0: the application date becomes optional (unknown means unknown).

Changes from 1.0.0 (compatible; every 1.0.0 record is a 1.1.0 record):

* ``tanggal_pengajuan`` is optional: a DPMPTSP licensing service (SOAP) gives the letter's number, dates of
  issue and fieldwork, but not the day the application came in; a mapping had to invent one. When it is
  given it must still not be after ``tanggal_terbit``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.types import DocNumber, KodeWilayah, ShortText

from ._common import PayloadModel, build_spec, ensure_order
from .research_permit import EXAMPLE as EXAMPLE_V1
from .research_permit import LingkupPenelitian, Pemohon, StatusSkp


class ResearchPermit(PayloadModel):
    """One research recommendation letter (SKP) and its status."""

    nomor_skp: DocNumber = Field(description="Nomor Surat Keterangan Penelitian")
    kode_wilayah: KodeWilayah = Field(description="Region of the issuing office (provinsi or kab/kota)")
    tanggal_pengajuan: date | None = Field(default=None, description="Date applied, if the source has it")
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
            if self.tanggal_pengajuan is not None:
                ensure_order(self.tanggal_pengajuan, self.tanggal_terbit, "tanggal_terbit_invalid")
        elif self.status in (StatusSkp.DITERBITKAN, StatusSkp.DICABUT):
            raise PydanticCustomError("tanggal_terbit_missing", "an issued letter needs tanggal_terbit")
        return self


SPEC = build_spec(
    name="research_permit",
    version="1.1.0",
    model=ResearchPermit,
    title="Research permit (SKP)",
    description="A research recommendation letter: applicant (tokenised), title, locations, period, status.",
    region_levels={1, 2},
    identity=("nomor_skp",),
    changes="tanggal_pengajuan optional (a licensing service may not record the application date)",
)

EXAMPLE: dict[str, Any] = {k: v for k, v in EXAMPLE_V1.items() if k != "tanggal_pengajuan"}
