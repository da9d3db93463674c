"""Parsers for numbers, money and booleans as Indonesian systems write them.

Decimal styles: ``id`` (``1.234.567,89``: dot groups thousands, comma is the decimal mark), ``point``
(``1234567.89`` or ``1,234,567.89``: machine and English style) and ``auto`` (the default): with both marks
the last one is the decimal mark; a lone comma is a decimal mark unless it groups thousands several times
(``1,234,567``); a lone dot is a thousands mark when it groups thousands (``1.234``, ``15.000.000``), a
decimal point otherwise (``1200.00``, ``-0.9512``). ``auto`` cannot tell ``1.234`` (one thousand two
hundred thirty-four) from a decimal with three places: use ``style = "point"`` for coordinates and other
machine-written decimals.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from hub.mapping.issues import fail

Style = Literal["auto", "id", "point"]
_GROUPED_DOTS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_GROUPED_COMMAS = re.compile(r"^[+-]?\d{1,3}(,\d{3}){2,}$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_SPACES = re.compile(r"[\s\u00a0\u202f']+")
_CURRENCY = re.compile(r"^(?:rp\.?|idr)\s*", re.IGNORECASE)
_MONEY_TAIL = re.compile(r"\s*[,.]?\s*-+$")
_SCALES = (
    (re.compile(r"\s*(?:[Tt][Rr][Ii][Ll][Ii][Uu][Nn]|T)$"), Decimal(10) ** 12),
    (re.compile(r"\s*(?:[Mm][Ii][Ll][IiYy][Aa][Rr]|M)$"), Decimal(10) ** 9),  # "M" is miliar, not million
    (re.compile(r"\s*(?:juta|jt)$", re.IGNORECASE), Decimal(10) ** 6),
    (re.compile(r"\s*(?:ribu|rb)$", re.IGNORECASE), Decimal(10) ** 3),
)
TRUE_WORDS = frozenset({"y", "ya", "iya", "yes", "true", "1", "benar", "ada"})
FALSE_WORDS = frozenset({"n", "tidak", "tdk", "no", "false", "0", "salah", "bukan", "tidak ada"})


def _canonical(text: str, style: Style) -> str:
    """``text`` with thousands marks removed and a ``.`` decimal point, per ``style``."""
    if style == "id":
        return text.replace(".", "").replace(",", ".")
    if style == "point":
        return text.replace(",", "")
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        return text.replace(grouping, "").replace(decimal_mark, ".")
    if "," in text:
        return text.replace(",", "") if _GROUPED_COMMAS.match(text) else text.replace(",", ".")
    if _GROUPED_DOTS.match(text) and not text.lstrip("+-").startswith("0"):
        return text.replace(".", "")
    return text


def parse_decimal(value: object, style: Style = "auto") -> Decimal:
    """An exact ``Decimal`` from text in the given style, an int, a Decimal or a float (via its repr)."""
    if isinstance(value, bool):
        fail("number_type", "a number must be text or a number, not a boolean")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # a spreadsheet float: its shortest repr is what the user typed
    if not isinstance(value, str):
        fail("number_type", "a number must be text or a number")
    text = _canonical(_SPACES.sub("", value), style)
    if not _PLAIN.match(text):
        fail("number_format", "not a number (digits with optional thousands marks and decimal mark)")
    try:
        return Decimal(text)
    except InvalidOperation:
        fail("number_format", "not a number")


def parse_int(value: object, style: Style = "auto") -> int:
    """An ``int`` from ``"3"``, ``"1.543.210"``, ``12.0``; a fractional value is an error."""
    number = parse_decimal(value, style)
    if number != number.to_integral_value():
        fail("not_integer", "a whole number was expected")
    return int(number)


def parse_rupiah(value: object, style: Style = "auto") -> Decimal | None:
    """Rupiah from ``Rp 15.000.000,-``, ``Rp15.000.000,00``, ``1.234,56``, ``IDR 2,5 juta``; ``Rp -`` is None.

    The result is exact; scale words multiply: ``ribu``/``rb``, ``juta``/``jt``, ``miliar``/``M``,
    ``triliun``/``T``.
    """
    if not isinstance(value, str):
        return parse_decimal(value, style)
    text = _MONEY_TAIL.sub("", _CURRENCY.sub("", value.strip())).strip()
    if text in ("", "-"):
        return None
    factor = Decimal(1)
    for pattern, scale in _SCALES:
        if pattern.search(text) and not text.isdigit():
            text, factor = pattern.sub("", text), scale
            break
    amount = parse_decimal(text, style)
    if factor == 1:
        return amount
    scaled = amount * factor  # "1,555 M": drop the decimal places the scale word made whole
    return scaled.quantize(Decimal(1)) if scaled == scaled.to_integral_value() else scaled.normalize()


def parse_bool(value: object) -> bool:
    """``True``/``False`` from Y/N, Ya/Tidak, yes/no, true/false, 1/0 (case-insensitive)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = str(value).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    fail("bool_format", "not a yes/no value (Y/N, Ya/Tidak, true/false, 1/0)")
