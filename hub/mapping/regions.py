"""The ``region`` rule: a kode wilayah from region names resolved level by level, or from a code column.

Resolution starts from a scope: a code column's value, else ``within`` (``office``: the sending office's
region; a fixed code; ``none``). Each name given (provinsi, kabkota, kecamatan, desa) is then resolved with
``default_index().resolve(name, parent=scope, level=...)`` and becomes the new scope, so "CIBINONG" is
looked up only inside Kabupaten Bogor. A name at or above the scope's level is *checked* against the scope
(a Bogor system reporting "KAB. SUKABUMI" is an error, not silently Bogor). Empty names are skipped: the
result is as precise as the record allows (``min_level`` can demand more). ``aliases`` fix names the
reference spells differently (``Keraton`` -> ``Karaton``) or pin them to a code.

Regions split off from the scope's area keep their true current code: an office in Papua Barat (92) whose
system still lists Kota Sorong finds it as 96.71 (Papua Barat Daya since UU 29/2022), a name not found
under the scope being looked up among the kab/kota split off from it (``RegionIndex.successors``). A pre-2022
code in a code column is translated by the crosswalk (92.71 -> 96.71) with a ``region_crosswalked`` note.
``region_unknown`` names the current province of a kab/kota of that name that moved elsewhere in 2022.

Errors name the level, the source field and the scope code, never the name itself.
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches
from typing import Any

from hub.errors import MappingError
from hub.mapping.issues import fail
from hub.mapping.spec import RegionRule
from schemas.envelope import Note
from schemas.regions import REGION_REF, AmbiguousRegion, RegionNotFound, default_index

_CACHE_SIZE = 20_000
_LEVELS = (("provinsi", 1), ("kabkota", 2), ("kecamatan", 3), ("desa", 4))
_NAMES = {1: "provinsi", 2: "kabupaten/kota", 3: "kecamatan", 4: "kelurahan/desa"}


def _norm(name: str) -> str:
    return " ".join(name.casefold().split())


def _closest(name: str, parent: str | None, level: int) -> str:
    """Reference names close to ``name`` among the scope's children (a hint for an alias), or "".

    Only official names from the reference data are shown, never the submitted one."""
    if parent is None or parent.count(".") + 2 != level:
        return ""
    children = {r.name.casefold(): r.name for r in default_index().children(parent)}
    close = get_close_matches(name.casefold(), list(children), n=3, cutoff=0.6)
    return f" (closest in the reference: {', '.join(children[c] for c in close)})" if close else ""


def _known_code(text: str) -> str | None:
    index = default_index()
    code = index.normalize(text)
    return code if code is not None and index.exists(code) else None


def _in_successors(name: str, parent: str | None, level: int) -> list[str]:
    """Codes of ``name`` among the kab/kota split off from ``parent``'s area in 2022 (and below them)."""
    if parent is None or level < 2:
        return []
    index, found = default_index(), set()
    for move in index.successors(parent):
        where = move.to_province if level == 2 else move.new
        try:
            code = index.resolve(name, parent=where, level=level).code
        except (RegionNotFound, AmbiguousRegion):
            continue
        if code == move.new or code.startswith(move.new + "."):
            found.add(code)
    return sorted(found)


def _moved_hint(name: str, level: int) -> str:
    """ " (... moved to province X in 2022 ...)" when a kab/kota of this name was split off, else ""."""
    if level != 2:
        return ""
    index = default_index()
    try:
        candidates = [index.resolve(name, level=2)]
    except AmbiguousRegion as exc:
        candidates = exc.candidates
    except RegionNotFound:
        return ""
    for region in candidates:
        move = index.succession_of(region.code)
        if move is not None:
            province = index.get(move.to_province)
            return (
                f" (a kabupaten/kota of this name, {region.code}, moved from province {move.from_province} "
                f"to {move.to_province} {province.name if province else ''} by {move.law}; its current "
                "province is not in this scope)"
            )
    return ""


