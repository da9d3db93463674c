"""A Python mapping: the early-warning app's ``laporan.dibuat`` event -> ``early_warning`` (tests, demo).

Places by name (``Kab. Banggai`` / ``Luwuk`` / ``Karaton``) -> the deepest kode wilayah found (a misspelt
kelurahan still places the report in its kecamatan); the app's ``kategori`` -> aspek, jenis ATHG and a
first tingkat; coordinates as strings -> a point; ``fkdm`` -> the reporting unit. Photos and the reporter
(``pelapor``) are dropped. Identity stays as the webhook set it (event id, revision).
"""

from __future__ import annotations

from typing import Any

from hub.errors import FieldIssue, MappingError
from hub.records import MappedRecord, SourceRecord, passthrough
from schemas.regions import AmbiguousRegion, RegionNotFound, default_index

MAPPING_VERSION = "early-warning-app/1"
# kategori -> (aspek, jenis_athg, tingkat): the app has no level, so a first assessment by category.
_KATEGORI = {
    "potensi konflik sara": ("sosial", "ancaman", "sedang"),
    "unjuk rasa": ("politik", "gangguan", "sedang"),
    "sengketa lahan": ("ekonomi", "tantangan", "rendah"),
    "radikalisme": ("ideologi", "ancaman", "tinggi"),
    "gangguan kamtibmas": ("hankam", "gangguan", "sedang"),
}
_DEFAULT = ("sosial", "gangguan", "sedang")


def map_early_warning(record: SourceRecord) -> MappedRecord:
    """Map one event; ``MappingError`` names each unreadable field (never its value)."""
    raw = record.raw
    laporan = _object(raw.get("laporan"))
    lokasi = _object(laporan.get("lokasi"))
    issues: list[FieldIssue] = []
    kategori = _text(laporan.get("kategori"))
    aspek, jenis, tingkat = _KATEGORI.get((kategori or "").lower(), _DEFAULT)
    payload: dict[str, Any] = {
        "sumber_id": _text(raw.get("event_id")) or record.source_record_id,
        "waktu_laporan": _text(raw.get("dikirim")),
        "aspek": aspek,
        "jenis_athg": jenis,
        "kategori": kategori,
        "judul": _text(laporan.get("judul")),
        "uraian": _text(laporan.get("uraian")),
        "tingkat": tingkat,
        "sumber": "fkdm" if _text(laporan.get("fkdm")) else "masyarakat",
        "nama_sumber": _text(laporan.get("fkdm")),
        "pelapor_anonim": laporan.get("anonim") is not False,
    }
    try:
        payload["kode_wilayah"] = _region(lokasi)
    except (RegionNotFound, AmbiguousRegion):
        issues.append(
            FieldIssue("laporan.lokasi.kab", "region_unresolved", "the kabupaten is unknown or ambiguous")
        )
    lat, lng = _text(lokasi.get("lat")), _text(lokasi.get("lng"))
    if lat and lng:
        payload["lokasi"] = {"lat": lat, "lon": lng}
    if issues:
        raise MappingError("the early-warning event cannot be mapped", issues=issues)
    identity = passthrough(record)
    return MappedRecord(
        payload={k: v for k, v in payload.items() if v is not None},
        source_record_id=identity.source_record_id,
        revision=identity.revision,
        op=record.op,
        mapping_version=MAPPING_VERSION,
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _region(lokasi: dict[str, Any]) -> str:
    index = default_index()
    code = index.resolve(_text(lokasi.get("kab")) or "", level=2).code
    for key, level in (("kec", 3), ("kel", 4)):
        name = _text(lokasi.get(key))
        if not name:
            break
        try:
            code = index.resolve(name, parent=code, level=level).code
        except (RegionNotFound, AmbiguousRegion):
            break
    return code
