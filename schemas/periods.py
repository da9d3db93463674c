"""Which period and status a payload names, whatever its schema: domain rules, not storage.

The warehouses store them as typed columns (``adapters.postgres_sink.rows``) and completeness anchors a
record on the period (``hub.completeness.periods``), so both read the same rule from here.

``period_of``, in this order:

* ``periode_mulai``/``periode_selesai`` or ``tanggal_mulai``/``tanggal_selesai``: an ISO interval
  ``2024-02-01/2024-02-07`` (open end ``/..``);
* ``tahun`` + ``jenis_periode`` + ``periode_ke``: ``2024-T1`` (triwulan), ``2024-S2`` (semester);
* ``tahun`` or ``tahun_anggaran`` alone: the year, ``2024``;
* else none.

``status_of``: the payload's ``status``, else ``status_lpj``, else ``penetapan``; else none.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

_QUARTERS = {"triwulan": ("T", 3), "semester": ("S", 6)}


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
