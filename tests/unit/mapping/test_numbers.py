"""Numbers, money and yes/no values as Indonesian systems write them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.errors import MappingError
from hub.mapping.numbers import parse_bool, parse_decimal, parse_int, parse_rupiah


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rp 15.000.000,-", Decimal("15000000")),
        ("Rp15.000.000,00", Decimal("15000000.00")),
        ("Rp. 1.500", Decimal("1500")),
        ("IDR 2.500.000", Decimal("2500000")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234,567.89", Decimal("1234567.89")),
        ("15000000", Decimal("15000000")),
        ("1851852000.00", Decimal("1851852000.00")),
        ("Rp 2,5 juta", Decimal("2500000")),
        ("Rp 1,555 M", Decimal("1555000000")),
        ("750 rb", Decimal("750000")),
        ("Rp 15.000.000 ,-", Decimal("15000000")),
    ],
)
def test_rupiah_amounts(text: str, expected: Decimal) -> None:
    """Rupiah with Rp/IDR prefixes, ",-" tails, dot thousands, comma decimals and scale words."""
    assert parse_rupiah(text) == expected


@pytest.mark.parametrize("text", ["-", "Rp -", "Rp. -", "  -  "])
def test_rupiah_dash_is_no_amount(text: str) -> None:
    """A dash (with or without Rp) means no amount, not zero."""
    assert parse_rupiah(text) is None


def test_rupiah_from_numbers_is_exact() -> None:
    """Decimals stay exact; a spreadsheet float becomes the Decimal of its shortest repr."""
    assert parse_rupiah(Decimal("1851852000.00")) == Decimal("1851852000.00")
    assert parse_rupiah(0.1) == Decimal("0.1")
    assert parse_rupiah(15_000_000) == Decimal(15_000_000)


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [
        ("1.234,56", "auto", Decimal("1234.56")),
        ("1.234", "auto", Decimal("1234")),
        ("15.000.000", "auto", Decimal("15000000")),
        ("1200.00", "auto", Decimal("1200.00")),
        ("-0.9512", "auto", Decimal("-0.9512")),
        ("0.123", "auto", Decimal("0.123")),
        ("3,5", "auto", Decimal("3.5")),
        ("1,234,567", "auto", Decimal("1234567")),
        ("122.789", "point", Decimal("122.789")),
        ("1.234", "id", Decimal("1234")),
        ("1234,5", "id", Decimal("1234.5")),
        ("1,234.5", "point", Decimal("1234.5")),
        ("1 234 567", "auto", Decimal("1234567")),
    ],
)
def test_decimal_styles(text: str, style: str, expected: Decimal) -> None:
    """auto reads Indonesian grouping; point reads machine decimals (coordinates); id forces dot grouping."""
    assert parse_decimal(text, style) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"), [("3", 3), ("0", 0), (" 12 ", 12), ("1.543.210", 1543210), (12.0, 12)]
)
def test_integers_from_strings(text: object, expected: int) -> None:
    """Counts sent as strings (with thousands dots) become ints."""
    assert parse_int(text) == expected


@pytest.mark.parametrize(
    ("value", "rule"), [("3,5", "not_integer"), ("tiga", "number_format"), (True, "number_type")]
)
def test_bad_integers(value: object, rule: str) -> None:
    """Fractions, words and booleans are not counts."""
    with pytest.raises(MappingError) as caught:
        parse_int(value)
    assert caught.value.issues[0].rule == rule


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Y", True), ("N", False), ("Ya", True), ("Tidak", False), ("TDK", False), ("ya ", True), ("1", True),
     ("0", False), ("true", True), ("False", False), (True, True), (0, False)],
)  # fmt: skip
def test_booleans(value: object, expected: bool) -> None:
    """Y/N, Ya/Tidak, true/false and 1/0 in any case."""
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["T", "mungkin", "2"])
def test_ambiguous_booleans_are_refused(value: object) -> None:
    """ "T" (True or Tidak?) and other words are refused rather than guessed."""
    with pytest.raises(MappingError) as caught:
        parse_bool(value)
    assert caught.value.issues[0].rule == "bool_format"
