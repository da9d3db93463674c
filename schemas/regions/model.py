"""Value types, errors and the code format of Kemendagri region codes (kode wilayah).

Code format (Kepmendagri 300.2.2-2138/2025): ``PP`` provinsi, ``PP.KK`` kabupaten (KK 01-69) or kota
(KK 71-99), ``PP.KK.CC`` kecamatan (distrik in Papua), ``PP.KK.CC.XNNN`` kelurahan (X = 1) or desa (X = 2;
X = 3 is a *desa adat* in Kabupaten Jayapura, reported as kind ``desa``). These are Kemendagri codes, not BPS
codes: BPS 1101 is Simeulue, Kemendagri 11.01 is Aceh Selatan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REGION_REF = "kepmendagri-300.2.2-2138-2025"
"""Version of the region reference data; every envelope that carries a region code names it."""

KINDS = ("provinsi", "kabupaten", "kota", "kecamatan", "kelurahan", "desa")

_PP = r"[1-9][1-9]"
_KK = r"(?:0[1-9]|[1-6][0-9]|7[1-9]|[89][0-9])"  # kabupaten 01-69, kota 71-99
_CC = r"(?!00)[0-9]{2}"
_XNNN = r"[1-3](?!000)[0-9]{3}"  # 1 kelurahan, 2 desa, 3 desa adat
_DOTTED = re.compile(rf"{_PP}(?:\.{_KK}(?:\.{_CC}(?:\.{_XNNN})?)?)?")
_UNDOTTED_LENGTHS = (2, 4, 6, 10)


@dataclass(frozen=True, slots=True)
class Region:
    """One region of the official list.

    ``code`` is dotted ("32.01"); ``name`` is the official name ("Kabupaten Bogor", "Jawa Barat", "Cibinong");
    ``level`` is 1 provinsi, 2 kabupaten/kota, 3 kecamatan, 4 kelurahan/desa; ``kind`` is one of ``KINDS``;
    ``parent`` is the dotted code of the enclosing region, None for a province.
    """

    code: str
    name: str
    level: int
    kind: str
    parent: str | None


class RegionNotFound(LookupError):
    """No region matches the code or name asked for (or the scope given is unknown)."""


class AmbiguousRegion(LookupError):
    """A name matches more than one region; ``candidates`` lists them, ordered by code."""

    def __init__(self, message: str, candidates: list[Region]) -> None:
        super().__init__(message)
        self.candidates = candidates


def normalize_code(code: str) -> str | None:
    """Return the dotted form of a well-formed code, or None. Checks the format only, not existence.

    Accepts the dotted form and the undotted one ("3201" -> "32.01", "3201012001" -> "32.01.01.2001"),
    surrounding whitespace allowed. Rejects anything else: other separators, partial dotting ("32.0101"),
    a 16-digit NIK, segment 00, KK 70, X outside 1-3, NNN 000.
    """
    if not isinstance(code, str):
        return None
    c = code.strip()
    if c.isascii() and c.isdigit() and len(c) in _UNDOTTED_LENGTHS:
        c = ".".join(part for part in (c[0:2], c[2:4], c[4:6], c[6:10]) if part)
    return c if _DOTTED.fullmatch(c) else None


def level_of_code(dotted: str) -> int:
    """Level implied by a dotted, well-formed code: the number of segments."""
    return dotted.count(".") + 1


def parent_of_code(dotted: str) -> str | None:
    """Dotted code of the enclosing region, None for a province."""
    cut = dotted.rfind(".")
    return dotted[:cut] if cut > 0 else None


def kind_of_code(dotted: str) -> str:
    """Kind implied by the code alone: the KK range tells kabupaten from kota, X kelurahan from desa."""
    level = level_of_code(dotted)
    if level == 1:
        return "provinsi"
    if level == 2:
        return "kota" if int(dotted[3:5]) >= 71 else "kabupaten"
    if level == 3:
        return "kecamatan"
    return "kelurahan" if dotted[9] == "1" else "desa"


def make_region(code: str, name: str) -> Region:
    """Build the Region for a dotted code known to exist, deriving level, kind and parent from the code."""
    return Region(code, name, level_of_code(code), kind_of_code(code), parent_of_code(code))
