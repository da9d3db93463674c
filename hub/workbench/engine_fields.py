"""The schemas as the workbench form sees them: a schema by name, and its leaf fields as form rows
(path, type, required, PII class, text, choices).

Imports ``hub.errors`` and ``schemas`` only.
"""

from __future__ import annotations

from typing import Any

from hub.errors import ConfigError
from schemas.catalog import annotation_text
from schemas.catalog import get as get_schema
from schemas.pii import nested_models, pii_class_of
from schemas.registry import SchemaSpec

Row = dict[str, Any]


def schema_fields(spec: SchemaSpec) -> list[dict[str, Any]]:
    """Leaf fields of a schema (nested objects as ``pemohon.nama``; items of lists of objects left out:
    those need a ``rows`` or ``each`` rule, written in TOML): path, type, required, PII class, text."""
    out: list[dict[str, Any]] = []

    def walk(model: Any, prefix: str, parent_required: bool) -> None:
        for name, info in model.model_fields.items():
            path = prefix + name
            nested = list(nested_models(info.annotation))
            required = info.is_required() and parent_required
            if nested:
                step, inner = nested[0]
                if step:  # a list of objects
                    out.append(_field_row(model, name, path, info, required, listed=True))
                else:
                    walk(inner, f"{path}.", required)
                continue
            out.append(_field_row(model, name, path, info, required))

    walk(spec.model, "", True)
    return out


def _field_row(model: Any, name: str, path: str, info: Any, required: bool, listed: bool = False) -> Row:
    return {
        "field": path,
        "type": annotation_text(model, name),
        "required": required,
        "pii": pii_class_of(info).value,
        "description": info.description or "",
        "choices": _choices(info.annotation),
        "list_of_objects": listed,
    }


def _choices(annotation: Any) -> list[str]:
    import typing
    from enum import Enum

    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(m.value) for m in annotation]
    for arg in typing.get_args(annotation):
        if found := _choices(arg):
            return found
    return []


def _schema(name: str) -> SchemaSpec:
    from hub.errors import UnknownSchema

    try:
        return get_schema(name)
    except UnknownSchema:
        raise ConfigError("no such schema; see the schema list", key="schema") from None
