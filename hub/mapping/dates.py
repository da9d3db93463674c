"""Parsers for Indonesian dates, times, date ranges and date-times.

Dates: ``25/01/2024``, ``25-01-2024``, ``25.01.2024``, ``25/01/24`` (years 00-69 are 20xx), ``2024-01-25``,
``20240125``, ``3 Feb 2023``, ``12 Juni 2021``, ``12-Jun-2021``, ``Senin, 12 Juni 2021``, ``June 12, 2021``.
Day first always (Indonesian order); a leading weekday is ignored. Times: ``14.30``, ``14:30``, ``14.30.15``,
``pukul 14.30 WIB``. Ranges: ``15 Jan s.d. 20 Feb 2024``, ``15 - 20 Januari 2024``, ``15/01/2024 s/d
20/02/2024``, ``28 Des sampai 3 Jan 2024`` (the start takes the end's missing month and year; a start that
would fall after the end is moved back a year).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from hub.mapping.issues import fail
from hub.mapping.timezones import zone_in_text

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "januari jan january",
        "februari feb pebruari peb february",
        "maret mar march mrt",
        "april apr",
        "mei may",
        "juni jun june",
        "juli jul july",
        "agustus agu agt ags agust aug august",
        "september sep sept",
        "oktober okt oct october",
        "november nov nop nopember",
        "desember des dec december",
    ),
    start=1,
):
    MONTHS.update(dict.fromkeys(_names.split(), _number))
_WEEKDAY = re.compile(
    r"^(senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)\s*,?\s*",
    re.IGNORECASE,
)
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TEXT = re.compile(r"^(\d{1,2})[\s\-/.]*([a-z]+)\.?[\s\-/.,]+(\d{4})$")
_TEXT_MDY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")
_TIME = re.compile(r"^(?:pukul|pkl\.?|pk\.?|jam)?\s*(\d{1,2})[.:h](\d{2})(?:[.:](\d{2}))?$", re.IGNORECASE)
_DATE_TIME = re.compile(
    r"^(.*?\d)(?:[T\s]+|\s*,\s*)((?:pukul|pkl\.?|jam)?\s*\d{1,2}[.:]\d{2}(?:[.:]\d{2})?.*)$"
)
_RANGE_WORDS = re.compile(
    r"\s+(?:s\.?\s?d\.?|s/d|sd|sampai(?:\s+dengan)?|hingga|until|to)\s+|\s*[–—]\s*|\s+-\s+"
)
_SHORT_RANGE = re.compile(r"^(\d{1,2})\s*[-–—]\s*(\d{1,2})\s+([a-z]+\.?\s+\d{4})$")
_PARTIAL = re.compile(r"^(\d{1,2})(?:[\s\-/.]+([a-z]+|\d{1,2})\.?)?$")
_FORMATS = "dd/mm/yyyy, dd-mm-yyyy, yyyy-mm-dd or d Month yyyy"


def _build(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        fail("date_invalid", "not a calendar date (day or month out of range)")


def _month(word: str) -> int:
    number = MONTHS.get(word.lower().rstrip("."))
    if number is None:
        fail("date_month", "unknown month name (Indonesian or English, full or abbreviated)")
    return number


def _year(text: str) -> int:
    year = int(text)
    return year if len(text) == 4 else (2000 + year if year < 70 else 1900 + year)


def parse_date(value: object) -> date:
    """A ``date`` from a date string, ``date`` or ``datetime`` (its date part)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        fail("date_type", "a date must be text or a date")
    text = _WEEKDAY.sub("", value.strip()).lower()
    split = _DATE_TIME.match(text)
    if split and not _TEXT.match(text):
        text = split.group(1)
    if m := _ISO.match(text) or _COMPACT.match(text):
        return _build(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _DMY.match(text):
        return _build(_year(m.group(3)), int(m.group(2)), int(m.group(1)))
    if m := _TEXT.match(text):
        return _build(int(m.group(3)), _month(m.group(2)), int(m.group(1)))
    if m := _TEXT_MDY.match(text):
        return _build(int(m.group(3)), _month(m.group(1)), int(m.group(2)))
    fail("date_format", f"not a date in a known format ({_FORMATS})")


def parse_time(value: object) -> tuple[time, tzinfo | None]:
    """A ``time`` and the zone named in the text, if any: ``14.30``, ``14:30:15``, ``pukul 9.15 WIT``."""
    if isinstance(value, datetime):
        return value.time(), value.tzinfo
    if isinstance(value, time):
        return value, value.tzinfo
    if not isinstance(value, str):
        fail("time_type", "a time must be text")
    text, zone = zone_in_text(value.strip())
    m = _TIME.match(text.strip())
    if not m:
        fail("time_format", "not a time in a known format (14.30, 14:30, 14.30.15, optionally WIB/WITA/WIT)")
    try:
        return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)), zone
    except ValueError:
        fail("time_invalid", "hour or minute out of range")


