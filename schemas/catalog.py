"""The schema catalog: the populated registry and what ``simpul schemas list|show|export`` print.

``get(name, version=None)`` is the one lookup the hub uses; it raises ``hub.errors.UnknownSchema``.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.envelope import ENVELOPE_SPEC, Envelope
from schemas.payloads import EXAMPLES, SPECS
from schemas.pii import TOKENIZER_CONTEXT_KEY, NikTokenizer, nested_models, pii_class_of
from schemas.registry import SchemaRegistry, SchemaSpec

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:simpul:schema:"
LEVEL_NAMES = {1: "provinsi", 2: "kab/kota", 3: "kecamatan", 4: "desa/kelurahan"}
_EXAMPLE_TOKENIZER = NikTokenizer(b"simpul-documentation-example-key", key_id="example")

REGISTRY = SchemaRegistry()
for _spec in SPECS:
    REGISTRY.register(_spec)


def get(name: str, version: str | None = None) -> SchemaSpec:
    """The newest version of schema ``name`` (or exactly ``version``); raises ``UnknownSchema``."""
    return REGISTRY.get(name, version)


def all_specs() -> list[SchemaSpec]:
    """Every registered schema version, by name."""
    return REGISTRY.all_specs()


def example_payload(name: str) -> dict[str, Any]:
    """The schema's example as it travels: validated, NIKs tokenised with a documentation-only key."""
    spec = get(name)
    model = spec.model.model_validate(
        EXAMPLES[spec.name], context={TOKENIZER_CONTEXT_KEY: _EXAMPLE_TOKENIZER}
    )
    return model.model_dump(mode="json", exclude_none=True)


def list_lines() -> list[str]:
    """One line per schema: name, version, allowed region levels, title."""
    return [
        f"{s.name:<30} {s.version:<7} levels {','.join(map(str, sorted(s.region_levels))):<8} {s.title}"
        for s in all_specs()
    ]


def _annotation_text(model: type[BaseModel], field: str) -> str:
    for cls in model.__mro__:
        text = inspect.get_annotations(cls).get(field)
        if text is not None:
            return text if isinstance(text, str) else getattr(text, "__name__", repr(text))
    return "?"


def _choices(annotation: Any) -> str:
    """`` [a|b|c]`` for an annotation holding an enum (also inside Optional or list), else ""."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " [" + "|".join(str(m.value) for m in annotation) + "]"
    return next((c for c in map(_choices, typing.get_args(annotation)) if c), "")


def _field_rows(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str, str, str, str]]:
    for name, info in model.model_fields.items():
        path = prefix + name
        required = "required" if info.is_required() else "optional"
        pii = pii_class_of(info).value
        description = (info.description or "") + _choices(info.annotation)
        yield path, _annotation_text(model, name), required, pii, description
        for step, nested in nested_models(info.annotation):
            yield from _field_rows(nested, f"{path}.{step}." if step else f"{path}.")


def show(name: str) -> str:
    """A readable description of a schema: header, rules, then every field (nested ones as
    ``pengurus.*.nama``) with its type, required or optional, PII class and description."""
    spec = get(name)
    levels = ", ".join(f"{lv} {LEVEL_NAMES[lv]}" for lv in sorted(spec.region_levels))
    rows = list(_field_rows(spec.model))
    width = max(len(r[0]) for r in rows)
    type_width = max(len(r[1]) for r in rows)
    lines = [
        f"{spec.ref}  {spec.title}",
        spec.description,
        f"region levels:  {levels}",
        f"identity:       {', '.join(spec.identity)}",
        f"classification: {spec.default_classification.value} (default)",
        f"personal data:  {', '.join(spec.pii_paths) or 'none'}",
        "",
        f"{'field':<{width}}  {'type':<{type_width}}  {'presence':<8}  {'pii':<8}  description",
    ]
    lines += [f"{p:<{width}}  {t:<{type_width}}  {r:<8}  {c:<8}  {d}" for p, t, r, c, d in rows]
    return "\n".join(lines)


def json_schema(spec: SchemaSpec) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one payload schema, with Simpul's ``x-`` annotations."""
    body = spec.model.model_json_schema()
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{ID_PREFIX}{spec.name}:{spec.version}",
        **body,
        "title": f"{spec.name} {spec.version}: {spec.title}",
        "description": spec.description,
        "examples": [example_payload(spec.name)],
        "x-region-levels": sorted(spec.region_levels),
        "x-identity": list(spec.identity),
        "x-default-classification": spec.default_classification.value,
        "x-pii-paths": list(spec.pii_paths),
        "x-owner": spec.owner,
    }


def envelope_json_schema() -> dict[str, Any]:
    """The JSON Schema of the envelope (``simpul.envelope/1``)."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{ID_PREFIX}{ENVELOPE_SPEC.replace('/', ':')}",
        **Envelope.model_json_schema(),
        "title": ENVELOPE_SPEC,
    }


def export_json_schema(directory: str | Path) -> list[Path]:
    """Write ``NAME-VERSION.schema.json`` per schema plus ``envelope-1.schema.json``; returns the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    documents = {f"{s.name}-{s.version}.schema.json": json_schema(s) for s in all_specs()}
    documents[f"envelope-{ENVELOPE_SPEC.rsplit('/', 1)[1]}.schema.json"] = envelope_json_schema()
    written = []
    for filename, document in documents.items():
        path = out / filename
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
