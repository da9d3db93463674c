"""An envelope as a warehouse row: the SQLite warehouse's canonical payload and content hash (shared, so
both warehouses agree on what "the same content" is), plus the typed columns consumers query.

Typed columns derived from the payload, whatever its schema:

* ``province`` / ``kab_kota``: the first one / two words of the kode wilayah (``32.01.05`` -> ``32``,
  ``32.01``; a province-level record has no kab_kota);
* ``period`` with ``period_start`` / ``period_end``: from ``periode_mulai``/``periode_selesai`` or
  ``tanggal_mulai``/``tanggal_selesai`` (an ISO interval ``2024-02-01/2024-02-07``, open end ``/..``);
  from ``tahun`` + ``jenis_periode`` + ``periode_ke`` (``2024-T1``, ``2024-S2``, ``2024``); from
  ``tahun_anggaran`` or an election ``tahun`` (``2024``); else NULL;
* ``status``: the payload's ``status``, else ``status_lpj``, else ``penetapan``; else NULL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from adapters.sqlite_sink.rows import canonical_payload, content_hash, trace_json
from hub.quarantine.entry import province_of
from schemas.envelope import Envelope

COLUMNS = (
    ("record_key", "text"), ("schema_name", "text"), ("schema_version", "text"), ("source_system", "text"),
    ("source_record_id", "text"), ("kode_wilayah", "text"), ("province", "text"), ("kab_kota", "text"),
    ("period", "text"), ("period_start", "date"), ("period_end", "date"), ("status", "text"),
    ("revision", "bigint"), ("idempotency_key", "text"), ("message_id", "text"), ("op", "text"),
    ("state", "text"), ("content_hash", "text"), ("payload", "jsonb"), ("envelope", "jsonb"),
    ("occurred_at", "timestamptz"), ("received_at", "timestamptz"),
)  # fmt: skip
"""Columns written per row (``applied_at`` is the transaction's ``now()``), with their SQL types."""
_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
_QUARTERS = {"triwulan": ("T", 3), "semester": ("S", 6)}


@dataclass(frozen=True, slots=True)
class PgRow:
    """One envelope ready to write; ``values`` in ``COLUMNS`` order."""

    record_key: str
    idempotency_key: str
    revision: int
    content_hash: str
    values: tuple[Any, ...]
    message_id: str = ""
    trace: str = ""  # rows.trace_json of the SQLite warehouse: the same lineage record in both


def jsonb_text(json_text: str) -> str:
    """JSON text PostgreSQL's jsonb accepts: a ``\\u0000`` escape (jsonb refuses it) becomes U+FFFD.

    Only the stored copy changes; the content hash is taken over the canonical bytes before this.
    """
    # The regex scan cost ~40 us per 1 KB record (a third of the sink's CPU); the escape is rare.
    if "\\u0000" not in json_text:
        return json_text
    return _NUL.sub(r"\1\\ufffd", json_text)


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value if not isinstance(value, datetime) else value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _year(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2200 else None


def period_of(payload: dict[str, Any]) -> tuple[str | None, date | None, date | None]:
    """(label, first day, last day) of the period a payload is about; see the module docstring."""
    for start_key, end_key in (("periode_mulai", "periode_selesai"), ("tanggal_mulai", "tanggal_selesai")):
        start = _day(payload.get(start_key))
        if start is not None:
            end = _day(payload.get(end_key))
            return f"{start.isoformat()}/{end.isoformat() if end else '..'}", start, end
    year = _year(payload.get("tahun"))
    kind, nth = payload.get("jenis_periode"), payload.get("periode_ke")
    if (
        year is not None
        and kind in _QUARTERS
        and isinstance(nth, int)
        and 1 <= nth <= 12 // _QUARTERS[kind][1]
    ):
        letter, months = _QUARTERS[kind]
        first_month = (nth - 1) * months + 1
        last_month = first_month + months - 1
        end = date(year + 1, 1, 1) if last_month == 12 else date(year, last_month + 1, 1)
        return f"{year}-{letter}{nth}", date(year, first_month, 1), date.fromordinal(end.toordinal() - 1)
    year = year if year is not None else _year(payload.get("tahun_anggaran"))
    if year is not None:
        return str(year), date(year, 1, 1), date(year, 12, 31)
    return None, None, None


def status_of(payload: dict[str, Any]) -> str | None:
    """The payload's workflow or finding status, if it has one."""
    for key in ("status", "status_lpj", "penetapan"):
        value = payload.get(key)
        if isinstance(value, str):
            return value
    return None


def kab_kota_of(kode_wilayah: str) -> str | None:
    """``32.01`` for any code at or below a kab/kota; None for a province."""
    parts = kode_wilayah.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def prepare(envelope: Envelope) -> PgRow:
    """Serialise one envelope; raises (pydantic errors) only if its payload is not JSON-able at all."""
    payload_json = canonical_payload(envelope)
    digest = content_hash(envelope.op, payload_json)
    period, start, end = period_of(envelope.payload)
    values = (
        envelope.record_key,
        envelope.schema_name,
        envelope.schema_version,
        envelope.source.system,
        envelope.source_record_id,
        envelope.kode_wilayah,
        province_of(envelope.kode_wilayah),
        kab_kota_of(envelope.kode_wilayah),
        period,
        start,
        end,
        status_of(envelope.payload),
        envelope.revision,
        envelope.idempotency_key,
        envelope.message_id,
        envelope.op,
        "withdrawn" if envelope.op == "withdraw" else "active",
        digest,
        jsonb_text(payload_json.decode()),
        jsonb_text(envelope.model_dump_json(exclude={"payload"})),
        envelope.occurred_at,
        envelope.received_at,
    )
    return PgRow(
        envelope.record_key,
        envelope.idempotency_key,
        envelope.revision,
        digest,
        values,
        envelope.message_id,
        jsonb_text(trace_json(envelope)),
    )
