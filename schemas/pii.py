"""Personal data (UU 27/2022 PDP) in Simpul payloads: field marking, NIK tokens, redaction and masking.

* Mark personal fields with :func:`pii_field`; :func:`pii_paths` lists them for a model (nested paths use
  ``*`` for list items: ``pengurus.*.nik_token``).
* :class:`NikTokenizer` replaces a clear NIK (or passport number) by a keyed HMAC-SHA256 token. Payload
  models accept a clear NIK only when the validation context carries one under :data:`TOKENIZER_CONTEXT_KEY`.
* :func:`redact_text` is the safety net for free text and log lines: NIK-like digit runs become ``[NIK]``,
  Indonesian phone numbers ``[TELEPON]``.
* :func:`mask_mapping` / :func:`mask_value` make quarantine previews of raw or mapped records.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

PII_SCHEMA_KEY = "x-pii"
TOKENIZER_CONTEXT_KEY = "nik_tokenizer"
"""Validation-context key under which a :class:`NikTokenizer` is passed (``context={"nik_tokenizer": t}``)."""


class PiiClass(StrEnum):
    """How personal a field is. ``specific`` is the specific personal data of UU 27/2022 Pasal 4(2):
    health, biometric, genetic, criminal-record, children's and personal financial data. Simpul also
    marks ``specific`` free text that may tie a named person to a conflict (injuries, alleged offences)."""

    NONE = "none"
    PERSONAL = "personal"
    SPECIFIC = "specific"


def pii_field(cls: PiiClass, *, description: str, default: Any = PydanticUndefined, **kw: Any) -> Any:
    """A pydantic ``Field`` marked with its PII class (``"x-pii"`` in the JSON schema)."""
    return Field(default, description=description, json_schema_extra={PII_SCHEMA_KEY: cls.value}, **kw)


def pii_class_of(info: FieldInfo) -> PiiClass:
    """The PII class a field was marked with (``none`` when unmarked)."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and PII_SCHEMA_KEY in extra:
        return PiiClass(str(extra[PII_SCHEMA_KEY]))
    return PiiClass.NONE


def nested_models(annotation: Any) -> Iterator[tuple[str, type[BaseModel]]]:
    """Models inside an annotation (through Optional, Annotated, lists, dict values), each with the path
    step that reaches it: "" for the field itself, "*" for items of a collection."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from nested_models(typing.get_args(annotation)[0])
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield "", annotation
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from nested_models(arg)
    elif origin is not None:
        args = typing.get_args(annotation)
        inner = args[-1:] if isinstance(origin, type) and issubclass(origin, Mapping) else args
        for arg in inner:
            for step, model in nested_models(arg):
                yield ("*." + step if step else "*"), model


def pii_map(model: type[BaseModel], prefix: str = "") -> dict[str, PiiClass]:
    """Every field path of ``model`` (nested models included) that is marked personal, with its class."""
    found: dict[str, PiiClass] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        cls = pii_class_of(info)
        if cls is not PiiClass.NONE:
            found[path] = cls
        for step, nested in nested_models(info.annotation):
            found.update(pii_map(nested, f"{path}.{step}." if step else f"{path}."))
    return found


def pii_paths(model: type[BaseModel]) -> tuple[str, ...]:
    """The personal-data paths of ``model``, e.g. ``("pengurus.*.nama", "pengurus.*.nik_token")``."""
    return tuple(pii_map(model))


# --- NIK structure and tokens -------------------------------------------------------------------------

_NIK_DIGITS = re.compile(r"\d{16}")
_PASSPORT = re.compile(r"[A-Z0-9]{6,12}")
TOKEN_PATTERN = r"^nik1_[0-9a-f]{32}$"
PASSPORT_TOKEN_PATTERN = r"^psp1_[0-9a-f]{32}$"


def _valid_birth_date(day: int, month: int, yy: int) -> bool:
    if day > 40:
        day -= 40  # women: day + 40
    for century in (1900, 2000):
        try:
            date(century + yy, month, day)
            return True
        except ValueError:
            continue
    return False


def check_nik_structure(nik: str) -> str | None:
    """The broken rule of a clear NIK (``nik_format``, ``nik_region``, ``nik_birth_date``) or None if it
    looks structurally valid: 16 digits, a plausible kecamatan code (province 11-96, kabupaten and
    kecamatan not 00), a DDMMYY birth date (day + 40 for women), serial not 0000."""
    if not _NIK_DIGITS.fullmatch(nik):
        return "nik_format"
    province, kabupaten, kecamatan = int(nik[0:2]), nik[2:4], nik[4:6]
    if not 11 <= province <= 96 or kabupaten == "00" or kecamatan == "00":
        return "nik_region"
    if not _valid_birth_date(int(nik[6:8]), int(nik[8:10]), int(nik[10:12])):
        return "nik_birth_date"
    if nik[12:] == "0000":
        return "nik_format"
    return None


class NikTokenizer:
    """Keyed tokens for NIKs and passport numbers: ``nik1_`` / ``psp1_`` + the first 32 hex digits of
    HMAC-SHA256(key, value). The same key gives the same token (records stay linkable); without the key a
    token cannot be reversed by enumerating NIKs. Use a per-deployment random key of at least 32 bytes.
    ``key_id`` names the key for rotation; it is not part of the token."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key: bytes, key_id: str = "k1") -> None:
        if not key:
            raise ValueError("NikTokenizer needs a non-empty key")
        self._key = bytes(key)
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"NikTokenizer(key_id={self.key_id!r})"

    def _digest(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()[:32]

    def tokenize(self, nik: str) -> str:
        """The token of a clear NIK (16 digits; raises ValueError, without the value, otherwise)."""
        if not _NIK_DIGITS.fullmatch(nik):
            raise ValueError("a NIK has exactly 16 digits")
        return "nik1_" + self._digest(nik.encode("ascii"))

    def tokenize_passport(self, number: str) -> str:
        """The token of a passport number (6-12 letters or digits, case-insensitive)."""
        clean = number.strip().upper()
        if not _PASSPORT.fullmatch(clean):
            raise ValueError("a passport number has 6-12 letters or digits")
        return "psp1_" + self._digest(b"passport:" + clean.encode("ascii"))


# --- redaction ----------------------------------------------------------------------------------------

NIK_PATTERN = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){15}(?!\d)")
"""16 digits, optionally grouped with single spaces, dots or dashes (``3201 0101 0180 0099``)."""
PHONE_PATTERN = re.compile(r"(?<![\d+])(?:\+62|62|0)[ \-]?8\d(?:[ \-]?\d){6,10}(?!\d)")
"""Indonesian mobile numbers: ``08xx``, ``+62 8xx``, ``628xx``, with spaces or dashes between groups."""


UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
"""A UUID: its dash-separated hex groups can hold 16 digits in a row, which is not a NIK."""


def _outside_uuids(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    """``pattern.sub`` applied only to the parts of ``text`` that are not UUIDs."""
    if "-" not in text or not UUID_PATTERN.search(text):
        return pattern.sub(replacement, text)
    out, last = [], 0
    for match in UUID_PATTERN.finditer(text):
        out.append(pattern.sub(replacement, text[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(pattern.sub(replacement, text[last:]))
    return "".join(out)


def contains_nik(text: str) -> bool:
    """True if ``text`` holds a NIK-like digit run outside any UUID."""
    return _outside_uuids(NIK_PATTERN, "", text) != text if NIK_PATTERN.search(text) else False


def redact_text(text: str) -> str:
    """``text`` with NIK-like digit runs replaced by ``[NIK]`` and phone numbers by ``[TELEPON]``
    (UUIDs are left whole: their digit groups are not NIKs)."""
    return PHONE_PATTERN.sub("[TELEPON]", _outside_uuids(NIK_PATTERN, "[NIK]", text))


PERSONAL_KEY_PARTS: tuple[str, ...] = (
    "nik", "ktp", "nama", "name", "hp", "phone", "telepon", "telp", "whatsapp", "email", "surel", "alamat",
    "address", "pelapor", "paspor", "passport", "lahir", "birth", "no_kk",
)  # fmt: skip
"""Case-insensitive substrings of a key name that mark its value as personal in a raw record. Broad on
purpose: a preview loses a little detail rather than leak (``nama_ormas`` is masked too)."""
MASK = "***"


def _key_is_personal(key: str, path: str, pii_keys: frozenset[str]) -> bool:
    low = key.lower()
    return low in pii_keys or path in pii_keys or any(part in low for part in PERSONAL_KEY_PARTS)


def mask_value(value: Any) -> Any:
    """A masked copy of any JSON-like value: strings redacted, 16-digit integers replaced by ``[NIK]``,
    mappings masked as by :func:`mask_mapping` (key-name rules only), lists and tuples item by item."""
    return _mask_any(value, frozenset(), "")


def _mask_any(value: Any, pii_keys: frozenset[str], path: str, free: frozenset[str] = frozenset()) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) == 16:
        return "[NIK]"
    if isinstance(value, Mapping):
        return _mask(value, pii_keys, path, free)
    if isinstance(value, list | tuple):
        step = f"{path}.*" if path else "*"
        return [_mask_any(item, pii_keys, step, free) for item in value]
    return value


def _mask(
    raw: Mapping[Any, Any], pii_keys: frozenset[str], prefix: str, free: frozenset[str] = frozenset()
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = redact_text(str(key))
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, str) and name.lower() in free:
            out[name] = redact_text(value)  # free text: as the sink stores it (FreeText is redacted)
        elif value not in (None, "") and _key_is_personal(name, path.lower(), pii_keys):
            out[name] = MASK
        else:
            out[name] = _mask_any(value, pii_keys, path, free)
    return out


def mask_mapping(
    raw: Mapping[Any, Any], pii_keys: Iterable[str] = (), free_text: Iterable[str] = ()
) -> dict[str, Any]:
    """A preview copy of a raw or mapped record for quarantine: values of personal keys become ``***``
    (keys in ``pii_keys`` by name or dotted path such as ``pengurus.*.nik_token``, and any key containing a
    :data:`PERSONAL_KEY_PARTS` part); all other strings are redacted; nesting is followed. Empty values
    (None, "") stay visible so a missing field can be diagnosed. A text under a key named in ``free_text``
    (a schema's free-text field: uraian, kronologi) is shown redacted, as the sink would store it, rather
    than ``***``."""
    return _mask(raw, frozenset(k.lower() for k in pii_keys), "", frozenset(k.lower() for k in free_text))
