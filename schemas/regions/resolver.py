"""Name -> region resolution, scoped by parent and/or level (used by ``RegionIndex.resolve``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping

from .model import AmbiguousRegion, Region, RegionNotFound, kind_of_code, level_of_code
from .names import PROVINCE_ALIASES, full_keys, parse_query, region_keys

_LEVEL4_KINDS = frozenset({"kelurahan", "desa"})


def _build(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Key -> codes for (code, name) pairs; the common case (one key per name) avoids per-name regex calls."""
    items = list(pairs)
    found: dict[str, list[str]] = {}
    for (code, name), full in zip(items, full_keys([name for _, name in items]), strict=True):
        level = level_of_code(code)
        simple = level != 2 and "(" not in name and not (level == 4 and full.startswith("desaadat"))
        for k in (full,) if simple else region_keys(name, level):
            codes = found.get(k)
            if codes is None:
                found[k] = [code]
            else:
                codes.append(code)
    return found


class Resolver:
    """Key -> codes maps: levels 1-3 built at construction, level 4 on the first search that needs it.

    ``load_level4`` returns kelurahan/desa grouped by kecamatan (see ``loader.load_level_4``); ``get`` turns a
    code into its Region. Thread-safe.
    """

    def __init__(
        self,
        upper: Mapping[str, str],
        load_level4: Callable[[], Mapping[str, Mapping[str, str]]],
        get: Callable[[str], Region | None],
    ) -> None:
        self._upper = _build(upper.items())
        for alias, code in PROVINCE_ALIASES.items():
            codes = self._upper.setdefault(alias, [])
            if code in upper and code not in codes:
                codes.append(code)
        self._load_level4 = load_level4
        self._get = get
        self._lower: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def _level4(self) -> dict[str, list[str]]:
        if self._lower is None:
            with self._lock:
                if self._lower is None:
                    desa = self._load_level4()
                    self._lower = _build(
                        (f"{kec}.{suffix}", name)
                        for kec, members in desa.items()
                        for suffix, name in members.items()
                    )
        return self._lower

    def _level4_in(self, key: str, parent: str) -> list[str]:
        """Level-4 codes under ``parent`` with this key, scanning that scope only (no global index needed)."""
        desa = self._load_level4()
        scope = [parent] if level_of_code(parent) == 3 else [k for k in desa if k.startswith(parent + ".")]
        return [
            f"{kec}.{suffix}"
            for kec in scope
            for suffix, name in desa.get(kec, {}).items()
            if key in region_keys(name, 4)
        ]

    def _search(self, key: str, kinds: frozenset[str], parent: str | None, level: int | None) -> list[str]:
        def keep(codes: list[str]) -> list[str]:
            return [
                c
                for c in codes
                if (level is None or level_of_code(c) == level)
                and (parent is None or c.startswith(parent + "."))
                and (not kinds or kind_of_code(c) in kinds)
            ]

        hits = keep(self._upper.get(key, [])) if level is None or level <= 3 else []
        wants_level4 = level in (None, 4) and (not kinds or kinds & _LEVEL4_KINDS)
        if not hits and wants_level4:
            found = self._level4().get(key, []) if parent is None else self._level4_in(key, parent)
            hits = keep(found)
        return hits

    def resolve(self, name: str, *, parent: str | None = None, level: int | None = None) -> Region:
        """Resolve a name to one region; see ``RegionIndex.resolve`` for the contract."""
        if level is not None and level not in (1, 2, 3, 4):
            raise ValueError(f"level must be 1-4, not {level!r}")
        scope = self._get(parent) if parent is not None else None
        if parent is not None and scope is None:
            raise RegionNotFound(f"unknown parent region code {parent!r}")
        parent_code = scope.code if scope is not None else None
        kinds, base, full = parse_query(name)
        if not full:
            raise RegionNotFound(f"empty region name {name!r}")
        hits = self._search(base, kinds, parent_code, level) if kinds else []
        if not hits:
            hits = self._search(full, frozenset(), parent_code, level)
        if hits and level is None:
            top = min(level_of_code(c) for c in hits)
            hits = [c for c in hits if level_of_code(c) == top]
        regions = [r for r in (self._get(c) for c in sorted(set(hits))) if r is not None]
        where = f" in {parent_code}" if parent_code else ""
        at = f" at level {level}" if level else ""
        if not regions:
            raise RegionNotFound(f"no region named {name!r}{where}{at}")
        if len(regions) > 1:
            listed = ", ".join(f"{r.code} {r.name}" for r in regions[:8])
            more = f" and {len(regions) - 8} more" if len(regions) > 8 else ""
            raise AmbiguousRegion(
                f"{name!r}{where}{at} matches {len(regions)} regions: {listed}{more}; give a parent or level",
                regions,
            )
        return regions[0]
