"""Settings of the ministry's feeds (``[feeds]``) and of reporting completeness (``[completeness]``),
and ``PeriodKind``, the kinds of reporting period an obligation can name.

Kept apart from ``hub.settings.node`` (which includes them as sections) so the feed modules do not import
the whole node configuration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.classification import Classification
from schemas.regions.model import normalize_code

PeriodKind = Literal["month", "quarter", "semester", "year"]
"""The kinds of reporting period (``hub.completeness.periods.Period``)."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _codes(values: list[str]) -> list[str]:
    out = []
    for value in values:
        code = normalize_code(value)
        if code is None or code.count(".") > 1:
            raise ValueError("regions are province (32) or kab/kota (32.01) codes")
        out.append(code)
    return out


class FeedConsumer(_Section):
    """One ministry application holding a feed token: who it is and what it may see.

    ``schemas`` and ``regions`` empty mean all. A record classified above ``clearance`` is never shown;
    personal fields are shown only from the clearance set in ``[feeds]`` for their PII class.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Consumer name (logs, audit)")
    clearance: Classification = Field(Classification.BIASA, description="Highest classification it may read")
    schemas: list[str] = Field(default_factory=list, description="Schema names it may read; empty = all")
    regions: list[str] = Field(
        default_factory=list, description="Province (32) or kab/kota (32.01) codes it may read; empty = all"
    )

    _normalise = field_validator("regions")(_codes)


class FeedApiSettings(_Section):
    """The HTTP feed API for ministry applications (``GET /v1/feeds/{schema}``, ``/live``)."""

    warehouse: str = Field(
        "sqlite",
        description="What feeds read: 'sqlite' (the [sink] file) or a warehouse sink's name in [[sinks]]",
    )
    consumers: dict[str, FeedConsumer] = Field(
        default_factory=dict, description="Bearer token -> consumer; no consumers = every request 401"
    )
    default_limit: int = Field(100, ge=1, le=10_000, description="Items per page when none is asked")
    max_limit: int = Field(1000, ge=1, le=10_000, description="Items per page at most")
    personal_clearance: Classification = Field(
        Classification.RAHASIA, description="Clearance from which 'personal' PII fields are shown"
    )
    specific_clearance: Classification = Field(
        Classification.SANGAT_RAHASIA, description="Clearance from which 'specific' PII fields are shown"
    )
    live_poll_ms: float = Field(500.0, ge=10, le=60_000, description="How often /live looks for new rows")
    live_heartbeat_s: float = Field(15.0, gt=0, le=300, description="SSE comment sent when idle this long")


class Obligation(_Section):
    """Who owes which report: every region of ``level`` one ``schema`` record per ``period``, due
    ``due_days`` after the period ends (in the region's own time zone)."""

    schema_name: str = Field(alias="schema", description="The report's schema, e.g. periodic_report")
    level: Literal["kabkota", "provinsi"] = Field(description="Who owes it: each kab/kota, or each province")
    period: PeriodKind = Field(description="month, quarter, semester or year")
    due_days: int = Field(15, ge=0, le=366, description="Days after the period's end it is due")
    provinces: list[str] = Field(default_factory=list, description="Only these provinces; empty = all 38")

    _normalise = field_validator("provinces")(_codes)


class CompletenessSettings(_Section):
    """Reporting obligations and how long a computed report is reused (scrapes, the API)."""

    obligations: list[Obligation] = Field(default_factory=list, description="Reports owed")
    cache_s: float = Field(60.0, ge=0, le=3600, description="Seconds a computed report is reused")
