"""The ``region`` rule: a kode wilayah from region names resolved level by level, or from a code column.

Resolution starts from a scope: a code column's value, else ``within`` (``office``: the sending office's
region; a fixed code; ``none``). Each name given (provinsi, kabkota, kecamatan, desa) is then resolved with
``default_index().resolve(name, parent=scope, level=...)`` and becomes the new scope, so "CIBINONG" is
looked up only inside Kabupaten Bogor. A name at or above the scope's level is *checked* against the scope
(a Bogor system reporting "KAB. SUKABUMI" is an error, not silently Bogor). Empty names are skipped: the
result is as precise as the record allows (``min_level`` can demand more). ``aliases`` fix names the
reference spells differently (``Keraton`` -> ``Karaton``) or pin them to a code.

Errors name the level, the source field and the scope code, never the name itself.
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches
from typing import Any

from hub.errors import MappingError
from hub.mapping.issues import fail
from hub.mapping.spec import RegionRule
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

    def __call__(self, get: Callable[[str], Any], office: str) -> str:
        scope = self._start(get, office)
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

    def _start(self, get: Callable[[str], Any], office: str) -> str | None:
        if self.rule.code:
            value = get(self.rule.code)
            if value is not None and str(value).strip():
                code = _known_code(str(value).strip())
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
            hint = _closest(name, parent, level)
            fail(
                "region_unknown",
                f"the {key} name in source field {path!r} matches no {_NAMES[level]} in {where}{hint}",
            )
