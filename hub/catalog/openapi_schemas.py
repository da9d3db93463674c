"""The component schemas of the node's OpenAPI document: the ingest item with the payload of every
published schema version, every schema version's JSON Schema, the problem, field issue, warning and
ingest result shapes, and the admin answers that are not plain objects.

Imports ``hub.catalog.jsonschema``, ``hub.catalog.openapi_parts``, ``hub.ingest.items`` and
``schemas.catalog`` only.
"""

from __future__ import annotations

from typing import Any

from hub.catalog.jsonschema import hoist
from hub.catalog.openapi_parts import _REF
from hub.ingest.items import IngestItem
from schemas import catalog


def _admin_components(components: dict[str, Any]) -> None:
    """Schemas of the admin answers that are not plain objects."""
    components["Adapter"] = {
        "type": "object",
        "required": ["name", "state", "paused", "last_error", "records_offered"],
        "properties": {
            "name": {"type": "string"},
            "state": {"type": "string"},
            "paused": {"type": "boolean"},
            "last_error": {"type": ["string", "null"]},
            "records_offered": {"type": "integer"},
        },
    }
    components["AuditEntry"] = {
        "type": "object",
        "required": ["seq", "at", "actor", "role", "action", "target", "result", "detail"],
        "properties": {
            "seq": {"type": "integer"},
            "at": {"type": "string", "description": "When (ISO 8601, UTC)"},
            "actor": {"type": "string"},
            "role": {"type": "string", "enum": ["read", "act"]},
            "action": {"type": "string"},
            "target": {"type": "string"},
            "result": {"type": "string"},
            "detail": {"type": "object"},
        },
    }


def component_schemas() -> dict[str, Any]:
    """The ``components.schemas`` of the document (``openapi.openapi_document`` puts them in)."""
    components: dict[str, Any] = {}
    item = hoist(IngestItem.model_json_schema(), "IngestItem", components, _REF)
    current = [s for s in catalog.all_versions() if s.status != "draft"]
    payload_refs = []
    for spec in catalog.all_versions():
        key = f"{spec.name}_{spec.version}"
        components[key] = hoist(catalog.json_schema(spec), key, components, _REF)
        if spec in current:
            payload_refs.append({"$ref": _REF + key})
    item["properties"]["data"] = {
        "description": "The payload, in the shape of the schema named in the path (its current version, or "
        "the version given as name@version)",
        "anyOf": payload_refs,
    }
    components["IngestItem"] = item
    _admin_components(components)
    components["Problem"] = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "Stable error code"},
            "message": {"type": "string", "description": "Explanation; never contains submitted values"},
            "records": {
                "type": "array",
                "description": "Per-record failures (422)",
                "items": {"$ref": _REF + "RecordFailure"},
            },
        },
    }
    issue = {
        "type": "object",
        "required": ["loc", "rule", "message"],
        "properties": {"loc": {"type": "string"}, "rule": {"type": "string"}, "message": {"type": "string"}},
    }
    components["FieldIssue"] = issue
    components["RecordFailure"] = {
        "type": "object",
        "required": ["index", "reason", "message", "issues"],
        "properties": {
            "index": {"type": "integer"},
            "reason": {"type": "string"},
            "message": {"type": "string"},
            "issues": {"type": "array", "items": {"$ref": _REF + "FieldIssue"}},
        },
    }
    components["Warning"] = {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "enum": ["deprecated_schema_version"]},
            "schema": {"type": "string", "description": "name@version the records were sent in"},
            "deprecated_since": {"type": ["string", "null"], "format": "date"},
            "sunset": {"type": ["string", "null"], "format": "date", "description": "Last day of support"},
            "current": {"type": ["string", "null"], "description": "The version to move to"},
            "message": {"type": "string"},
        },
    }
    components["IngestResult"] = {
        "type": "object",
        "required": ["accepted", "quarantined", "results"],
        "properties": {
            "warnings": {
                "type": "array",
                "items": {"$ref": _REF + "Warning"},
                "description": "Present when the records use a deprecated schema version",
            },
            "accepted": {"type": "integer", "description": "Records published (broker-confirmed)"},
            "quarantined": {"type": "integer", "description": "Records quarantined (on_invalid=quarantine)"},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "status"],
                    "properties": {
                        "index": {"type": "integer"},
                        "status": {"type": "string", "enum": ["published", "quarantined"]},
                        "message_id": {"type": "string"},
                        "reason": {"type": "string"},
                        "issues": {"type": "array", "items": {"$ref": _REF + "FieldIssue"}},
                    },
                },
            },
        },
    }
    return components
