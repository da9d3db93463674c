"""Value types shared by every payload schema, as ``Annotated`` pydantic types.

Every error these types raise is safe to log: its message never contains the submitted value. Models
using them must still set ``hide_input_in_errors=True`` (see ``schemas.payloads._common.PAYLOAD_CONFIG``).

==================  ======================================================================================
``KodeWilayah``     Kemendagri region code; dotted or undotted in, dotted out; must exist in the reference
``Rupiah``          exact money (``Decimal``, >= 0, 2 dp); Python floats refused (unless the context
                    says they are parsed JSON numbers, :data:`JSON_FLOATS_CONTEXT_KEY`); JSON as a string
``Percent``         ``Decimal`` 0-100, 2 dp
``NonNegInt``       a count, >= 0
``NikToken``        ``nik1_<32 hex>``; a clear NIK only with a tokenizer in the validation context
``PasporToken``     ``psp1_<32 hex>``; a clear passport number only with a tokenizer in the context
``Abbreviation``    1-30 characters (singkatan, units), redacted (NIK, phone)
``ShortText``       1-200 characters (names, titles, addresses), redacted (NIK, phone)
``FreeText``        1-20,000 characters, redacted: the main leak path (kronologi, uraian)
``DocNumber``       an identifier such as a nomor SKT; refused when it holds a NIK-like digit run
``CountryCode``     ISO 3166-1 alpha-2, upper case
==================  ======================================================================================

Instants use pydantic's ``AwareDatetime`` (the source's offset, +07:00/+08:00/+09:00, is kept on output);
days use ``datetime.date``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from schemas.pii import (
    PASSPORT_TOKEN_PATTERN,
    TOKEN_PATTERN,
    TOKENIZER_CONTEXT_KEY,
    NikTokenizer,
    check_nik_structure,
    contains_nik,
    redact_text,
)
from schemas.regions import REGION_REF, default_index

REGION_DECREE = "Kepmendagri 300.2.2-2138/2025"
KODE_WILAYAH_PATTERN = r"^\d{2}(\.?\d{2}(\.?\d{2}(\.?[1-3]\d{3})?)?)?$"  # the loose shape; the index decides
JSON_FLOATS_CONTEXT_KEY = "floats_from_json"
"""Validation-context flag: the input's floats are JSON numbers parsed by the caller (orjson), so Rupiah
treats them as in ``model_validate_json`` (exact below 10^13) instead of refusing them as Python floats."""
_NIK_TOKEN = re.compile(TOKEN_PATTERN)
_PASSPORT_TOKEN = re.compile(PASSPORT_TOKEN_PATTERN)
_RUPIAH_JSON_FLOAT_LIMIT = Decimal(10) ** 13  # below it, a JSON number with 2 dp round-trips exactly


# --- KodeWilayah -------------------------------------------------------------------------------------


# Codes already found in the reference set, as sent -> dotted: the packaged index never changes within a
# process, and the look-up (format regex, then the index) cost ~8 us of every record's validation. Only
# known codes are kept, and at most _KNOWN_CAP spellings of them.
_KNOWN_CODES: dict[str, str] = {}
_KNOWN_CAP = 200_000


def _check_kode_wilayah(value: str) -> str:
    known = _KNOWN_CODES.get(value)
    if known is not None:
        return known
    index = default_index()
    code = index.normalize(value)
    if code is None:
        raise PydanticCustomError(
            "kode_wilayah_format", "kode wilayah must have the form PP, PP.KK, PP.KK.CC or PP.KK.CC.XNNN"
        )
    if not index.exists(code):
        raise PydanticCustomError(
            "kode_wilayah_unknown", "kode wilayah is not in the reference set {ref}", {"ref": REGION_REF}
        )
    if len(_KNOWN_CODES) < _KNOWN_CAP:
        _KNOWN_CODES[value] = code
    return code


KodeWilayah = Annotated[
    str,
    AfterValidator(_check_kode_wilayah),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": KODE_WILAYAH_PATTERN,
            "description": f"Kode wilayah per {REGION_DECREE} (PP, PP.KK, PP.KK.CC or PP.KK.CC.XNNN; the "
            "undotted form is accepted and normalised to dotted); must exist in the reference set.",
            "x-reference": REGION_DECREE,
            "x-region-ref": REGION_REF,
        }
    ),
]


# --- money, percentages, counts ----------------------------------------------------------------------


def _refuse_float(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    if isinstance(value, float):
        from_json = isinstance(info.context, dict) and info.context.get(JSON_FLOATS_CONTEXT_KEY) is True
        if info.mode == "python" and not from_json:
            raise PydanticCustomError(
                "rupiah_float", "money must be given as int, Decimal or string, not float"
            )
        if abs(value) >= _RUPIAH_JSON_FLOAT_LIMIT:
            raise PydanticCustomError("rupiah_precision", "amounts of 10^13 or more must be sent as a string")
    return handler(value)


Rupiah = Annotated[
    Decimal,
    Field(ge=0, max_digits=18, decimal_places=2),
    WrapValidator(_refuse_float),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d{1,16}(\.\d{1,2})?$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "Rupiah, exact (at most 2 decimal places); serialised as a decimal string.",
        },
        mode="validation",
    ),
]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
NonNegInt = Annotated[int, Field(ge=0)]


# --- tokens ------------------------------------------------------------------------------------------


def _tokenizer(info: ValidationInfo) -> NikTokenizer | None:
    context = info.context
    if isinstance(context, dict):
        candidate = context.get(TOKENIZER_CONTEXT_KEY)
        if isinstance(candidate, NikTokenizer):
            return candidate
    return None


def _check_nik_token(value: str, info: ValidationInfo) -> str:
    if value.startswith("nik1_"):
        if _NIK_TOKEN.fullmatch(value):
            return value
        raise PydanticCustomError("nik_format", "a NIK token has the form nik1_ + 32 lowercase hex digits")
    rule = check_nik_structure(value)
    if rule == "nik_region":
        raise PydanticCustomError(rule, "the NIK does not start with a plausible kecamatan code")
    if rule == "nik_birth_date":
        raise PydanticCustomError(rule, "the NIK does not hold a valid birth date (DDMMYY, women day + 40)")
    if rule is not None:
        raise PydanticCustomError("nik_format", "a NIK has 16 digits and a serial other than 0000")
    tokenizer = _tokenizer(info)
    if tokenizer is None:
        raise PydanticCustomError("nik_not_tokenized", "a clear NIK is not accepted here; send its token")
    return tokenizer.tokenize(value)


def _check_passport_token(value: str, info: ValidationInfo) -> str:
    if value.startswith("psp1_"):
        if _PASSPORT_TOKEN.fullmatch(value):
            return value
        raise PydanticCustomError("passport_format", "a passport token has the form psp1_ + 32 hex digits")
    tokenizer = _tokenizer(info)
    if tokenizer is None:
        raise PydanticCustomError("passport_not_tokenized", "a clear passport number is not accepted here")
    try:
        return tokenizer.tokenize_passport(value)
    except ValueError:
        raise PydanticCustomError("passport_format", "a passport number has 6-12 letters or digits") from None


NikToken = Annotated[
    str,
    AfterValidator(_check_nik_token),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": TOKEN_PATTERN,
            "description": "Keyed token of a NIK (HMAC-SHA256, per-deployment key); never the clear NIK.",
        }
    ),
]
PasporToken = Annotated[
    str,
    AfterValidator(_check_passport_token),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": PASSPORT_TOKEN_PATTERN,
            "description": "Keyed token of a passport number; never the clear number.",
        }
    ),
]


# --- text --------------------------------------------------------------------------------------------


def _refuse_nik(value: str) -> str:
    if contains_nik(value):
        raise PydanticCustomError("looks_like_nik", "an identifier must not contain a NIK")
    return value


Abbreviation = Annotated[str, StringConstraints(min_length=1, max_length=30), AfterValidator(redact_text)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(redact_text)]
FreeText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=20_000),
    AfterValidator(redact_text),
    Field(json_schema_extra={"x-redacted": True}),
]
DocNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[\w./\- ()]+$"),
    AfterValidator(_refuse_nik),
]


def _check_country(value: str) -> str:
    if not ("A" <= value[0] <= "Z" and "A" <= value[1] <= "Z"):
        raise PydanticCustomError("country_code", "a country is given as an ISO 3166-1 alpha-2 code")
    return value


CountryCode = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2, to_upper=True),
    AfterValidator(_check_country),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{2}$", "description": "ISO 3166-1 alpha-2"}),
]