def parse_datetime(
    value: object, zone: tzinfo | None, time_value: object = None, time_default: time | None = None
) -> datetime:
    """An aware ``datetime``. An offset or zone word in the text wins; otherwise ``zone`` is applied.

    ``time_value`` (e.g. a separate ``jam`` column) is combined with a date; ``time_default`` is used
    when there is no time at all (without it, a missing time is an error).
    """
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str) and time_value is None and (iso := _iso_datetime(value.strip())):
        stamp = iso
    else:
        day = parse_date(value)
        text = value.strip() if isinstance(value, str) else ""
        split = _DATE_TIME.match(_WEEKDAY.sub("", text).lower()) if time_value is None else None
        if time_value is not None:
            clock, named = parse_time(time_value)
        elif split:
            clock, named = parse_time(split.group(2))
        elif time_default is not None:
            clock, named = time_default, None
        else:
            fail("time_missing", "the date has no time and the rule gives no time_default")
        stamp = datetime.combine(day, clock.replace(tzinfo=None), tzinfo=named)
    if stamp.tzinfo is None:
        if zone is None:
            fail("timezone_unknown", "no time zone: set timezone in the mapping or map kode_wilayah")
        stamp = stamp.replace(tzinfo=zone)
    return stamp


def _iso_datetime(text: str) -> datetime | None:
    if len(text) < 16 or not text[:4].isdigit() or text[4] != "-":
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(stamp: datetime) -> int:
    """Milliseconds since 1970-01-01 UTC, exactly (integer arithmetic)."""
    return (stamp - _EPOCH) // timedelta(milliseconds=1)


def parse_date_range(value: object) -> tuple[date, date]:
    """(start, end) of a range such as ``15 Jan s.d. 20 Feb 2024``; a single date is a one-day range."""
    if not isinstance(value, str):
        day = parse_date(value)
        return day, day
    text = _WEEKDAY.sub("", value.strip()).lower()
    if m := _SHORT_RANGE.match(text):
        end = parse_date(f"{m.group(2)} {m.group(3)}")
        return _complete(m.group(1), end), end
    parts = _RANGE_WORDS.split(text)
    if len(parts) == 1:
        day = parse_date(text)
        return day, day
    if len(parts) != 2:
        fail("date_range_format", "a range has two ends joined by s.d., s/d, sampai, hingga or a dash")
    end = parse_date(parts[1])
    start = _complete(parts[0].strip(), end)
    if start > end:
        fail("date_range_order", "the range ends before it starts")
    return start, end


def _complete(text: str, end: date) -> date:
    """The start of a range, taking the month and year it leaves out from the end."""
    m = _PARTIAL.match(text)
    if not m:
        return parse_date(text)
    day = int(m.group(1))
    month_text = m.group(2)
    month = (
        end.month if month_text is None else int(month_text) if month_text.isdigit() else _month(month_text)
    )
    start = _build(end.year, month, day)
    return _build(end.year - 1, month, day) if start > end else start
