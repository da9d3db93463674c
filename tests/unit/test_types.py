"""Value types: KodeWilayah, Rupiah, NikToken/PasporToken, dates with offsets, text types."""

from __future__ import annotations

from datetime import date, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import AwareDatetime, BaseModel, ValidationError

from schemas.payloads._common import PAYLOAD_CONFIG
from schemas.pii import NikTokenizer
from schemas.types import (
    CountryCode,
    DocNumber,
    FreeText,
    KodeWilayah,
    NikToken,
    NonNegInt,
    PasporToken,
    Percent,
    Rupiah,
)

TOKENIZER = NikTokenizer(b"unit-test-key-0123456789abcdef", key_id="test")
CTX = {"nik_tokenizer": TOKENIZER}
NIK_MAN = "3201010101800099"  # Bogor, Cibinong; 1 Jan 1980; serial 0099
NIK_WOMAN = "3201054506750099"  # day 45 = 5 June 1975, a woman


class Wilayah(BaseModel):
    model_config = PAYLOAD_CONFIG
    kode: KodeWilayah


class Uang(BaseModel):
    model_config = PAYLOAD_CONFIG
    jumlah: Rupiah
    persen: Percent = Decimal(0)
    jumlah_orang: NonNegInt = 0


class Orang(BaseModel):
    model_config = PAYLOAD_CONFIG
    nik: NikToken
    paspor: PasporToken | None = None
    negara: CountryCode = "ID"


class Teks(BaseModel):
    model_config = PAYLOAD_CONFIG
    uraian: FreeText
    nomor: DocNumber = "1"


class Waktu(BaseModel):
    model_config = PAYLOAD_CONFIG
    pada: AwareDatetime
    tanggal: date | None = None


def _error_types(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [e["type"] for e in exc.value.errors(include_input=False)]


# --- KodeWilayah -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "dotted"),
    [
        ("32", "32"),
        ("3201", "32.01"),
        ("32.01.01", "32.01.01"),
        ("320101", "32.01.01"),
        ("3201011010", "32.01.01.1010"),
        (" 32.01 ", "32.01"),
        ("96", "96"),
    ],
)
def test_kode_wilayah_normalises_to_dotted(raw: str, dotted: str) -> None:
    """Dotted and undotted codes of every level come out dotted."""
    assert Wilayah(kode=raw).kode == dotted


@pytest.mark.parametrize("raw", ["3", "32.1", "32-01", "ab.cd", "32.01.01.10100", "", "32.0101", NIK_MAN])
def test_kode_wilayah_bad_format(raw: str) -> None:
    """Malformed codes (a NIK included) fail with kode_wilayah_format, without echoing the input."""
    with pytest.raises(ValidationError) as exc:
        Wilayah(kode=raw)
    assert _error_types(exc) == ["kode_wilayah_format"]
    assert not raw or raw not in str(exc.value)


@pytest.mark.parametrize("raw", ["39", "32.98.99", "32.01.99", "32.01.01.2999"])
def test_kode_wilayah_unknown(raw: str) -> None:
    """Well-formed codes not in the reference set fail with kode_wilayah_unknown."""
    with pytest.raises(ValidationError) as exc:
        Wilayah(kode=raw)
    assert _error_types(exc) == ["kode_wilayah_unknown"]
    assert raw not in str(exc.value)


def test_kode_wilayah_json_schema_names_the_decree() -> None:
    """The JSON schema has a pattern and names Kepmendagri 300.2.2-2138/2025."""
    prop = Wilayah.model_json_schema()["properties"]["kode"]
    assert "pattern" in prop
    assert "300.2.2-2138/2025" in prop["description"]


# --- Rupiah ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "exact"),
    [(15000000, "15000000"), ("1851852000.00", "1851852000.00"), (Decimal("0.10"), "0.10"), ("0", "0")],
)
def test_rupiah_accepts_int_decimal_and_numeric_strings_exactly(raw: object, exact: str) -> None:
    """Ints, Decimals and numeric strings keep their exact value."""
    assert Uang.model_validate({"jumlah": raw}).jumlah == Decimal(exact)


