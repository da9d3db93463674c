"""Durations, validity end dates, phone numbers, NIKs, passports and free-text redaction."""

from __future__ import annotations

from datetime import date

import pytest

from hub.errors import MappingError
from hub.mapping.text import (
    clean_nik,
    clean_passport,
    duration_years,
    end_date,
    normalize_phone,
    parse_duration,
    redact,
    split_text,
)

TEST_NIK = "3201010101800099"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 Tahun", (5, "years")),
        ("5 tahun", (5, "years")),
        ("5 Thn", (5, "years")),
        ("5 th.", (5, "years")),
        ("lima tahun", (5, "years")),
        ("5 (lima) tahun", (5, "years")),
        ("dua belas bulan", (12, "months")),
        ("6 Bulan", (6, "months")),
        ("90 hari", (90, "days")),
        ("2 minggu", (2, "weeks")),
        ("Seumur Hidup", None),
        ("tidak terbatas", None),
    ],
)
def test_durations(text: str, expected: object) -> None:
    """Durations in digits or words with Indonesian units; "seumur hidup" means no end."""
    assert parse_duration(text) == expected


def test_duration_in_years() -> None:
    """ "5 Tahun" -> 5 years, "24 Bulan" -> 2; "18 Bulan" is not whole years."""
    assert duration_years("5 Tahun") == 5 and duration_years("24 Bulan") == 2
    with pytest.raises(MappingError) as caught:
        duration_years("18 Bulan")
    assert caught.value.issues[0].rule == "duration_not_years"


def test_end_dates_from_a_start() -> None:
    """Start + duration; 29 Feb + years is 28 Feb; a written date is taken as the end."""
    assert end_date("5 Tahun", date(2021, 6, 12)) == date(2026, 6, 12)
    assert end_date("5 Tahun", date(2020, 2, 29)) == date(2025, 2, 28)
    assert end_date("1 Bulan", date(2024, 1, 31)) == date(2024, 2, 29)
    assert end_date("90 hari", date(2024, 1, 1)) == date(2024, 3, 31)
    assert end_date("12-06-2026", None) == date(2026, 6, 12)
    assert end_date("Seumur hidup", date(2021, 6, 12)) is None


def test_end_date_without_start_or_with_nonsense() -> None:
    """A duration needs the start; "lama sekali" is no duration."""
    for value, start, rule in (
        ("5 Tahun", None, "start_missing"),
        ("lama sekali", date(2020, 1, 1), "duration_format"),
    ):
        with pytest.raises(MappingError) as caught:
            end_date(value, start)
        assert caught.value.issues[0].rule == rule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("081234560001", "+6281234560001"),
        ("0813 1111 2222", "+6281311112222"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("62812345678", "+62812345678"),
        ("(021) 555-1234", "+62215551234"),
        ("0812.3456.7890", "+6281234567890"),
    ],
)
def test_phone_numbers_to_e164(text: str, expected: str) -> None:
    """Indonesian mobile and landline numbers in any grouping become E.164."""
    assert normalize_phone(text) == expected


@pytest.mark.parametrize("text", ["12345", "0000812345678", "+1 202 555 0100", "nomor hp"])
def test_bad_phone_numbers(text: str) -> None:
    """Too short, zero-led, foreign and non-numbers are refused without echoing them."""
    with pytest.raises(MappingError) as caught:
        normalize_phone(text)
    assert caught.value.issues[0].rule == "phone_format" and text not in str(caught.value.issues)


def test_nik_is_cleaned_and_checked() -> None:
    """Grouped NIKs are joined; structure is checked; errors never contain the NIK."""
    assert clean_nik("3201 0101 0180 0099") == TEST_NIK
    assert clean_nik("3201-0101-0180-0099") == TEST_NIK
    bad_niks = [
        ("320101010180009", "nik_format"),
        ("0001010101800099", "nik_region"),
        ("3201019913800099", "nik_birth_date"),
        ("3201010101800000", "nik_format"),
    ]
    for bad, rule in bad_niks:
        with pytest.raises(MappingError) as caught:
            clean_nik(bad)
        assert caught.value.issues[0].rule == rule and bad not in str(caught.value.as_dict())


def test_passport_numbers() -> None:
    """Passport numbers are upper-cased and checked (6-12 letters or digits)."""
    assert clean_passport("x 1234567") == "X1234567"
    with pytest.raises(MappingError):
        clean_passport("A1")


def test_redaction_of_free_text() -> None:
    """NIKs and phone numbers in free text are replaced."""
    text = f"Sdr. Budi (NIK {TEST_NIK}, HP 0812-3456-7890) melapor."
    assert redact(text) == "Sdr. Budi (NIK [NIK], HP [TELEPON]) melapor."


def test_split_text() -> None:
    """Separators are literal and case-insensitive; items are trimmed, empty ones dropped."""
    assert split_text("Warga RW 05 VS PT Maju Properti", [" vs "]) == ["Warga RW 05", "PT Maju Properti"]
    assert split_text("Sosial, Budaya,, Agama", [","]) == ["Sosial", "Budaya", "Agama"]