class RegionResolver:
    """A compiled ``region`` rule. Call it with a value getter (path -> value or None) and the office."""

    def __init__(self, rule: RegionRule) -> None:
        self.rule = rule
        self._aliases = {_norm(k): v for k, v in rule.aliases.items()}
        self._within: str | None = None
        # Names repeat across records (a kabupaten has a few hundred desa): remember each step's outcome.
        self._cache: dict[tuple[str, str, int, str | None], str | MappingError] = {}
        if rule.within not in ("office", "none"):
            self._within = _known_code(rule.within)
            if self._within is None:
                raise ValueError(f"within is not a known kode wilayah ({REGION_REF})")

    def paths(self) -> list[str]:
        """The source paths this rule reads."""
        keys = ("code", "provinsi", "kabkota", "kecamatan", "desa")
        return [p for p in (getattr(self.rule, k) for k in keys) if p]

    def __call__(
        self, get: Callable[[str], Any], office: str, note: Callable[[Note], None] = lambda n: None
    ) -> str:
        scope = self._start(get, office, note)
        for key, level in _LEVELS:
            path = getattr(self.rule, key)
            value = get(path) if path else None
            if value is None or not str(value).strip():
                continue
            scope = self._descend(str(value).strip(), key, path, level, scope)
        if scope is None:
            fail("region_missing", "the record gives no region name or code")
        if self.rule.min_level is not None and scope.count(".") + 1 < self.rule.min_level:
            fail("region_too_coarse", f"the region is known only to {_NAMES[scope.count('.') + 1]} level")
        return scope

    def _start(self, get: Callable[[str], Any], office: str, note: Callable[[Note], None]) -> str | None:
        if self.rule.code:
            value = get(self.rule.code)
            if value is not None and str(value).strip():
                code = _known_code(str(value).strip())
                if code is None and (moved := default_index().crosswalk(str(value).strip())) is not None:
                    move = default_index().succession_of(moved)
                    assert move is not None
                    note(
                        Note(
                            loc="kode_wilayah",
                            rule="region_crosswalked",
                            detail=f"the source's pre-2022 code {move.old} is {moved} since {move.law} "
                            f"({move.on.isoformat()})",
                        )
                    )
                    return moved
                if code is None:
                    fail(
                        "region_code_unknown",
                        f"source field {self.rule.code!r} is not a kode wilayah in {REGION_REF}",
                    )
                return code
        if self.rule.within == "office":
            return _known_code(office) if office != "pusat" else None
        return self._within

    def _descend(self, name: str, key: str, path: str, level: int, scope: str | None) -> str:
        cache_key = (name, key, level, scope)
        known = self._cache.get(cache_key)
        if known is None:
            try:
                known = self._resolve_step(name, key, path, level, scope)
            except MappingError as exc:
                known = exc
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[cache_key] = known
        if isinstance(known, MappingError):
            raise MappingError(str(known), issues=known.issues)
        return known

    def _resolve_step(self, name: str, key: str, path: str, level: int, scope: str | None) -> str:
        alias = self._aliases.get(_norm(name))
        if alias is not None:
            code = _known_code(alias)
            if code is not None:
                if scope is None or code.startswith(scope + "."):
                    return code
                if scope == code or scope.startswith(code + "."):
                    return scope  # the alias names the scope or one of its ancestors: consistent
                fail("region_outside_scope", f"the alias for the {key} name lies outside {scope}")
            name = alias
        where = scope or "Indonesia"
        depth = 0 if scope is None else scope.count(".") + 1
        if level <= depth:
            assert scope is not None
            expected = ".".join(scope.split(".")[:level])
            parent = ".".join(scope.split(".")[: level - 1]) or None
            candidates = self._candidates(name, parent, level, key, path, where)
            if expected not in candidates:
                successor_provinces = {m.to_province for m in default_index().successors(expected)}
                moved = [c for c in candidates if c in successor_provinces]
                if level == 1 and depth == 1 and len(moved) == 1:
                    return moved[0]  # a province split off from the scope's (Papua Barat Daya from 92)
                fail("region_outside_scope", f"the {key} name in source field {path!r} is not {expected}")
            return scope
        found = self._candidates(name, scope, level, key, path, where)
        if len(found) > 1:
            fail(
                "region_ambiguous",
                f"the {key} name in source field {path!r} matches {len(found)} regions in {where}; "
                "give a parent name, `within` or an alias",
            )
        return found[0]

    @staticmethod
    def _candidates(name: str, parent: str | None, level: int, key: str, path: str, where: str) -> list[str]:
        try:
            return [default_index().resolve(name, parent=parent, level=level).code]
        except AmbiguousRegion as exc:
            return [r.code for r in exc.candidates]
        except RegionNotFound:
            moved = _in_successors(name, parent, level)
            if moved:
                return moved
            hint = _moved_hint(name, level) or _closest(name, parent, level)
            fail(
                "region_unknown",
                f"the {key} name in source field {path!r} matches no {_NAMES[level]} in {where}{hint}",
            )
