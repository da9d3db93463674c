"""The schema's leaf fields and their kinds for ``simpul mapping propose`` (``Target``, ``targets``), and
a raw record's leaf source paths (``flatten``) and whether a value is there at all (``_present``).

Imports ``schemas`` and pydantic only.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel

from schemas.catalog import annotation_text
from schemas.pii import nested_models


@dataclass
class Target:
    """One leaf field of the schema."""

    path: str
    kind: str
    required: bool
    annotation: Any
    choices: list[str] = field(default_factory=list)


def _enum_of(annotation: Any) -> type[Enum] | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    for arg in typing.get_args(annotation):
        found = _enum_of(arg)
        if found is not None:
            return found
    return None


def _kind(text: str, annotation: Any) -> str:
    base = text.replace(" | None", "").strip()
    listed = base.startswith("list[")
    inner = base[5:-1] if listed else base
    kinds = {
        "KodeWilayah": "region", "NikToken": "nik", "PasporToken": "passport", "CountryCode": "country",
        "date": "date", "AwareDatetime": "datetime", "datetime": "datetime", "int": "int",
        "NonNegInt": "int", "Rupiah": "rupiah", "Decimal": "decimal", "Percent": "decimal", "bool": "bool",
        "FreeText": "freetext", "Latitude": "coord", "Longitude": "coord",
    }  # fmt: skip
    kind = kinds.get(inner) or ("enum" if _enum_of(annotation) else "text")
    return f"list_{kind}" if listed else kind


def targets(model: type[BaseModel], prefix: str = "", required: bool = True) -> Iterator[Target]:
    """Every leaf field of a schema model (nested models flattened to dotted paths; a list of models is
    one target of kind ``objects``)."""
    for name, info in model.model_fields.items():
        path = prefix + name
        nested = list(nested_models(info.annotation))
        if nested:
            step, sub = nested[0]
            if step:  # a list of objects
                yield Target(path, "objects", info.is_required() and required, sub)
            else:
                yield from targets(sub, path + ".", info.is_required() and required)
            continue
        text = annotation_text(model, name)
        enum = _enum_of(info.annotation)
        choices = [str(m.value) for m in enum] if enum else []
        yield Target(
            path, _kind(text, info.annotation), info.is_required() and required, info.annotation, choices
        )


def flatten(raw: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf source paths of a raw record: nested objects dotted, lists kept whole."""
    out: dict[str, Any] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                out.update(flatten(value, path + "."))
            else:
                out[path] = value
    return out


def _present(value: Any) -> bool:
    return value is not None and not (
        isinstance(value, str) and value.strip().casefold() in ("", "-", "null", "none", "nil", "n/a")
    )
