"""Pieces shared by the payload schemas: the base model, common code lists and the spec builder."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from schemas.classification import Classification
from schemas.metadata import SCHEMA_DOCS
from schemas.pii import pii_paths
from schemas.registry import SchemaSpec, Status

PAYLOAD_CONFIG = ConfigDict(extra="forbid", hide_input_in_errors=True, str_strip_whitespace=True)


class PayloadModel(BaseModel):
    """Base of every payload model and nested part: unknown fields refused, inputs kept out of errors,
    surrounding whitespace stripped."""

    model_config = PAYLOAD_CONFIG


class UrusanPasal25(StrEnum):
    """The items of urusan pemerintahan umum, UU 23/2014 Pasal 25 ayat (1) letters a-g."""

    A = "a"
    B = "b"
    C = "c"
    D = "d"
    E = "e"
    F = "f"
    G = "g"

    @property
    def uraian(self) -> str:
        """The item's wording (abridged)."""
        return _PASAL25[self.value]


_PASAL25 = {
    "a": "pembinaan wawasan kebangsaan dan ketahanan nasional",
    "b": "pembinaan persatuan dan kesatuan bangsa",
    "c": "pembinaan kerukunan antarsuku, antarumat beragama, ras dan golongan lainnya",
    "d": "penanganan konflik sosial",
    "e": "koordinasi pelaksanaan tugas antarinstansi pemerintahan di wilayah",
    "f": "pengembangan kehidupan demokrasi berdasarkan Pancasila",
    "g": "pelaksanaan urusan pemerintahan yang bukan kewenangan daerah",
}


class TingkatKerawanan(StrEnum):
    """Assessed level of vulnerability or threat."""

    RENDAH = "rendah"
    SEDANG = "sedang"
    TINGGI = "tinggi"
    KRITIS = "kritis"


Latitude = Annotated[Decimal, Field(ge=-12, le=7, decimal_places=6, description="Latitude (WGS 84)")]
Longitude = Annotated[Decimal, Field(ge=94, le=142, decimal_places=6, description="Longitude (WGS 84)")]


class GeoPoint(PayloadModel):
    """A point inside Indonesia's bounding box (WGS 84, up to 6 decimal places, about 0.1 m)."""

    lat: Latitude
    lon: Longitude


def ensure_order(start: date, end: date | None, rule: str = "periode_terbalik") -> None:
    """Raise a safe validation error when ``end`` is before ``start``."""
    if end is not None and end < start:
        raise PydanticCustomError(rule, "the end date is before the start date")


def build_spec(
    *,
    name: str,
    model: type[BaseModel],
    title: str,
    description: str,
    region_levels: set[int],
    identity: tuple[str, ...],
    classification: Classification = Classification.TERBATAS,
    version: str = "1.0.0",
    status: Status = "published",
    deprecated_after: date | None = None,
    deprecated_since: date | None = None,
    changes: str = "",
) -> SchemaSpec:
    """A ``SchemaSpec`` for ``model``, with its PII paths computed from the field marks and its owner and
    Indonesian texts from ``schemas.metadata.SCHEMA_DOCS``."""
    missing = [f for f in identity if f not in model.model_fields]
    if missing:
        raise ValueError(f"{name}: identity fields not in the model: {missing}")
    return SchemaSpec(
        name=name,
        version=version,
        model=model,
        title=title,
        description=description,
        region_levels=frozenset(region_levels),
        identity=identity,
        default_classification=classification,
        pii_paths=pii_paths(model),
        owner=SCHEMA_DOCS[name].owner,
        title_id=SCHEMA_DOCS[name].title_id,
        description_id=SCHEMA_DOCS[name].description_id,
        status=status,
        deprecated_after=deprecated_after,
        deprecated_since=deprecated_since,
        changes=changes,
    )
