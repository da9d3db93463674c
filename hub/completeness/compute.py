"""Who has reported for a period: per region ``reported`` (by the due time), ``late``, ``missing`` (due
time passed, nothing) or ``pending`` (nothing yet, not yet due); grouped by province.

Rules:

* The regions owing a report are every kab/kota of each province (``level = kabkota``) or every province
  (``provinsi``), from the packaged kode wilayah index, optionally limited to some provinces.
* A record reports for a kab/kota if its kode wilayah is that kab/kota or lies under it; for a province
  only if it is the province's own code (a kab/kota report is not the province's).
* It reports for the period if its anchor says so (``periods.Anchor.reports``), computed in the
  region's time zone.
* Its submission time is the earlier of its envelope's ``reported_at`` and the first time the warehouse
  applied any revision of it: a report sent on time and revised later (verified, returned) stays on
  time. The due time is ``due_days`` after the period's end, at local midnight in the region's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from hub.adapters.warehouse import ReportRow
from hub.completeness.periods import Period, anchor_of, period_containing, zone_of
from hub.mapping.timezones import WIB
from hub.settings import Obligation
from schemas.regions import RegionIndex

Status = Literal["reported", "late", "missing", "pending"]
STATUSES: tuple[Status, ...] = ("reported", "late", "missing", "pending")


@dataclass(frozen=True)
class RegionStatus:
    """One region's standing for the period."""

    code: str
    name: str
    status: Status
    due_at: datetime
    submitted_at: datetime | None = None


@dataclass
class ProvinceGroup:
    """The regions of one province (or the province itself, for a provincial obligation)."""

    code: str
    name: str
    zone: str
    regions: list[RegionStatus] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.regions if r.status == status)


@dataclass
class CompletenessReport:
    """The answer for one obligation and one period."""

    schema: str
    level: str
    period: Period
    due_days: int
    computed_at: datetime
    provinces: list[ProvinceGroup]

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {s: sum(p.count(s) for p in self.provinces) for s in STATUSES}
        out["regions"] = sum(len(p.regions) for p in self.provinces)
        return out

    def as_dict(self) -> dict[str, Any]:
        """The JSON form served by ``GET /v1/completeness``."""
        return {
            "schema": self.schema,
            "level": self.level,
            "period": self.period.label,
            "due_days": self.due_days,
            "computed_at": self.computed_at.isoformat(),
            "totals": self.totals(),
            "provinces": [
                {
                    "code": p.code,
                    "name": p.name,
                    "zone": p.zone,
                    "counts": {s: p.count(s) for s in STATUSES},
                    "regions": [
                        {
                            "code": r.code,
                            "name": r.name,
                            "status": r.status,
                            "due_at": r.due_at.isoformat(),
                            "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
                        }
                        for r in p.regions
                    ],
                }
                for p in self.provinces
            ],
        }


def owner_of(kode_wilayah: str, level: str) -> str | None:
    """The region that a record at ``kode_wilayah`` reports for, at ``level``."""
    parts = kode_wilayah.split(".")
    if level == "provinsi":
        return kode_wilayah if len(parts) == 1 else None
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def submitted_at(row: ReportRow) -> datetime | None:
    """The earlier of the record's reported time and its first application at the warehouse."""
    times = [t for t in (row.reported_at, row.first_applied_at) if t is not None]
    return min(times) if times else None


def compute(
    obligation: Obligation, period: Period, rows: list[ReportRow], index: RegionIndex, now: datetime
) -> CompletenessReport:
    """The completeness of ``period`` for ``obligation`` given the schema's active ``rows``."""
    if period.kind != obligation.period:
        raise ValueError(f"{obligation.schema_name} is owed per {obligation.period}, not per {period.kind}")
    earliest: dict[str, datetime] = {}
    for row in rows:
        owner = owner_of(row.kode_wilayah, obligation.level)
        if owner is None:
            continue
        anchor = anchor_of(row.payload, row.kode_wilayah, row.occurred_at, row.reported_at)
        when = submitted_at(row)
        if anchor is None or when is None or not anchor.reports(period):
            continue
        if owner not in earliest or when < earliest[owner]:
            earliest[owner] = when
    groups = []
    for province in index.children(None):
        if obligation.provinces and province.code not in obligation.provinces:
            continue
        zone = zone_of(province.code)
        due = period.due(zone, obligation.due_days)
        owing = [province] if obligation.level == "provinsi" else index.children(province.code)
        group = ProvinceGroup(province.code, province.name, str(zone))
        for region in owing:
            sent = earliest.get(region.code)
            status: Status
            if sent is not None:
                status = "reported" if sent <= due else "late"
            else:
                status = "missing" if now >= due else "pending"
            group.regions.append(RegionStatus(region.code, region.name, status, due, sent))
        groups.append(group)
    o = obligation
    return CompletenessReport(o.schema_name, o.level, period, o.due_days, now, groups)


def last_due_period(obligation: Obligation, now: datetime) -> Period:
    """The newest period whose due time has passed everywhere (in WIB, the last zone to get there)."""
    period = period_containing(obligation.period, now.astimezone(WIB).date())
    while period.due(WIB, obligation.due_days) > now:
        period = period.previous()
    return period
