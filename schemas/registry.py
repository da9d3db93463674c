"""The schema registry: every payload schema by name and semantic version.

``get(name)`` returns the newest version; ``get(name, "1.0.0")`` an exact one. Unknown names raise
``hub.errors.UnknownSchema`` (a RecordError: the record is quarantined, not the node stopped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

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
