"""Reading values out of a raw record by a path, and writing them into the payload by a target path.

Source paths are dotted (``lokasi.lat``, ``items.0.nama``: a number indexes a list). Lookup of one key
tries, in order: the key exactly; for the first step, the whole path as one key (CSV headers such as
``NO. SKT/SK AHU`` contain dots); then a *loose* match that ignores case, spaces and punctuation, so
``nama_ormas`` finds the header ``NAMA ORMAS`` (and a file adapter's snake_case key finds the original).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

MISSING: Any = object()
"""Returned when a path does not exist (distinct from a key whose value is None)."""

_LOOSE = re.compile(r"[^0-9a-z]+")


def loose_key(key: object) -> str:
    """The loose form of a key: lower case, every run of other characters one ``_``, trimmed."""
    return _loose(key if isinstance(key, str) else str(key))


@functools.lru_cache(maxsize=8192)  # the same headers come with every row
def _loose(text: str) -> str:
    return _LOOSE.sub("_", text.casefold()).strip("_")


def _step(container: Any, key: str) -> Any:
    if isinstance(container, Mapping):
        if key in container:
            return container[key]
        wanted = loose_key(key)
        for candidate, value in container.items():
            if loose_key(candidate) == wanted:
                return value
        return MISSING
    if isinstance(container, Sequence) and not isinstance(container, str | bytes) and key.isdigit():
        index = int(key)
        return container[index] if index < len(container) else MISSING
    return MISSING


def get_path(data: Any, path: str) -> Any:
    """The value at ``path`` in ``data``, or :data:`MISSING`."""
    if isinstance(data, Mapping) and path in data:
        return data[path]
    value = data
    for key in path.split("."):
        value = _step(value, key)
        if value is MISSING:
            # A dotted key that is not nested (a CSV header with a dot) is found loosely as one key.
            return _step(data, path) if "." in path else MISSING
    return value


def path_forms(path: str) -> set[str]:
    """Loose forms of a source path for strict mode and the drop check: step by step (``laporan.lokasi``)
    and as one key (a CSV header with a dot). ``@`` (the current item) has none."""
    if path == "@":
        return set()
    path = path.removeprefix("$.")
    return {".".join(loose_key(step) for step in path.split(".")), loose_key(path)}


def overlaps(a: str, b: str) -> bool:
    """True if loose paths ``a`` and ``b`` are equal or one lies inside the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def uncovered(raw: Mapping[str, Any], known: set[str], prefix: str = "") -> list[str]:
    """Loose paths of ``raw``'s fields that no known path (read, ignored or dropped) covers. Nested
    objects are followed where a known path reaches inside them; lists are covered as a whole."""
    found = []
    for key, value in raw.items():
        path = f"{prefix}{loose_key(key)}"
        if path in known or any(path.startswith(k + ".") for k in known):
            continue  # read, ignored or dropped, itself or as part of a parent
        inner = any(k.startswith(path + ".") for k in known)
        if inner and isinstance(value, Mapping):
            found += uncovered(value, known, path + ".")
        elif not inner:  # (a list with known paths inside it counts as covered)
            found.append(path)
    return found


def set_path(target: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at dotted ``path`` in ``target``, creating the dicts on the way."""
    *parents, last = path.split(".")
    node = target
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