def test_rupiah_refuses_python_float() -> None:
    """A Python float is refused: float money is a bug."""
    with pytest.raises(ValidationError) as exc:
        Uang.model_validate({"jumlah": 0.1})
    assert _error_types(exc) == ["rupiah_float"]


@pytest.mark.parametrize("raw", [-1, "1.234", "Rp 15.000.000,-", "NaN", True])
def test_rupiah_refuses_negative_too_precise_and_text(raw: object) -> None:
    """Negative amounts, more than 2 decimals, formatted text, NaN and booleans fail."""
    with pytest.raises(ValidationError):
        Uang.model_validate({"jumlah": raw})


def test_rupiah_json_number_is_exact() -> None:
    """JSON numbers (not Python floats) validate to the exact decimal."""
    assert Uang.model_validate_json('{"jumlah": 0.1}').jumlah == Decimal("0.1")
    assert Uang.model_validate_json('{"jumlah": 9999999999999.99}').jumlah == Decimal("9999999999999.99")
    assert Uang.model_validate_json('{"jumlah": 1851852000}').jumlah == Decimal(1851852000)


def test_rupiah_floats_from_parsed_json_with_context_flag() -> None:
    """A caller that parsed JSON itself (orjson) can say so; its floats are then read exactly."""
    ctx = {"floats_from_json": True}
    assert Uang.model_validate({"jumlah": 1500000.5}, context=ctx).jumlah == Decimal("1500000.5")
    with pytest.raises(ValidationError) as exc:
        Uang.model_validate({"jumlah": 1.5e13}, context=ctx)
    assert _error_types(exc) == ["rupiah_precision"]


def test_rupiah_json_number_too_large_for_exactness_is_refused() -> None:
    """A JSON float of 10^13 or more could have lost digits: it must come as a string."""
    with pytest.raises(ValidationError) as exc:
        Uang.model_validate_json('{"jumlah": 12345678901234567.89}')
    assert _error_types(exc) == ["rupiah_precision"]
    big = "1234567890123456.78"
    assert Uang.model_validate_json(f'{{"jumlah": "{big}"}}').jumlah == Decimal(big)


def test_rupiah_serialises_as_string() -> None:
    """In JSON a Rupiah amount is a decimal string, so no consumer parses it as a float."""
    assert Uang(jumlah=Decimal("1200.50")).model_dump(mode="json")["jumlah"] == "1200.50"
    assert '"jumlah":"1200.50"' in Uang(jumlah=Decimal("1200.50")).model_dump_json()


def test_percent_and_counts_bounds() -> None:
    """Percent is 0-100 with 2 dp; counts are non-negative."""
    assert Uang.model_validate({"jumlah": 1, "persen": "81.33"}).persen == Decimal("81.33")
    for bad in ({"persen": "100.01"}, {"persen": "81.333"}, {"jumlah_orang": -1}):
        with pytest.raises(ValidationError):
            Uang.model_validate({"jumlah": 1, **bad})


# --- NikToken / PasporToken ------------------------------------------------------------------------


def test_nik_token_passes_through() -> None:
    """A well-formed token is accepted as is, with or without a tokenizer."""
    token = TOKENIZER.tokenize(NIK_MAN)
    assert Orang(nik=token).nik == token
    assert Orang.model_validate({"nik": token}, context=CTX).nik == token


def test_clear_nik_is_tokenized_with_a_tokenizer() -> None:
    """With a tokenizer in the context a clear NIK becomes its token."""
    orang = Orang.model_validate({"nik": NIK_MAN}, context=CTX)
    assert orang.nik == TOKENIZER.tokenize(NIK_MAN)
    assert orang.nik.startswith("nik1_") and NIK_MAN not in orang.model_dump_json()


def test_clear_nik_without_tokenizer_is_refused() -> None:
    """Without a tokenizer a clear NIK fails with nik_not_tokenized and is not echoed."""
    with pytest.raises(ValidationError) as exc:
        Orang.model_validate({"nik": NIK_MAN})
    assert _error_types(exc) == ["nik_not_tokenized"]
    assert NIK_MAN not in str(exc.value)
    assert NIK_MAN not in repr(exc.value.errors(include_input=False))


