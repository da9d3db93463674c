"""The schema catalog: the populated registry and what ``simpul schemas list|show|export`` print.

``get(name, version=None)`` is the one lookup the hub uses; it raises ``hub.errors.UnknownSchema``. It
returns the current version (newest non-draft); ``get("name@1.0.0")`` an exact one. The JSON Schema of a
version carries the catalogue metadata as ``x-`` keywords: owner, status, deprecation date, Indonesian
texts, and per field ``x-description-id``, ``x-unit``, ``x-code-list``, ``x-pii`` and ``examples``.
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
from schemas.metadata import NO_EXAMPLE, FieldDoc, field_docs
from schemas.payloads import VERSION_EXAMPLES, VERSIONS
from schemas.pii import TOKENIZER_CONTEXT_KEY, NikTokenizer, nested_models, pii_class_of
from schemas.registry import SchemaRegistry, SchemaSpec

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:simpul:schema:"
LEVEL_NAMES = {1: "provinsi", 2: "kab/kota", 3: "kecamatan", 4: "desa/kelurahan"}
_EXAMPLE_TOKENIZER = NikTokenizer(b"simpul-documentation-example-key", key_id="example")

REGISTRY = SchemaRegistry()
for _spec in VERSIONS:
    REGISTRY.register(_spec)


def get(name: str, version: str | None = None) -> SchemaSpec:
    """The newest version of schema ``name`` (or exactly ``version``); raises ``UnknownSchema``."""
    return REGISTRY.get(name, version)


def all_specs() -> list[SchemaSpec]:
    """Every published or deprecated schema version, by name (drafts: ``all_versions``)."""
    return REGISTRY.all_specs()


def all_versions() -> list[SchemaSpec]:
    """Every registered schema version, drafts included, by name then version."""
    return REGISTRY.all_versions()


def example_payload(name: str, version: str | None = None) -> dict[str, Any]:
    """The example of a schema version as it travels: validated, NIKs tokenised with a
    documentation-only key."""
    spec = get(name, version)
    model = spec.model.model_validate(
        VERSION_EXAMPLES[spec.ref], context={TOKENIZER_CONTEXT_KEY: _EXAMPLE_TOKENIZER}
    )
    return model.model_dump(mode="json", exclude_none=True)


def documented_fields(spec: SchemaSpec) -> list[FieldDoc]:
    """The catalogue view of every field of ``spec``: descriptions (en, id), unit, code list, PII, example."""
    return field_docs(spec.name, spec.model, example_payload(spec.name, spec.version))


def list_lines() -> list[str]:
    """One line per schema: name, version, allowed region levels, title."""
    return [
        f"{s.name:<30} {s.version:<7} levels {','.join(map(str, sorted(s.region_levels))):<8} {s.title}"
        for s in all_specs()
    ]


def annotation_text(model: type[BaseModel], field: str) -> str:
    """A field's annotation as written in the source (``KodeWilayah``, ``list[Pengurus]``)."""
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
        yield path, annotation_text(model, name), required, pii, description
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
        f"{spec.ref}  {spec.title}" + (f"  [{spec.status}]" if spec.status != "published" else ""),
        spec.description,
        f"owner:          {spec.owner}",
        f"region levels:  {levels}",
        f"identity:       {', '.join(spec.identity)}",
        f"classification: {spec.default_classification.value} (default)",
        f"personal data:  {', '.join(spec.pii_paths) or 'none'}",
        *([f"deprecated:     after {spec.deprecated_after}"] if spec.deprecated_after else []),
        "",
        f"{'field':<{width}}  {'type':<{type_width}}  {'presence':<8}  {'pii':<8}  description",
    ]
    lines += [f"{p:<{width}}  {t:<{type_width}}  {r:<8}  {c:<8}  {d}" for p, t, r, c, d in rows]
    return "\n".join(lines)


def json_schema(spec: SchemaSpec) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one payload schema version, with Simpul's ``x-`` annotations."""
    body = spec.model.model_json_schema()
    for doc in documented_fields(spec):
        node = _property_node(body, doc.path)
        if node is None:
            continue
        node["x-description-id"] = doc.description_id
        if doc.unit:
            node["x-unit"] = doc.unit
        if doc.code_list:
            node["x-code-list"] = doc.code_list
        if doc.example is not NO_EXAMPLE:
            node["examples"] = [doc.example]
    document = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{ID_PREFIX}{spec.name}:{spec.version}",
        **body,
        "title": f"{spec.name} {spec.version}: {spec.title}",
        "description": spec.description,
        "examples": [example_payload(spec.name, spec.version)],
        "x-version": spec.version,
        "x-status": spec.status,
        "x-title-id": spec.title_id,
        "x-description-id": spec.description_id,
        "x-region-levels": sorted(spec.region_levels),
        "x-identity": list(spec.identity),
        "x-default-classification": spec.default_classification.value,
        "x-pii-paths": list(spec.pii_paths),
        "x-owner": spec.owner,
        "x-walidata": spec.walidata,
    }
    if spec.deprecated_after is not None:
        document["x-deprecated-after"] = spec.deprecated_after.isoformat()
    if spec.deprecated_since is not None:
        document["x-deprecated-since"] = spec.deprecated_since.isoformat()
    if spec.status == "deprecated":
        document["deprecated"] = True
    return document


def _property_node(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The ``properties`` entry of a dotted field path (``*`` = list items), following ``$ref`` and
    ``anyOf`` into ``$defs``. Entries of a shared ``$defs`` model are the same for every path to it."""
    defs = schema.get("$defs", {})
    holder: dict[str, Any] = schema
    node: dict[str, Any] | None = None
    for part in path.split("."):
        holder = _resolve(holder, defs)
        if part == "*":
            items = holder.get("items")
            if not isinstance(items, dict):
                return None
            holder = items
            continue
        props = holder.get("properties")
        if not isinstance(props, dict) or part not in props:
            return None
        node = props[part]
        holder = node
    return node


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and pick the non-null ``anyOf`` branch that holds properties or items."""
    for _ in range(8):
        if "$ref" in node:
            node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        elif "anyOf" in node and "properties" not in node and "items" not in node:
            branches = [b for b in node["anyOf"] if b.get("type") != "null"]
            rich = [b for b in branches if "$ref" in b or "properties" in b or "items" in b]
            if not rich:
                return node
            node = rich[0]
        else:
            return node
    return node


def envelope_json_schema() -> dict[str, Any]:
    """The JSON Schema of the envelope (``simpul.envelope/1``)."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{ID_PREFIX}{ENVELOPE_SPEC.replace('/', ':')}",
        **Envelope.model_json_schema(),
        "title": ENVELOPE_SPEC,
    }


def export_json_schema(directory: str | Path, *, drafts: bool = False) -> list[Path]:
    """Write ``NAME-VERSION.schema.json`` per published version (and drafts if ``drafts``) plus
    ``envelope-1.schema.json``; returns the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    specs = all_versions() if drafts else all_specs()
    documents = {f"{s.name}-{s.version}.schema.json": json_schema(s) for s in specs}
    documents[f"envelope-{ENVELOPE_SPEC.rsplit('/', 1)[1]}.schema.json"] = envelope_json_schema()
    written = []
    for filename, document in documents.items():
        path = out / filename
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
