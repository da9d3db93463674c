"""Reporting periods: parsing, boundaries in WIB/WITA/WIT, due times and record anchors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from hub.completeness.compute import last_due_period
from hub.completeness.periods import Period, anchor_of, parse_period, period_containing, zone_of
from hub.settings import Obligation

WIT = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    ("text", "period", "first", "last"),
    [
        ("2024-Q1", Period(2024, "quarter", 1), date(2024, 1, 1), date(2024, 3, 31)),
        ("2024-t4", Period(2024, "quarter", 4), date(2024, 10, 1), date(2024, 12, 31)),
        ("2024-S2", Period(2024, "semester", 2), date(2024, 7, 1), date(2024, 12, 31)),
        ("2024", Period(2024, "year", 1), date(2024, 1, 1), date(2024, 12, 31)),
        ("2024-02", Period(2024, "month", 2), date(2024, 2, 1), date(2024, 2, 29)),
    ],
)
def test_parse_and_bounds(text: str, period: Period, first: date, last: date) -> None:
    """Each accepted form parses to its period, with its first and last day."""
    parsed = parse_period(text)
    assert parsed == period and parsed.first_day == first and parsed.last_day == last


@pytest.mark.parametrize("text", ["2024-Q5", "2024-13", "2024-S3", "24-Q1", "Q1-2024", ""])
def test_bad_periods_are_refused(text: str) -> None:
    """Out-of-range or malformed periods raise ValueError."""
    with pytest.raises(ValueError):
        parse_period(text)


def test_zones_by_province() -> None:
    """Jawa Barat is WIB (+7), Sulawesi Selatan WITA (+8), Papua and Papua Pegunungan WIT (+9)."""
    offsets = {code: zone_of(code).utcoffset(None) for code in ("32.01", "73", "91.03", "95")}
    assert offsets == {
        "32.01": timedelta(hours=7),
        "73": timedelta(hours=8),
        "91.03": timedelta(hours=9),
        "95": timedelta(hours=9),
    }


def test_q1_ends_at_local_midnight_in_each_zone() -> None:
    """Q1 2024 ends 17:00, 16:00 and 15:00 UTC on 31 March in WIB, WITA and WIT."""
    q1 = parse_period("2024-Q1")
    ends = [q1.end(zone_of(code)).astimezone(UTC).hour for code in ("32", "73", "91")]
    assert ends == [17, 16, 15]


def test_a_dated_record_belongs_to_its_local_period() -> None:
    """2024-03-31T23:30+09:00 in Papua is Q1; 2024-04-01T00:30+09:00 is not, though both are 31 March UTC."""
    q1 = parse_period("2024-Q1")
    before = anchor_of({}, "91.03", datetime(2024, 3, 31, 23, 30, tzinfo=WIT), None)
    after = anchor_of({}, "91.03", datetime(2024, 4, 1, 0, 30, tzinfo=WIT), None)
    assert before is not None and before.reports(q1)
    assert after is not None and not after.reports(q1) and after.reports(parse_period("2024-Q2"))
    # The same instant as `after` (15:30 UTC) from Jawa Barat is 22:30 WIB: still Q1 there.
    same_instant_west = anchor_of({}, "32.01", datetime(2024, 4, 1, 0, 30, tzinfo=WIT), None)
    assert same_instant_west is not None and same_instant_west.reports(q1)


def test_a_payload_period_wins_and_must_match_exactly() -> None:
    """A triwulan-1 report is Q1 whenever it was sent; an annual report does not count for a quarter."""
    late_sent = datetime(2024, 7, 1, tzinfo=UTC)
    quarterly = anchor_of(
        {"tahun": 2024, "jenis_periode": "triwulan", "periode_ke": 1}, "32", None, late_sent
    )
    annual = anchor_of({"tahun": 2024, "jenis_periode": "tahunan", "periode_ke": 1}, "32", None, late_sent)
    assert quarterly is not None and quarterly.reports(parse_period("2024-Q1"))
    assert annual is not None and not annual.reports(parse_period("2024-Q1"))
    assert annual.reports(parse_period("2024")) and annual.within(parse_period("2024"))


def test_due_time_and_last_due_period() -> None:
    """Due 15 days after the local end; the last due period is the newest one past due in WIB."""
    q1 = parse_period("2024-Q1")
    assert q1.due(zone_of("91"), 15) == datetime(2024, 4, 16, tzinfo=WIT)
    ob = Obligation(schema="periodic_report", level="kabkota", period="quarter", due_days=15)
    assert last_due_period(ob, datetime(2024, 4, 15, 17, 0, tzinfo=UTC)) == q1  # 16 April 00:00 WIB
    assert last_due_period(ob, datetime(2024, 4, 15, 16, 59, tzinfo=UTC)) == Period(2023, "quarter", 4)
    assert period_containing("month", date(2024, 12, 31)) == Period(2024, "month", 12)
