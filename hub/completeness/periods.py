"""Reporting periods (month, quarter, semester, year) and which period a warehouse record is about.

A period is a span of calendar days. Its instants depend on where you stand: Q1 2024 ends at
2024-04-01T00:00 local time, which is 17:00 UTC on 31 March in WIB (+07), 16:00 in WITA (+08) and 15:00
in WIT (+09). So every boundary here is computed in the zone of the region concerned, derived from its
province code (``hub.mapping.timezones``; Indonesia has no daylight saving time).

Which period a record is about (its *anchor*):

* the payload names one (``tahun`` + ``jenis_periode`` + ``periode_ke``, ``periode_mulai``/
  ``periode_selesai``, ``tanggal_mulai``, ``tahun``, ``tahun_anggaran``; the rule
  ``schemas.periods.period_of``, which the warehouses store too): that span;
* otherwise the local calendar day, in the record's own region's zone, of ``occurred_at`` or, failing
  that, ``reported_at``. A report stamped 2024-03-31T23:30+09:00 from Papua is about Q1;
  2024-04-01T00:30+09:00 is about Q2, although both are 31 March in UTC.

Period text: ``2024-Q1`` (``2024-T1``, triwulan, is accepted), ``2024-S2``, ``2024``, ``2024-03``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from hub.mapping.timezones import PROVINCE_ZONES, WIB
from hub.settings.feeds import PeriodKind
from schemas.periods import period_of

MONTHS: dict[PeriodKind, int] = {"month": 1, "quarter": 3, "semester": 6, "year": 12}
_TEXT = re.compile(r"^(\d{4})(?:-(?:(Q|T)([1-4])|(S)([12])|(\d{2})))?$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Period:
    """One period: ``kind``, ``year`` and ``index`` (1-based: month 1-12, quarter 1-4, semester 1-2,
    always 1 for a year)."""

    year: int
    kind: PeriodKind
    index: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= 12 // MONTHS[self.kind]:
            raise ValueError(f"{self.kind} {self.index} does not exist")

    @property
    def label(self) -> str:
        """``2024-Q1``, ``2024-S2``, ``2024``, ``2024-03``."""
        if self.kind == "year":
            return str(self.year)
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        return f"{self.year}-{'Q' if self.kind == 'quarter' else 'S'}{self.index}"

    @property
    def first_day(self) -> date:
        return date(self.year, (self.index - 1) * MONTHS[self.kind] + 1, 1)

    @property
    def end_day(self) -> date:
        """The first day after the period (exclusive end)."""
        month = self.index * MONTHS[self.kind] + 1
        return date(self.year + 1, 1, 1) if month > 12 else date(self.year, month, 1)

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    def start(self, zone: tzinfo) -> datetime:
        """The first instant of the period in ``zone``."""
        return datetime.combine(self.first_day, time(0), zone)

    def end(self, zone: tzinfo) -> datetime:
        """The first instant after the period in ``zone`` (exclusive)."""
        return datetime.combine(self.end_day, time(0), zone)

    def due(self, zone: tzinfo, due_days: int) -> datetime:
        """When a report on this period is due in ``zone``: ``due_days`` days after the period's end."""
        return self.end(zone) + timedelta(days=due_days)

    def contains(self, day: date) -> bool:
        return self.first_day <= day < self.end_day

    def previous(self) -> Period:
        if self.index > 1:
            return Period(self.year, self.kind, self.index - 1)
        return Period(self.year - 1, self.kind, 12 // MONTHS[self.kind])

    def __str__(self) -> str:
        return self.label


def parse_period(text: str) -> Period:
    """A period from its text (see the module docstring); ``ValueError`` names the accepted forms."""
    match = _TEXT.match(text.strip())
    if match is None:
        raise ValueError("a period is YYYY, YYYY-Qn (or YYYY-Tn), YYYY-Sn or YYYY-MM")
    year = int(match.group(1))
    if match.group(3):
        return Period(year, "quarter", int(match.group(3)))
    if match.group(5):
        return Period(year, "semester", int(match.group(5)))
    if match.group(6):
        return Period(year, "month", int(match.group(6)))
    return Period(year, "year", 1)


def period_containing(kind: PeriodKind, day: date) -> Period:
    """The period of ``kind`` that ``day`` lies in."""
    return Period(day.year, kind, (day.month - 1) // MONTHS[kind] + 1)


def zone_of(kode_wilayah: str | None) -> tzinfo:
    """The zone of the province a kode wilayah lies in (WIB when unknown, e.g. ``pusat``)."""
    return PROVINCE_ZONES.get((kode_wilayah or "")[:2], WIB)


def local_day(instant: datetime, kode_wilayah: str | None) -> date:
    """The calendar day ``instant`` falls on in the region's zone."""
    return instant.astimezone(zone_of(kode_wilayah)).date()


@dataclass(frozen=True)
class Anchor:
    """What a record is about: the span its payload names (``explicit``), else one local day."""

    first: date
    last: date
    explicit: bool

    def within(self, period: Period) -> bool:
        """The record is about (a part of) ``period`` only: used by the feed's ``period`` filter."""
        return period.first_day <= self.first and self.last < period.end_day

    def reports(self, period: Period) -> bool:
        """The record counts as the report on ``period``: a payload period must be exactly that period
        (an annual report is no quarterly one); a dated record must lie in it."""
        if self.explicit:
            return self.first == period.first_day and self.last == period.last_day
        return period.contains(self.first)


def anchor_of(
    payload: dict[str, Any], kode_wilayah: str, occurred_at: datetime | None, reported_at: datetime | None
) -> Anchor | None:
    """The anchor of a record (see the module docstring); None when it names no period and has no time."""
    _label, first, last = period_of(payload)
    if first is not None:
        return Anchor(first, last or first, explicit=True)
    instant = occurred_at or reported_at
    if instant is None:
        return None
    day = local_day(instant, kode_wilayah)
    return Anchor(day, day, explicit=False)
