"""``RegionIndex``: lookup of Kemendagri regions by code and by name, plus the 2022 Papua crosswalk."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from .crosswalk import Papua2022Crosswalk, Succession
from .loader import load_level_4, load_levels_1_3
from .model import REGION_REF, Region, level_of_code, make_region, normalize_code
from .resolver import Resolver

Level4 = Mapping[str, Mapping[str, str]]


class RegionIndex:
    """All regions of one reference version (``version``, e.g. ``REGION_REF``).

    Levels 1-3 (7,837 regions) are held as Region objects from construction. Level 4 (83,762 kelurahan/desa)
    is loaded on the first call that needs it (a level-4 code, ``children`` of a kecamatan, a level-4 name),
    or by ``load_level_4``; its Regions are built on demand. That first load takes tens of milliseconds and
    blocks: a service may call ``load_level_4`` at start-up (in a thread) to keep it off the event loop.
    Thread-safe.

    Every method taking a code accepts the dotted and the undotted form; malformed or unknown codes give
    None / False / [] rather than raising, except ``resolve`` which raises on unknown scope.
    """

    def __init__(
        self,
        upper: Mapping[str, str] | None = None,
        level4_loader: Callable[[], Level4] = load_level_4,
        version: str = REGION_REF,
    ) -> None:
        """Build from the complete ``{code: name}`` of levels 1-3 (default: the packaged data) and a level-4
        loader. Raises RegionDataError if the data is unreadable or the Papua crosswalk does not fit it."""
        names = dict(upper) if upper is not None else load_levels_1_3()
        self.version = version
        self._regions: dict[str, Region] = {code: make_region(code, name) for code, name in names.items()}
        self._children: dict[str | None, list[Region]] = {}
        for region in self._regions.values():
            self._children.setdefault(region.parent, []).append(region)
        for members in self._children.values():
            members.sort(key=lambda r: r.code)
        self._level4_loader = level4_loader
        self._level4: Level4 | None = None
        self._level4_regions: dict[str, Region] = {}
        self._lock = threading.RLock()
        self._names = names
        self._resolver: Resolver | None = None
        level2 = {c: r.name for c, r in self._regions.items() if r.level == 2}
        self._crosswalk = Papua2022Crosswalk(level2)

    def _load_level_4(self) -> Level4:
        if self._level4 is None:
            with self._lock:
                if self._level4 is None:
                    self._level4 = self._level4_loader()
        return self._level4

    def load_level_4(self) -> int:
        """Load the kelurahan/desa now rather than on first use; returns how many there are."""
        return sum(len(members) for members in self._load_level_4().values())

    def normalize(self, code: str) -> str | None:
        """Dotted form of a well-formed code ("3201" -> "32.01"), None if malformed. Format only."""
        return normalize_code(code)

    def get(self, code: str) -> Region | None:
        """The region with this code (dotted or undotted), None if malformed or unknown."""
        dotted = normalize_code(code)
        if dotted is None:
            return None
        if level_of_code(dotted) <= 3:
            return self._regions.get(dotted)
        region = self._level4_regions.get(dotted)
        if region is None:
            name = self._load_level_4().get(dotted[:8], {}).get(dotted[9:])
            if name is None:
                return None
            region = self._level4_regions.setdefault(dotted, make_region(dotted, name))
        return region

    def exists(self, code: str) -> bool:
        """True if the code names a region of this version."""
        return self.get(code) is not None

    def level_of(self, code: str) -> int | None:
        """Level (1-4) of an existing region, None if the code is malformed or unknown."""
        region = self.get(code)
        return region.level if region is not None else None

    def parent_chain(self, code: str) -> list[Region]:
        """The region and its ancestors, nearest first, province last; [] if malformed or unknown."""
        chain: list[Region] = []
        region = self.get(code)
        while region is not None:
            chain.append(region)
            region = self._regions.get(region.parent) if region.parent is not None else None
        return chain

    def province_of(self, code: str) -> Region | None:
        """The province containing (or being) the region, None if malformed or unknown."""
        chain = self.parent_chain(code)
        return chain[-1] if chain else None

    def children(self, code: str | None) -> list[Region]:
        """Direct children ordered by code; None -> the provinces; [] for a desa, a malformed/unknown code."""
        if code is None:
            return list(self._children[None])
        region = self.get(code)
        if region is None:
            return []
        if region.level < 3:
            return list(self._children.get(region.code, []))
        if region.level == 3:
            members = self._load_level_4().get(region.code, {})
            found = (self.get(f"{region.code}.{suffix}") for suffix in sorted(members))
            return [r for r in found if r is not None]
        return []

    def resolve(self, name: str, *, parent: str | None = None, level: int | None = None) -> Region:
        """Resolve a place name to exactly one region.

        Case, punctuation and spacing are ignored; a leading "Kab."/"Kabupaten", "Kota", "Kec."/"Kecamatan"/
        "Distrik", "Kel."/"Kelurahan", "Desa", "Prov."/"Provinsi" restricts the kind ("kab bogor" -> 32.01,
        "kota bogor" -> 32.71); if nothing of that kind matches, the whole text is tried as a name
        (kecamatan "Kota Agung"). ``parent`` (any ancestor code) and ``level`` narrow the search. Without
        ``level``, the shallowest matching level wins ("Merauke" -> Kabupaten Merauke, not kecamatan Merauke)
        and kelurahan/desa are searched only when no province, kab/kota or kecamatan matches. Common province
        abbreviations ("DKI Jakarta", "Jatim", "NTT") are known.

        Raises RegionNotFound (no match, or ``parent`` malformed/unknown), AmbiguousRegion (several matches
        at the winning level: "Bogor" -> Kabupaten and Kota Bogor; see ``.candidates``), ValueError (bad
        ``level``).
        """
        if self._resolver is None:
            with self._lock:
                if self._resolver is None:
                    self._resolver = Resolver(self._names, self._load_level_4, self.get)
        return self._resolver.resolve(name, parent=parent, level=level)

    def crosswalk(self, old_code: str) -> str | None:
        """Current code of a pre-2022 Papua/Papua Barat kab/kota code that moved in 2022.

        "91.01" (Kabupaten Merauke) -> "93.01"; "92.05" (Raja Ampat) -> "96.03". None if the code did not
        move (e.g. "91.03" Jayapura, or any code outside 91/92) or is malformed. A returned code exists.

        By kabupaten/kota only: inside a moved kab/kota the kecamatan and desa were renumbered, and that
        renumbering is not in the pinned source, so for an old kecamatan/desa code under a moved kab/kota
        this gives None rather than guessing by swapping the prefix (``was_moved`` then still says True).
        Use ``crosswalk_kabkota`` to place such a code (e.g. the PP KK CC of a pre-2022 NIK) in its
        kabupaten/kota.
        """
        dotted = normalize_code(old_code)
        return self._crosswalk.lookup(dotted) if dotted is not None else None

    def crosswalk_kabkota(self, old_code: str) -> str | None:
        """Current kab/kota that a pre-2022 code's kab/kota moved to in 2022, for a code of level 2-4.

        "91.01.01" -> "93.01" (Kabupaten Merauke); "92.05" -> "96.03". None if its kab/kota did not move,
        for a province code, or if the code is malformed. It does not check that the old kecamatan/desa
        existed. A returned code exists.
        """
        dotted = normalize_code(old_code)
        return self._crosswalk.kabkota_of(dotted) if dotted is not None else None

    def succession_of(self, code: str) -> Succession | None:
        """How a current code of level 2-4 came to its province, if its kab/kota was split off in 2022.

        "96.71" (Kota Sorong) -> Succession(old="92.71", new="96.71", law="UU 29/2022", on=2022-12-08);
        None for a region that did not move, a province code, or a malformed code."""
        dotted = normalize_code(code)
        return self._crosswalk.succession_of(dotted) if dotted is not None else None

    def successors(self, code: str) -> list[Succession]:
        """The kab/kota split off in 2022 from the area of a province or kab/kota code as it was then:
        "92" (Papua Barat) -> its 6 moves to Papua Barat Daya; "92.71" -> Kota Sorong's; [] otherwise."""
        dotted = normalize_code(code)
        return self._crosswalk.successors(dotted) if dotted is not None and level_of_code(dotted) <= 2 else []

    def was_moved(self, old_code: str) -> bool:
        """True if the code is, or lies under, a pre-2022 kab/kota of Papua or Papua Barat moved to 93-96."""
        dotted = normalize_code(old_code)
        return dotted is not None and self._crosswalk.was_moved(dotted)
