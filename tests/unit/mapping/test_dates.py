"""Indonesian dates, times, ranges and date-times, including the ugly inputs regional systems send."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from hub.errors import MappingError
from hub.mapping.dates import epoch_ms, parse_date, parse_date_range, parse_datetime, parse_time
from hub.mapping.timezones import PROVINCE_ZONES, WIB, WIT, WITA, parse_tz, zone_of_region
from schemas.regions import default_index


def rule_of(exc: pytest.ExceptionInfo[MappingError]) -> str:
    return exc.value.issues[0].rule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25/01/2024", date(2024, 1, 25)),
        ("25-01-2024", date(2024, 1, 25)),
        ("25.01.2024", date(2024, 1, 25)),
        ("2024-01-25", date(2024, 1, 25)),
        ("2024/01/25", date(2024, 1, 25)),
        ("20240125", date(2024, 1, 25)),
        ("3 Feb 2023", date(2023, 2, 3)),
        ("3 Feb. 2023", date(2023, 2, 3)),
        ("12 Juni 2021", date(2021, 6, 12)),
        ("12 JUNI 2021", date(2021, 6, 12)),
        ("12-Jun-2021", date(2021, 6, 12)),
        ("17 Agustus 1945", date(1945, 8, 17)),
        ("17 Agt 2024", date(2024, 8, 17)),
        ("1 Nopember 2022", date(2022, 11, 1)),
        ("5 Pebruari 2020", date(2020, 2, 5)),
        ("Senin, 12 Juni 2021", date(2021, 6, 12)),
        ("Jum'at, 2 Februari 2024", date(2024, 2, 2)),
        ("June 12, 2021", date(2021, 6, 12)),
        ("25/01/24", date(2024, 1, 25)),
        ("25/01/75", date(1975, 1, 25)),
        ("  12-06-2021 ", date(2021, 6, 12)),
        ("2024-01-25 16:02:11", date(2024, 1, 25)),
    ],
)
def test_dates_in_indonesian_formats(text: str, expected: date) -> None:
    """Day-first numeric, ISO, compact and month-name dates all parse to the same calendar day."""
    assert parse_date(text) == expected


def test_date_objects_pass_through() -> None:
    """A date or datetime from a database driver or a spreadsheet is taken as is (its date part)."""
    assert parse_date(date(2024, 1, 25)) == date(2024, 1, 25)
    assert parse_date(datetime(2024, 1, 25, 13, 0)) == date(2024, 1, 25)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("31/02/2024", "date_invalid"),
        ("12 Juno 2021", "date_month"),
        ("kemarin", "date_format"),
        ("01/2024", "date_format"),
    ],
)
def test_bad_dates_name_the_rule(text: str, rule: str) -> None:
    """Impossible, misspelt and shapeless dates fail with a stable rule name."""
    with pytest.raises(MappingError) as caught:
        parse_date(text)
    assert rule_of(caught) == rule


@pytest.mark.parametrize(
    ("text", "expected", "zone"),
    [
        ("14.30", time(14, 30), None),
        ("14:30", time(14, 30), None),
        ("9.05", time(9, 5), None),
        ("14.30.15", time(14, 30, 15), None),
        ("pukul 14.30", time(14, 30), None),
        ("Pkl. 08.00 WIB", time(8, 0), WIB),
        ("14.30 WITA", time(14, 30), WITA),
        ("21:00 WIT", time(21, 0), WIT),
    ],
)
def test_times_with_dots_and_zone_words(text: str, expected: time, zone: object) -> None:
    """Times written with dots or colons parse; a WIB/WITA/WIT word is returned as the zone."""
    assert parse_time(text) == (expected, zone)


@pytest.mark.parametrize(
    ("text", "rule"), [("25.30", "time_invalid"), ("siang", "time_format"), ("1430", "time_format")]
)
def test_bad_times(text: str, rule: str) -> None:
    """Out-of-range and shapeless times fail with a stable rule name."""
    with pytest.raises(MappingError) as caught:
        parse_time(text)
    assert rule_of(caught) == rule


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("15 Jan s.d. 20 Feb 2024", date(2024, 1, 15), date(2024, 2, 20)),
        ("15 Jan sd 20 Feb 2024", date(2024, 1, 15), date(2024, 2, 20)),
        ("15 Januari 2024 s/d 20 Februari 2024", date(2024, 1, 15), date(2024, 2, 20)),
        ("15/01/2024 - 20/02/2024", date(2024, 1, 15), date(2024, 2, 20)),
        ("15-20 Januari 2024", date(2024, 1, 15), date(2024, 1, 20)),
        ("15 – 20 Januari 2024", date(2024, 1, 15), date(2024, 1, 20)),
        ("1 s.d. 5 Mei 2024", date(2024, 5, 1), date(2024, 5, 5)),
        ("28 Des sampai 3 Jan 2024", date(2023, 12, 28), date(2024, 1, 3)),
        ("10 Maret hingga 2 April 2024", date(2024, 3, 10), date(2024, 4, 2)),
        ("12 Juni 2021", date(2021, 6, 12), date(2021, 6, 12)),
    ],
)
def test_date_ranges(text: str, start: date, end: date) -> None:
    """Ranges joined by s.d./s/d/sampai/hingga/dashes; the start inherits the end's month and year."""
    assert parse_date_range(text) == (start, end)


