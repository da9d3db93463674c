"""Name normalisation for region lookup: match keys, kind prefixes ("Kab.", "KOTA", "Kec."), province aliases.

A *key* is the name lower-cased with everything but ASCII letters and digits removed, so case, punctuation and
spacing never matter: "Kab. Fak-Fak", "KAB FAKFAK" and "kab  fak fak" share keys.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[a-z0-9]+")
_NOT_KEY = re.compile(r"[^a-z0-9]+")
_NOT_KEY_OR_NEWLINE = re.compile(r"[^a-z0-9\n]+")

# First word of a name -> the kinds it designates. "Kab."/"Kota"/"Kec." are how sources abbreviate.
_PREFIX_KINDS: dict[str, frozenset[str]] = {
    "provinsi": frozenset({"provinsi"}),
    "propinsi": frozenset({"provinsi"}),
    "prov": frozenset({"provinsi"}),
    "prop": frozenset({"provinsi"}),
    "kabupaten": frozenset({"kabupaten"}),
    "kab": frozenset({"kabupaten"}),
    "kota": frozenset({"kota"}),
    "kotamadya": frozenset({"kota"}),
    "kodya": frozenset({"kota"}),
    "kecamatan": frozenset({"kecamatan"}),
    "kec": frozenset({"kecamatan"}),
    "distrik": frozenset({"kecamatan"}),
    "kelurahan": frozenset({"kelurahan"}),
    "kel": frozenset({"kelurahan"}),
    "desa": frozenset({"desa"}),
}
# Words that may follow the prefix word: "Kota Administrasi Jakarta Pusat", "Kab. Adm. ...", "Desa Adat".
_PREFIX_TAILS = {"administrasi", "adm", "adat"}
# Level-2 official names start with one of these; their base key drops it ("Kabupaten Bogor" -> "bogor").
_LEVEL2_HEADS = {"kabupaten", "kota"}

# Abbreviated words, in sources and in some official names ("Kabupaten Kep. Siau Tagulandang Biaro").
_ABBREVIATIONS = {"kep": "kepulauan"}
# Province names as sources commonly write them, key -> province code (in addition to the official name).
PROVINCE_ALIASES: dict[str, str] = {
    "nad": "11",
    "nanggroeacehdarussalam": "11",
    "sumut": "12",
    "sumbar": "13",
    "sumsel": "16",
    "babel": "19",
    "bangkabelitung": "19",
    "kepri": "21",
    "dki": "31",
    "dkijakarta": "31",
    "jakarta": "31",
    "daerahkhususjakarta": "31",
    "jabar": "32",
    "jateng": "33",
    "diy": "34",
    "diyogyakarta": "34",
    "yogyakarta": "34",
    "jatim": "35",
    "ntb": "52",
    "ntt": "53",
    "kalbar": "61",
    "kalteng": "62",
    "kalsel": "63",
    "kaltim": "64",
    "kaltara": "65",
    "sulut": "71",
    "sulteng": "72",
    "sulsel": "73",
    "sultra": "74",
    "sulbar": "76",
    "malut": "82",
}


def tokens(text: str) -> list[str]:
    """Lower-case ASCII words of ``text``; punctuation and whitespace only separate; "Kep." -> "kepulauan"."""
    return [_ABBREVIATIONS.get(word, word) for word in _TOKEN.findall(text.lower())]


def key(text: str) -> str:
    """Match key of a name: its words joined without separators ("Kab. Fak-Fak" -> "kabfakfak")."""
    low = text.lower()
    if "kep" not in low:  # fast path, same result: no abbreviation to expand
        return _NOT_KEY.sub("", low)
    return "".join(tokens(text))


def full_keys(names: list[str]) -> list[str]:
    """``[key(n) for n in names]`` in one regex pass over all names: what makes indexing 83,762 desa fast."""
    joined = _NOT_KEY_OR_NEWLINE.sub("", "\n".join(names).lower())
    fast = joined.split("\n")
    if len(fast) != len(names):  # a name with a line break: cannot happen in the data, but stay correct
        return [key(n) for n in names]
    return [key(n) if "kep" in k else k for n, k in zip(names, fast, strict=True)]


def parse_query(text: str) -> tuple[frozenset[str], str, str]:
    """Split a searched name into (kinds named by its prefix, key without the prefix, key of the whole text).

    "Kab. Bogor" -> ({"kabupaten"}, "bogor", "kabbogor"); "Cibinong" -> (frozenset(), "cibinong", "cibinong").
    A prefix alone ("Kota") is not taken as a prefix: it is the whole name.
    """
    words = tokens(text)
    full = "".join(words)
    kinds = _PREFIX_KINDS.get(words[0], frozenset()) if words else frozenset()
    if not kinds:
        return frozenset(), full, full
    rest = words[1:]
    while rest and rest[0] in _PREFIX_TAILS:
        rest = rest[1:]
    if not rest:
        return frozenset(), full, full
    return kinds, "".join(rest), full


def region_keys(name: str, level: int) -> list[str]:
    """Keys under which a region of this official name and level is found, without repeats.

    Every region: the key of its full name, and of the part before a parenthesis ("Misool (Misool Utara)").
    Level 2: also the name without "Kabupaten"/"Kota" (and "Administrasi"). Level 4: also without "Desa Adat".
    """
    full = key(name)
    found = [full]
    if "(" in name:
        found.append(key(name.split("(", 1)[0]))
    if level == 2:
        words = tokens(name)
        if words and words[0] in _LEVEL2_HEADS:
            rest = words[1:]
            if rest and rest[0] == "administrasi":
                rest = rest[1:]
            found.append("".join(rest))
    elif level == 4 and full.startswith("desaadat") and len(full) > 8:
        found.append(full[8:])
    return list(dict.fromkeys(found))