def test_women_birth_day_plus_40_is_valid() -> None:
    """Day 41-71 encodes a woman's birth day and is accepted."""
    assert Orang.model_validate({"nik": NIK_WOMAN}, context=CTX).nik.startswith("nik1_")


@pytest.mark.parametrize(
    ("nik", "rule"),
    [
        ("3201013213800099", "nik_birth_date"),  # day 32
        ("3201017513800001", "nik_birth_date"),  # day 75 - 40 = 35
        ("3201013002800099", "nik_birth_date"),  # 30 February
        ("3201010113800099", "nik_birth_date"),  # month 13
        ("0901010101800099", "nik_region"),  # province 09
        ("9901010101800099", "nik_region"),  # province 99
        ("3200010101800099", "nik_region"),  # kabupaten 00
        ("3201010101800000", "nik_format"),  # serial 0000
        ("320101010180009", "nik_format"),  # 15 digits
        ("nik1_XYZ", "nik_format"),  # broken token
        ("32010101018000AB", "nik_format"),
    ],
)
def test_bad_nik_structure(nik: str, rule: str) -> None:
    """Structural NIK errors have stable types and never carry the value."""
    with pytest.raises(ValidationError) as exc:
        Orang.model_validate({"nik": nik}, context=CTX)
    assert _error_types(exc) == [rule]
    assert nik not in str(exc.value)


def test_leap_day_birth_date_is_valid() -> None:
    """29 February is valid when the two-digit year can be a leap year (00 -> 2000)."""
    assert Orang.model_validate({"nik": "3201012902000099"}, context=CTX).nik.startswith("nik1_")


def test_passport_token_and_clear_number() -> None:
    """Passport numbers are tokenised only with a tokenizer; tokens pass as is."""
    orang = Orang.model_validate({"nik": NIK_MAN, "paspor": "pa1234567", "negara": "au"}, context=CTX)
    assert orang.paspor == TOKENIZER.tokenize_passport("PA1234567")
    assert orang.negara == "AU"
    with pytest.raises(ValidationError) as exc:
        Orang.model_validate({"nik": orang.nik, "paspor": "PA1234567"})
    assert _error_types(exc) == ["passport_not_tokenized"]
    with pytest.raises(ValidationError) as exc:
        Orang.model_validate({"nik": orang.nik, "negara": "A1"})
    assert _error_types(exc) == ["country_code"]


# --- text and time ---------------------------------------------------------------------------------


def test_free_text_is_redacted() -> None:
    """FreeText replaces NIKs and phone numbers on validation."""
    teks = Teks(uraian=f"Pelapor {NIK_MAN}, HP 0812-3456-7890.")
    assert teks.uraian == "Pelapor [NIK], HP [TELEPON]."


def test_doc_number_refuses_a_nik() -> None:
    """An identifier holding a NIK (a source using NIKs as ids) is refused, not published."""
    with pytest.raises(ValidationError) as exc:
        Teks(uraian="x", nomor=f"REG/{NIK_MAN}")
    assert _error_types(exc) == ["looks_like_nik"]
    assert NIK_MAN not in str(exc.value)


@pytest.mark.parametrize(("raw", "hours"), [("+07:00", 7), ("+08:00", 8), ("+09:00", 9)])
def test_offsets_are_kept(raw: str, hours: int) -> None:
    """WIB, WITA and WIT offsets survive validation and JSON output."""
    waktu = Waktu.model_validate_json(f'{{"pada": "2024-02-10T21:14:03{raw}", "tanggal": "2024-02-10"}}')
    assert waktu.pada.utcoffset() == timedelta(hours=hours)
    assert waktu.model_dump(mode="json")["pada"].endswith(raw)
    assert waktu.pada.tzinfo == timezone(timedelta(hours=hours))


def test_naive_datetime_is_refused() -> None:
    """An instant without an offset is ambiguous and refused."""
    with pytest.raises(ValidationError) as exc:
        Waktu.model_validate({"pada": "2024-02-10T21:14:03"})
    assert _error_types(exc) == ["timezone_aware"]
