"""Parsers for durations, phone numbers and personal identifiers, and text helpers.

Durations: ``5 Tahun``, ``5 thn``, ``lima tahun``, ``5 (lima) tahun``, ``6 Bulan``, ``90 hari``; ``Seumur
hidup``/``Tidak terbatas`` mean no end (None). An end date is the start plus the duration (29 February
plus years lands on 28 February), or a date given instead of a duration.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, timedelta

from hub.mapping.dates import parse_date
from hub.mapping.issues import fail
from schemas.pii import check_nik_structure, redact_text

_WORDS = "nol satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas"
_NUMBER_WORDS = {word: number for number, word in enumerate(_WORDS.split(" "))}
_NUMBER_WORDS["dua belas"] = 12
_UNITS = {
    "tahun": "years", "thn": "years", "th": "years", "tah": "years", "year": "years", "years": "years",
    "bulan": "months", "bln": "months", "bl": "months", "month": "months", "months": "months",
    "minggu": "weeks", "mgg": "weeks", "week": "weeks", "weeks": "weeks",
    "hari": "days", "hr": "days", "day": "days", "days": "days",
}  # fmt: skip
_DURATION = re.compile(r"^(\d+|[a-z]+(?: belas)?)\s*(?:\([a-z ]+\)\s*)?([a-z]+)\.?$")
_NO_END = frozenset({"seumur hidup", "tidak terbatas", "selamanya", "tanpa batas", "permanen"})
_PHONE_CHARS = re.compile(r"[\s\-.()/]+")


def parse_duration(value: object) -> tuple[int, str] | None:
    """(amount, unit) with unit ``years``, ``months``, ``weeks`` or ``days``; None for "no end"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, "years"  # a bare number in a validity column counts years
    if not isinstance(value, str):
        fail("duration_type", "a duration must be text such as '5 Tahun'")
    text = " ".join(value.strip().lower().split())
    if text in _NO_END:
        return None
    m = _DURATION.match(text)
    if not m or m.group(2) not in _UNITS:
        fail("duration_format", "not a duration such as '5 Tahun', '6 Bulan' or '90 Hari'")
    amount = m.group(1)
    number = int(amount) if amount.isdigit() else _NUMBER_WORDS.get(amount)
    if number is None:
        fail("duration_format", "the amount of a duration must be digits or a number word (satu-dua belas)")
    return number, _UNITS[m.group(2)]


def duration_years(value: object) -> int | None:
    """The duration in whole years (``5 Tahun`` -> 5, ``24 Bulan`` -> 2); None for "no end"."""
    parsed = parse_duration(value)
    if parsed is None:
        return None
    amount, unit = parsed
    if unit == "years":
        return amount
    if unit == "months" and amount % 12 == 0:
        return amount // 12
    fail("duration_not_years", "the duration is not a whole number of years")


def add_months(start: date, months: int) -> date:
    """``start`` plus calendar months, the day clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(start.day, monthrange(year, month + 1)[1]))


def end_date(value: object, start: date | None) -> date | None:
    """The end of validity: ``start`` + a duration, or a date written in its place; None for "no end"."""
    if (
        isinstance(value, str)
        and any(c.isdigit() for c in value)
        and not _DURATION.match(value.strip().lower())
    ):
        return parse_date(value)
    if isinstance(value, date):
        return value
    parsed = parse_duration(value)
    if parsed is None:
        return None
    if start is None:
        fail("start_missing", "an end date from a duration needs the start date")
    amount, unit = parsed
    if unit == "years":
        return add_months(start, 12 * amount)
    if unit == "months":
        return add_months(start, amount)
    return start + timedelta(days=amount * (7 if unit == "weeks" else 1))


def normalize_phone(value: object) -> str:
    """An Indonesian phone number in E.164 (``+6281234567890``) from ``0812-3456-7890``, ``62 812...``,
    ``+62 812 ...``, ``(021) 555 1234``."""
    text = _PHONE_CHARS.sub("", str(value).strip())
    if text.startswith("+62"):
        national = text[3:]
    elif text.startswith("62"):
        national = text[2:]
    elif text.startswith("0"):
        national = text[1:]
    else:
        fail("phone_format", "an Indonesian phone number starts with 0, 62 or +62")
    if not national.isdigit() or not 8 <= len(national) <= 12 or national[0] == "0":
        fail("phone_format", "an Indonesian phone number has 9-13 digits after the leading 0")
    return "+62" + national


def clean_nik(value: object) -> str:
    """A clear NIK, checked for structure (spaces, dots and dashes between digit groups removed).

    The result goes into a ``NikToken`` field: the hub replaces it by its keyed token on validation.
    """
    text = _PHONE_CHARS.sub("", str(value).strip())
    rule = check_nik_structure(text)
    if rule == "nik_region":
        fail(rule, "the NIK does not start with a plausible kecamatan code")
    if rule == "nik_birth_date":
        fail(rule, "the NIK does not hold a valid birth date (DDMMYY, women day + 40)")
    if rule is not None:
        fail("nik_format", "a NIK has 16 digits and a serial other than 0000")
    return text


def clean_passport(value: object) -> str:
    """A clear passport number (upper case, 6-12 letters or digits); the hub tokenizes it."""
    text = re.sub(r"[\s\-]+", "", str(value)).upper()
    if not re.fullmatch(r"[A-Z0-9]{6,12}", text):
        fail("passport_format", "a passport number has 6-12 letters or digits")
    return text


def redact(value: object) -> str:
    """Free text with NIK-like numbers and phone numbers replaced (``[NIK]``, ``[TELEPON]``)."""
    return redact_text(str(value))


def split_text(value: str, separators: list[str]) -> list[str]:
    """``value`` cut at any of ``separators`` (literal, case-insensitive); items trimmed, empties left out."""
    pattern = "|".join(re.escape(s) for s in sorted(separators, key=len, reverse=True))
    return [part.strip() for part in re.split(pattern, value, flags=re.IGNORECASE) if part.strip()]
