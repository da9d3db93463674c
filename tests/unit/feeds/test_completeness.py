"""Completeness from a real SQLite warehouse: reported, late, missing and pending, by province, with
period and due boundaries in each region's own time zone."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from adapters.sqlite_sink import SqliteWarehouse
from adapters.sqlite_sink.reader import SqliteReader
from hub.completeness.compute import CompletenessReport
from hub.completeness.periods import parse_period
from hub.completeness.service import CompletenessService
from hub.errors import NotFound, RequestError
from hub.metrics import Metrics
from hub.settings import CompletenessSettings
from schemas.regions import default_index
from tests.unit.feeds.builders import feed_env, report_env

WIB, WITA, WIT = (timezone(timedelta(hours=h)) for h in (7, 8, 9))
NOW = datetime(2024, 6, 1, tzinfo=UTC)
OBLIGATIONS = {
    "obligations": [
        {"schema": "periodic_report", "level": "kabkota", "period": "quarter", "due_days": 15,
         "provinces": ["32", "73", "91"]},
        {"schema": "early_warning", "level": "kabkota", "period": "quarter", "due_days": 0,
         "provinces": ["91"]},
        {"schema": "voter_participation", "level": "provinsi", "period": "year", "due_days": 30},
    ]
}  # fmt: skip


@pytest.fixture
def warehouse(tmp_path: Path) -> SqliteWarehouse:
    return SqliteWarehouse(tmp_path / "wh.db")


@pytest.fixture
async def service(tmp_path: Path, warehouse: SqliteWarehouse) -> AsyncIterator[CompletenessService]:
    reader = SqliteReader(tmp_path / "wh.db")
    yield CompletenessService(CompletenessSettings(**OBLIGATIONS, cache_s=0), reader, now=lambda: NOW)
    await reader.close()
    warehouse.close()


def _kabkota(province: str, n: int) -> str:
    return default_index().children(province)[n].code


def _status(report: CompletenessReport, code: str) -> str:
    return next(r.status for p in report.provinces for r in p.regions if r.code == code)


async def test_due_boundary_in_each_zone(warehouse: SqliteWarehouse, service: CompletenessService) -> None:
    """Q1 is due 16 April 00:00 local: a report 30 minutes before is on time, 30 minutes after is late,
    in WIB, WITA and WIT alike; an office that sent nothing is missing."""
    due = {"32": WIB, "73": WITA, "91": WIT}
    envs = []
    for province, zone in due.items():
        on_time = datetime(2024, 4, 15, 23, 30, tzinfo=zone)
        late = datetime(2024, 4, 16, 0, 30, tzinfo=zone)
        envs += [
            report_env(_kabkota(province, 0), reported_at=on_time),
            report_env(_kabkota(province, 1), reported_at=late),
        ]
    warehouse.apply(envs)
    report = await service.report("periodic_report", parse_period("2024-Q1"))
    for province in due:
        assert _status(report, _kabkota(province, 0)) == "reported"
        assert _status(report, _kabkota(province, 1)) == "late"
        assert _status(report, _kabkota(province, 2)) == "missing"
    jabar = next(p for p in report.provinces if p.code == "32")
    assert jabar.zone == "WIB" and jabar.count("reported") == 1 and jabar.count("late") == 1
    assert jabar.count("missing") == len(jabar.regions) - 2 == 25  # Jawa Barat has 27 kab/kota
    assert [p.code for p in report.provinces] == ["32", "73", "91"]
    # The WIT office's "late" report came at 15:30 UTC on 15 April: in WIB it would have been on time.
    assert report.totals()["late"] == 3


async def test_dated_records_count_for_their_local_quarter(
    warehouse: SqliteWarehouse, service: CompletenessService
) -> None:
    """An early warning at 2024-03-31T23:30+09:00 from Papua counts for Q1; one at 2024-04-01T00:30+09:00
    counts for Q2 (same UTC day, 31 March)."""
    warehouse.apply(
        [
            feed_env(
                "early_warning", "EW-1", kode="91.03", occurred_at=datetime(2024, 3, 31, 23, 30, tzinfo=WIT)
            ),
            feed_env(
                "early_warning", "EW-2", kode="91.05", occurred_at=datetime(2024, 4, 1, 0, 30, tzinfo=WIT)
            ),
        ]
    )
    q1 = await service.report("early_warning", parse_period("2024-Q1"))
    q2 = await service.report("early_warning", parse_period("2024-Q2"))
    assert (_status(q1, "91.03"), _status(q1, "91.05")) == ("reported", "missing")
    assert (_status(q2, "91.03"), _status(q2, "91.05")) == ("pending", "reported")  # Q2 not yet due on 1 June


async def test_a_revised_report_keeps_its_first_submission(
    tmp_path: Path, warehouse: SqliteWarehouse, service: CompletenessService
) -> None:
    """A report that reached the warehouse on time and was verified later (revision 2, reported after the
    due time) stays on time; a withdrawn report no longer counts."""
    office = _kabkota("32", 3)
    warehouse.apply([report_env(office, reported_at=datetime(2024, 4, 10, tzinfo=WIB))])
    with sqlite3.connect(tmp_path / "wh.db") as conn:  # as if the warehouse applied it on 10 April
        conn.execute("UPDATE applied_log SET first_applied_at = '2024-04-10T03:00:00+00:00'")
    verified = report_env(
        office, reported_at=datetime(2024, 5, 2, tzinfo=WIB), revision=2, status="diverifikasi"
    )
    warehouse.apply([verified])
    report = await service.report("periodic_report", parse_period("2024-Q1"))
    assert _status(report, office) == "reported"
    withdrawn = report_env(office, reported_at=datetime(2024, 5, 3, tzinfo=WIB), revision=3)
    warehouse.apply([withdrawn.model_copy(update={"op": "withdraw"})])
    report = await service.report("periodic_report", parse_period("2024-Q1"))
    assert _status(report, office) == "missing"


async def test_province_level_and_gauge(warehouse: SqliteWarehouse, service: CompletenessService) -> None:
    """A provincial obligation counts only the province's own code; the gauge shows missing per province."""
    warehouse.apply(
        [
            feed_env(
                "voter_participation",
                "VP-32",
                kode="32",
                reported_at=datetime(2024, 1, 20, tzinfo=UTC),
                tahun=2023,
            ),
            feed_env(
                "voter_participation",
                "VP-3301",
                kode="33.01",
                reported_at=datetime(2024, 1, 20, tzinfo=UTC),
                tahun=2023,
            ),
        ]
    )
    report = await service.report("voter_participation", parse_period("2023"))
    assert len(report.provinces) == 38 and report.totals()["regions"] == 38
    assert report.totals()["missing"] == 37 and _status(report, "33") == "missing"
    metrics = Metrics()
    await service.refresh_metrics(metrics)
    text = metrics.render().decode()
    assert 'simpul_reports_missing{province="33",schema="voter_participation"} 1.0' in text
    assert 'simpul_reports_missing{province="32",schema="voter_participation"} 0.0' in text
    assert 'simpul_reports_missing{province="91",schema="early_warning"} ' in text


async def test_unknown_obligation_and_wrong_period_kind(service: CompletenessService) -> None:
    """No obligation for a schema is 404; a period of another kind is 400."""
    with pytest.raises(NotFound):
        await service.report("conflict_incident", parse_period("2024-Q1"))
    with pytest.raises(RequestError):
        await service.report("periodic_report", parse_period("2024"))
