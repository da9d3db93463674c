"""``parse = "country"``: a country name (Indonesian or English) or code -> ISO 3166-1 alpha-2.

Names come from CLDR through Babel (the territory names of the ``id`` and ``en`` locales), so "Amerika
Serikat", "United States", "Tiongkok", "China" and "Jepang" are all found without a hand-written table. The
index is built once, keys case-folded with punctuation and spacing ignored. A few names in everyday
Indonesian use that CLDR does not list are added as aliases (``ALIASES``). A two-letter code that is a
country passes through (upper-cased). Anything else fails with ``country_unknown`` (the value is never in
the message); with ``on_unparseable = "unknown"`` the field is left unknown instead.
"""

from __future__ import annotations

import functools
import re

from hub.mapping.issues import fail

LOCALES = ("id", "en")
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})
"""CLDR territories with letter codes that are not countries (European Union, eurozone, UN, ...)."""
ALIASES: dict[str, str] = {
    "RRT": "CN",
    "Republik Rakyat Tiongkok": "CN",
    "Republik Rakyat Cina": "CN",
    "Cina": "CN",
    "Tiongkok": "CN",
    "Amerika": "US",
    "USA": "US",
    "Inggris": "GB",
    "UK": "GB",
    "Korsel": "KR",
    "Korut": "KP",
    "Perancis": "FR",
    "Timor Leste": "TL",
    "Timor-Leste": "TL",
    "WNI": "ID",
    "RI": "ID",
    "Republik Indonesia": "ID",
    "Malaysia": "MY",
    "Arab Saudi": "SA",
    "Saudi Arabia": "SA",
    "Vietnam": "VN",
    "Rusia": "RU",
    "Russia": "RU",
}
"""Everyday names CLDR lacks (or spells otherwise); checked against CLDR's codes when the index is built.
CLDR's own names and the codes win over an alias (so "AS" stays American Samoa, never the United States)."""
_KEY = re.compile(r"[^0-9a-z]+")


def _key(name: str) -> str:
    return _KEY.sub(" ", name.casefold()).strip()


@functools.cache
def country_index() -> dict[str, str]:
    """Case-folded name or code -> alpha-2 code, from CLDR (``id`` and ``en``) plus ``ALIASES``."""
    from babel import Locale  # here, not at import: only mappings that parse countries pay for CLDR

    index: dict[str, str] = {}
    codes: set[str] = set()
    for locale in LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES:
                codes.add(code)
                index.setdefault(_key(name), code)
    for code in codes:
        index.setdefault(code.casefold(), code)
    for name, code in ALIASES.items():
        assert code in codes, f"alias {name} names an unknown code"
        index.setdefault(_key(name), code)
    return index


def parse_country(value: object) -> str:
    """The ISO 3166-1 alpha-2 code of a country name or code; ``country_unknown`` otherwise."""
    code = country_index().get(_key(str(value)))
    if code is None:
        fail("country_unknown", "not a country name (Indonesian or English, CLDR) or ISO 3166 alpha-2 code")
    return code
