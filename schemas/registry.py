"""The schema registry: every payload schema by name and semantic version.

``get(name)`` returns the *current* version (the newest one that is not a draft); ``get(name, "1.0.0")`` or
``get("name@1.0.0")`` an exact one, drafts included. Unknown names raise ``hub.errors.UnknownSchema`` (a
RecordError: the record is quarantined, not the node stopped).

Lifecycle of a version (``SchemaSpec.status``): ``draft`` (proposed: exported and diffable, not used for
ingest, not locked, may still change) -> ``published`` (immutable: its fingerprint is in
``schemas/published.lock.json``) -> ``deprecated`` (still accepted and upcast; ``deprecated_since`` is when
it was deprecated, ``deprecated_after`` the date after which support ends: senders are told both, in the
catalogue and in every ingest answer).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Literal

from pydantic import BaseModel

from hub.errors import UnknownSchema
from schemas.classification import Classification

Status = Literal["draft", "published", "deprecated"]
DEFAULT_OWNER = "Ditjen Polpum Kemendagri"
WALIDATA = "Pusat Data dan Sistem Informasi, Kemendagri"


@dataclass(frozen=True)
class SchemaSpec:
    """One version of a payload schema.

    ``region_levels`` are the kode wilayah levels (1 provinsi, 2 kab/kota, 3 kecamatan, 4 desa/kelurahan)
    a record of this schema may carry in its ``kode_wilayah`` field. ``identity`` names the payload
    fields that identify the real-world thing (documentation and dedupe hints). ``owner`` is the producing
    unit (produsen data in Satu Data terms); ``walidata`` the unit that curates and publishes the data.
    """

    name: str
    version: str
    model: type[BaseModel]
    title: str
    description: str
    region_levels: frozenset[int]
    identity: tuple[str, ...]
    default_classification: Classification = Classification.TERBATAS
    owner: str = DEFAULT_OWNER
    pii_paths: tuple[str, ...] = field(default=())
    status: Status = "published"
    deprecated_after: date | None = None
    deprecated_since: date | None = None
    title_id: str = ""
    description_id: str = ""
    walidata: str = WALIDATA
    changes: str = ""

    @cached_property  # read per record on the ingest path (routing keys); a frozen spec never changes
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return version_key(self.version)

    def deprecation_notice(self, today: date | None = None) -> str | None:
        """A sentence for the sender of this version, or None when the version is not deprecated."""
        if self.status != "deprecated":
            return None
        when = self.deprecated_after
        if when is None:
            return f"{self.ref} is deprecated; send the current version"
        tense = "was" if today is not None and today > when else "is"
        return f"{self.ref} is deprecated; support {tense} due to end after {when.isoformat()}"


class SchemaRegistry:
    """Schema versions by name. ``schemas.catalog.REGISTRY`` is the populated one."""

    def __init__(self) -> None:
        self._specs: dict[str, dict[str, SchemaSpec]] = {}

    def register(self, spec: SchemaSpec) -> None:
        """Add one version; registering the same name and version twice is an error."""
        version_key(spec.version)  # raises on a malformed version
        versions = self._specs.setdefault(spec.name, {})
        if spec.version in versions:
            raise ValueError(f"schema {spec.ref} is already registered")
        versions[spec.version] = spec

    def get(self, name: str, version: str | None = None) -> SchemaSpec:
        """The current version of ``name`` (newest non-draft), or exactly ``version`` (also given as
        ``name@version``); raises ``UnknownSchema``. A partial version (``1`` or ``1.2``, as in
        ``POST /v1/records/ormas_registration@1``) is the newest non-draft version with that prefix."""
        if version is None and "@" in name:
            name, version = name.split("@", 1)
        versions = self._specs.get(name, {})
        if version is None:
            current = [s for s in versions.values() if s.status != "draft"]
            if current:
                return max(current, key=lambda s: s.version_tuple)
        elif version in versions:
            return versions[version]
        elif _is_partial(version):
            prefix = tuple(int(p) for p in version.split("."))
            matching = [
                s
                for s in versions.values()
                if s.status != "draft" and s.version_tuple[: len(prefix)] == prefix
            ]
            if matching:
                return max(matching, key=lambda s: s.version_tuple)
        wanted = name if version is None else f"{name}@{version}"
        raise UnknownSchema(f"unknown schema: {wanted[:120]}")

    def versions(self, name: str, *, drafts: bool = True) -> list[SchemaSpec]:
        """Every version of ``name``, oldest first (drafts only if ``drafts``)."""
        found = self._specs.get(name, {}).values()
        return sorted((s for s in found if drafts or s.status != "draft"), key=lambda s: s.version_tuple)

    def all_specs(self) -> list[SchemaSpec]:
        """Every non-draft version, by name then version."""
        return [s for name in sorted(self._specs) for s in self.versions(name, drafts=False)]

    def all_versions(self) -> list[SchemaSpec]:
        """Every version, drafts included, by name then version."""
        return [s for name in sorted(self._specs) for s in self.versions(name)]

    def names(self) -> list[str]:
        """The schema names, sorted."""
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs


def _is_partial(version: str) -> bool:
    """``"1"`` or ``"1.2"``: a major, or a major and minor."""
    parts = version.split(".")
    return 1 <= len(parts) <= 2 and all(p.isdigit() and len(p) <= 6 for p in parts)


@functools.lru_cache(maxsize=4096)  # on the hot path: every record looks its schema up (was ~10% of prepare)
def version_key(version: str) -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``; raises ValueError unless the version is MAJOR.MINOR.PATCH."""
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"a schema version is MAJOR.MINOR.PATCH, not {version[:40]!r}")
    return int(parts[0]), int(parts[1]), int(parts[2])
