"""A Python mapping: the legacy PHP conflict app's report -> ``conflict_incident`` (tests and the demo).

What it does with the sample's oddities: ``tgl_kejadian`` dd/mm/yyyy + ``jam`` with a dot -> an aware
time in WIB; regions by name (``KAB. BOGOR`` / ``CIBINONG`` / ``Ciriung``) -> the deepest kode wilayah the
resolver finds; ``"Rp 15.000.000,-"`` -> 15000000, ``"-"`` -> none; counts as strings -> ints; ``"Warga
RW 05 vs PT Maju Properti"`` -> two parties; status words -> ``status`` and ``tahap``. The reporter's name,
NIK and phone (``pelapor_*``) are dropped: the schema has no place for them. The chronology keeps its
text; validation redacts NIKs and phone numbers in it. Identity (id, revision) stays as the source set it.

Until declarative mappings can name a Python function, a node uses this only when handed it directly.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from hub.errors import FieldIssue, MappingError
from hub.records import MappedRecord, SourceRecord, passthrough
from schemas.regions import AmbiguousRegion, RegionNotFound, default_index

WIB = timezone(timedelta(hours=7))
_STATUS = {
    "baru": ("baru", "pencegahan"),
    "proses": ("proses", "penghentian"),
    "selesai": ("selesai", "pemulihan"),
}
_SUMBER = (
    ("lahan", "sumber_daya_alam"),
    ("tambang", "sumber_daya_alam"),
    ("batas", "batas_wilayah"),
    ("pilkades", "politik"),
    ("pemilu", "politik"),
    ("agama", "agama_suku_etnis"),
    ("suku", "agama_suku_etnis"),
)
MAPPING_VERSION = "legacy-conflict-php/1"


def map_legacy_conflict(record: SourceRecord) -> MappedRecord:
    """Map one legacy report; ``MappingError`` lists every field that cannot be read (no values quoted)."""
    raw, issues = record.raw, []
    payload: dict[str, Any] = {
        "nomor_laporan": _text(raw.get("no_laporan")),
        "jenis_konflik": _text(raw.get("jenis_konflik")),
        "sumber_konflik": _sumber(_text(raw.get("jenis_konflik")) or ""),
        "kronologi": _text(raw.get("kronologis")),
        "pihak": [
            {"nama_pihak": p.strip()}
            for p in re.split(r"\s+vs\.?\s+", _text(raw.get("pihak_terlibat")) or "")
            if p.strip()
        ],
    }
    occurred = None
    try:
        occurred = _when(raw)
        payload["waktu_kejadian"] = occurred.isoformat()
    except (ValueError, TypeError):
        issues.append(FieldIssue("tgl_kejadian", "date_format", "expected dd/mm/yyyy and hh.mm"))
    status = _STATUS.get((_text(raw.get("status")) or "").lower())
    if status is None:
        issues.append(FieldIssue("status", "unknown_value", "expected Baru, Proses or Selesai"))
    else:
        payload["status"], payload["tahap"] = status
    try:
        payload["korban"] = {
            "meninggal": _count(raw.get("korban_md")),
            "luka": _count(raw.get("korban_luka")),
        }
    except ValueError:
        issues.append(FieldIssue("korban", "int_parsing", "victim counts must be whole numbers"))
    try:
        payload["kerugian"] = _rupiah(raw.get("kerugian"))
    except ValueError:
        issues.append(FieldIssue("kerugian", "rupiah_format", "expected 'Rp 15.000.000,-' or '-'"))
    try:
        payload["kode_wilayah"] = _region(raw)
    except (RegionNotFound, AmbiguousRegion):
        issues.append(
            FieldIssue("kabupaten", "region_unresolved", "the kabupaten name is not unique or unknown")
        )
    if issues:
        raise MappingError("the legacy conflict report cannot be mapped", issues=issues)
    identity = passthrough(record)  # id and revision as the source adapter set them
    return MappedRecord(
        payload={k: v for k, v in payload.items() if v is not None},
        source_record_id=identity.source_record_id,
        revision=identity.revision,
        op=record.op,
        occurred_at=occurred,
        mapping_version=MAPPING_VERSION,
    )


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _when(raw: Any) -> datetime:
    day = datetime.strptime(str(raw.get("tgl_kejadian", "")).strip(), "%d/%m/%Y")
    hours, minutes = [*str(raw.get("jam") or "00.00").strip().replace(":", ".").split("."), "0"][:2]
    return day.replace(hour=int(hours), minute=int(minutes), tzinfo=WIB)


def _count(value: Any) -> int:
    text = str(value if value not in (None, "", "-") else "0").strip()
    number = int(text)
    if number < 0:
        raise ValueError("negative")
    return number


def _rupiah(value: Any) -> str | None:
    text = str(value or "").strip()
    if text in ("", "-", "Rp -", "Rp -,-"):
        return None
    digits = re.fullmatch(r"(?:Rp\.?\s*)?([\d.]+)(?:,(?:-|00))?", text)
    if digits is None:
        raise ValueError("not a rupiah amount")
    return digits.group(1).replace(".", "")


def _sumber(jenis: str) -> str:
    lowered = jenis.lower()
    return next((sumber for word, sumber in _SUMBER if word in lowered), "sosial_budaya")


def _region(raw: Any) -> str:
    """The deepest region the names resolve to: kabupaten, then kecamatan and desa within it if found."""
    index = default_index()
    code = index.resolve(str(raw.get("kabupaten", "")), level=2).code
    for field, level in (("kecamatan", 3), ("desa", 4)):
        name = _text(raw.get(field))
        if not name:
            break
        try:
            code = index.resolve(name, parent=code, level=level).code
        except (RegionNotFound, AmbiguousRegion):
            break  # a misspelt desa still places the report in its kecamatan
    return code