def test_range_ending_before_it_starts() -> None:
    """A range whose complete start lies after its end is refused."""
    with pytest.raises(MappingError) as caught:
        parse_date_range("20 Feb 2024 s.d. 15 Jan 2024")
    assert rule_of(caught) == "date_range_order"


def test_datetime_from_date_and_separate_time_column() -> None:
    """ "25/01/2024" + "14.30" in WIB is 14:30+07:00."""
    stamp = parse_datetime("25/01/2024", WIB, "14.30")
    assert stamp == datetime(2024, 1, 25, 14, 30, tzinfo=WIB)
    assert stamp.utcoffset() == timedelta(hours=7)


def test_datetime_keeps_the_source_offset() -> None:
    """An ISO stamp with +08:00 keeps +08:00 whatever zone is configured."""
    stamp = parse_datetime("2024-02-10T21:14:03+08:00", WIB)
    assert stamp.utcoffset() == timedelta(hours=8)


def test_zone_word_in_text_beats_configured_zone() -> None:
    """ "14.30 WITA" is +08:00 even when the mapping says WIB."""
    assert parse_datetime("25/01/2024", WIB, "14.30 WITA").utcoffset() == timedelta(hours=8)
    assert parse_datetime("25/01/2024 pukul 09.15 WIT", WIB).utcoffset() == timedelta(hours=9)


def test_naive_database_timestamp_gets_the_zone() -> None:
    """A naive "2024-01-25 16:02:11" (or datetime) becomes aware in the configured zone."""
    assert parse_datetime("2024-01-25 16:02:11", WITA) == datetime(2024, 1, 25, 16, 2, 11, tzinfo=WITA)
    assert parse_datetime(datetime(2024, 1, 25, 16, 2, 11), WIB).tzinfo is WIB


def test_missing_time_and_missing_zone_are_errors() -> None:
    """A date without a time needs time_default; a naive time needs a zone."""
    with pytest.raises(MappingError) as caught:
        parse_datetime("25/01/2024", WIB)
    assert rule_of(caught) == "time_missing"
    assert parse_datetime("25/01/2024", WIB, time_default=time(0, 0)).hour == 0
    with pytest.raises(MappingError) as caught:
        parse_datetime("25/01/2024 14.30", None)
    assert rule_of(caught) == "timezone_unknown"


def test_epoch_ms_is_exact() -> None:
    """Epoch milliseconds come from integer arithmetic (no float rounding)."""
    assert epoch_ms(datetime(2024, 1, 25, 16, 2, 11, tzinfo=WIB)) == 1706173331000
    assert epoch_ms(datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)) == 1


def test_every_province_has_a_time_zone() -> None:
    """All 38 provinces of the reference have a zone: WIB, WITA or WIT."""
    provinces = {r.code for r in default_index().children(None)}
    assert len(provinces) == 38 and provinces == set(PROVINCE_ZONES)
    assert zone_of_region("32.01.01") is WIB and zone_of_region("72.01") is WITA
    assert zone_of_region("96.01") is WIT and zone_of_region("pusat") is None


def test_zone_names() -> None:
    """WIB/WITA/WIT, offsets and IANA names are accepted; nonsense is refused."""
    assert parse_tz("wita") is WITA and parse_tz("auto") is None
    assert parse_tz("+08:00") == timezone(timedelta(hours=8))
    assert datetime(2024, 1, 1, tzinfo=parse_tz("Asia/Jayapura")).utcoffset() == timedelta(hours=9)
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_tz("Mars/Olympus")
