"""Completeness for the node: reports computed from the warehouse on demand, cached for ``cache_s``,
and the ``simpul_reports_missing`` gauge refreshed before each scrape."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from hub.adapters.warehouse import WarehouseReader
from hub.completeness.compute import CompletenessReport, compute, last_due_period
from hub.completeness.periods import Period
from hub.errors import NotFound, RequestError, SimpulError
from hub.metrics import Metrics
from hub.settings import CompletenessSettings, Obligation
from schemas.regions import default_index

log = structlog.get_logger(__name__)


class CompletenessService:
    """Answers "who has reported" for the configured obligations."""

    def __init__(
        self,
        settings: CompletenessSettings,
        reader: WarehouseReader,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._reader = reader
        self._now = now
        self._cache: dict[tuple[str, str], tuple[float, CompletenessReport]] = {}

    def obligation(self, schema: str) -> Obligation:
        """The obligation declared for ``schema``; ``NotFound`` if none is."""
        for obligation in self._settings.obligations:
            if obligation.schema_name == schema:
                return obligation
        raise NotFound(f"no reporting obligation is declared for schema {schema!r}")

    async def report(self, schema: str, period: Period | None = None) -> CompletenessReport:
        """The report of ``schema`` for ``period`` (default: the newest period already due)."""
        obligation = self.obligation(schema)
        now = self._now()
        if period is None:
            period = last_due_period(obligation, now)
        if period.kind != obligation.period:
            raise RequestError(f"{schema} is owed per {obligation.period}; ask for a period of that kind")
        key = (schema, period.label)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self._settings.cache_s:
            return cached[1]
        rows = await self._reader.report_rows(schema)
        report = compute(obligation, period, rows, default_index(), now)
        self._cache[key] = (time.monotonic(), report)
        return report

    async def refresh_metrics(self, metrics: Metrics) -> None:
        """Set ``simpul_reports_missing{schema, province}`` from the newest due period of each obligation.
        A warehouse that cannot be read leaves the last figures (logged), never breaks a scrape."""
        for obligation in self._settings.obligations:
            try:
                report = await self.report(obligation.schema_name)
            except SimpulError as exc:
                log.warning("completeness_unavailable", schema=obligation.schema_name, error=str(exc))
                continue
            for group in report.provinces:
                metrics.reports_missing.labels(schema=report.schema, province=group.code).set(
                    group.count("missing")
                )
