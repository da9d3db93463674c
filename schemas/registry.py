"""The schema registry: every payload schema by name and semantic version.

``get(name)`` returns the newest version; ``get(name, "1.0.0")`` an exact one. Unknown names raise
``hub.errors.UnknownSchema`` (a RecordError: the record is quarantined, not the node stopped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from hub.errors import UnknownSchema
from schemas.classification import Classification


@dataclass(frozen=True)
class SchemaSpec:
    """One published version of a payload schema.

    ``region_levels`` are the kode wilayah levels (1 provinsi, 2 kab/kota, 3 kecamatan, 4 desa/kelurahan)
    a record of this schema may carry in its ``kode_wilayah`` field. ``identity`` names the payload
    fields that identify the real-world thing (documentation and dedupe hints).
    """

    name: str
    version: str
    model: type[BaseModel]
    title: str
    description: str
    region_levels: frozenset[int]
    identity: tuple[str, ...]
    default_classification: Classification = Classification.TERBATAS
    owner: str = "Ditjen Polpum Kemendagri"
    pii_paths: tuple[str, ...] = field(default=())

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class SchemaRegistry:
    """Published schema versions by name. ``schemas.catalog.REGISTRY`` is the populated one."""

    def __init__(self) -> None:
        self._specs: dict[str, dict[str, SchemaSpec]] = {}

    def register(self, spec: SchemaSpec) -> None:
        """Add one version; registering the same name and version twice is an error."""
        versions = self._specs.setdefault(spec.name, {})
        if spec.version in versions:
            raise ValueError(f"schema {spec.ref} is already registered")
        versions[spec.version] = spec

    def get(self, name: str, version: str | None = None) -> SchemaSpec:
        """The newest version of ``name``, or exactly ``version``; raises ``UnknownSchema``."""
        versions = self._specs.get(name, {})
        if version is None and versions:
            return versions[max(versions, key=_version_key)]
        if version is not None and version in versions:
            return versions[version]
        wanted = name if version is None else f"{name}@{version}"
        raise UnknownSchema(f"unknown schema: {wanted[:120]}")

    def all_specs(self) -> list[SchemaSpec]:
        """Every registered version, by name then version."""
        return [
            spec
            for name in sorted(self._specs)
            for spec in sorted(self._specs[name].values(), key=lambda s: _version_key(s.version))
        ]

    def __contains__(self, name: object) -> bool:
        return name in self._specs


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
