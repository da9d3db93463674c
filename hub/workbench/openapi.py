"""The workbench's part of the node's OpenAPI document (``hub.catalog.openapi`` calls
:func:`add_workbench_api`): the pages and the JSON API under ``/workbench``, with the answer shapes of
``hub.workbench.engine``."""

from __future__ import annotations

from typing import Any

_REF = "#/components/schemas/"
_STR = {"type": "string"}
_SKIPPED = {
    "type": "array",
    "description": "Rows passed over and why: title, blank, header, total, signature, after_footer",
    "items": {"type": "object", "required": ["where", "why"], "properties": {"where": _STR, "why": _STR}},
}
_FIELD_ROW = {
    "type": "object",
    "required": ["field", "source", "rule", "confidence", "todo"],
    "properties": {
        "field": {"type": "string", "description": "Target payload path, e.g. pemohon.nama"},
        "source": {"type": "string", "description": "Source column or path (or the constant of rule const)"},
        "rule": {
            "type": "string",
            "description": "Rule keyword (date, nik, region_kecamatan, const, custom ...)",
        },
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "todo": {"type": "boolean", "description": "Nothing fits: the TOML carries a # TODO line"},
        "spec": {"description": "The rule as TOML would hold it, for rule custom"},
    },
    "additionalProperties": True,
}
COMPONENTS: dict[str, Any] = {
    "WorkbenchRead": {
        "type": "object",
        "required": ["rows", "columns", "header_rows", "skipped"],
        "properties": {
            "rows": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            "columns": {"type": "array", "items": _STR},
            "header_rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "sheet": {"type": ["string", "null"]},
                        "rows": {"type": "array", "items": {"type": "integer"}},
                        "columns": {"type": "array", "items": _STR},
                    },
                },
            },
            "skipped": _SKIPPED,
            "settings": {"type": "object", "additionalProperties": True},
        },
    },
    "WorkbenchProposal": {
        "type": "object",
        "required": ["toml", "fields"],
        "properties": {"toml": _STR, "fields": {"type": "array", "items": _FIELD_ROW}},
    },
    "WorkbenchTest": {
        "type": "object",
        "description": "The JSON of `simpul mapping test --json`, plus counts, reasons and the schema",
        "required": ["read", "skipped", "records"],
        "properties": {
            "read": {"type": "integer"},
            "skipped": _SKIPPED,
            "records": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "ok", "payload", "issues"],
                    "properties": {
                        "id": _STR,
                        "ok": {"type": "boolean"},
                        "payload": {
                            "type": ["object", "null"],
                            "description": "The payload as stored: free text redacted by the mapping, NIKs "
                            "and passport numbers as tokens (development key); null when quarantined",
                        },
                        "issues": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"stage": _STR, "loc": _STR, "rule": _STR, "message": _STR},
                            },
                        },
                        "reason": {"type": ["string", "null"], "description": "Quarantine reason"},
                        "row": {
                            "type": "integer",
                            "description": "Position among the records read (1-based)",
                        },
                        "kode_wilayah": {"type": ["string", "null"]},
                    },
                },
            },
            "counts": {
                "type": "object",
                "description": "skipped: rows the reader passed over plus rows a mapping skip rule dropped",
                "properties": {k: {"type": "integer"} for k in ("ok", "quarantined", "skipped")},
            },
            "reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
            "schema": _STR,
        },
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF + "Problem"}}},
    }


def _answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _api(summary: str, answer: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "tags": ["workbench"],
        "summary": summary,
        "description": "On a node: an admin token with role act. `simpul workbench` on 127.0.0.1: none.",
        "security": [{"adminToken": []}],
        "responses": {
            "200": answer,
            "400": _problem("Bad input; `field` names what to fix"),
            "401": _problem("No valid admin token"),
            "403": _problem("The token may read but not act"),
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
        op["responses"]["413"] = _problem("The sample (10 MB) or body (1 MB) is too large")
    return op


def _multipart(**parts: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "sample": {"type": "string", "format": "binary", "description": "The raw sample"}
    }
    properties.update({name: {"type": "string", "description": text} for name, text in parts.items()})
    return {"multipart/form-data": {"schema": {"type": "object", "required": ["sample", *parts],
                                               "properties": properties}}}  # fmt: skip


def _json_body(**fields: str) -> dict[str, Any]:
    properties = {name: {"type": "string", "description": text} for name, text in fields.items()}
    return {"application/json": {"schema": {"type": "object", "properties": properties}}}


def _paths() -> dict[str, Any]:
    any_object = {"type": "object", "additionalProperties": True}
    read = _api(
        "The sample as the adapter reads it",
        _answer({"$ref": _REF + "WorkbenchRead"}, "Rows, columns, header rows, skipped rows"),
        _multipart(kind="Source kind (file_drop, soap, rest_poll, sql_poll, webhook, amqp_source)"),
    )
    propose = _api(
        "A proposed source block (TOML) with one row per schema field",
        _answer({"$ref": _REF + "WorkbenchProposal"}, "The TOML and the field rows"),
        _multipart(kind="Source kind", schema="Target schema", office="Kode wilayah of the office, or pusat"),
    )
    test = _api(
        "Every record of the sample mapped and validated as the node would",
        _answer({"$ref": _REF + "WorkbenchTest"}, "Per record payload or issues; counts"),
        _multipart(toml="The source block ([[sources]])"),
    )
    for op in (read, propose, test):
        op["responses"]["422"] = _problem("The sample cannot be read")
    one_schema = _api("A schema's fields in plain words", _answer(any_object, "Fields: type, required, PII"))
    one_schema["responses"]["404"] = _problem("No such schema")
    page = {"description": "The page", "content": {"text/html": {"schema": _STR}}}
    return {
        "/workbench/": {
            "get": {"tags": ["workbench"], "summary": "The workbench page", "responses": {"200": page}}
        },
        "/workbench/static/{asset}": {
            "get": {
                "tags": ["workbench"],
                "summary": "The page's script and style",
                "parameters": [{"name": "asset", "in": "path", "required": True, "schema": _STR}],
                "responses": {"200": {"description": "The asset"}, "404": _problem("No such asset")},
            }
        },
        "/workbench/api/schemas": {
            "get": _api("Payload schemas to choose from", _answer({"type": "array"}, "Schemas"))
        },
        "/workbench/api/schemas/{name}": {
            "get": {
                **one_schema,
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": _STR}],
            }
        },
        "/workbench/api/regions": {
            "get": {
                **_api(
                    "Offices (provinsi, kab/kota, pusat) matching a name or code",
                    _answer({"type": "array"}, ""),
                ),
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "description": "A name or code; at least one character besides spaces",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"},
                    }
                ],
            }
        },
        "/workbench/api/read": {"post": read},
        "/workbench/api/propose": {"post": propose},
        "/workbench/api/test": {"post": test},
        "/workbench/api/probe": {
            "post": _api(
                "A sample read from a live source (REST GET, SOAP POST, database SELECT with LIMIT 50), 15 s",
                {
                    "description": "The raw sample; X-Sample-Name names it",
                    "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                _json_body(
                    kind="Source kind",
                    url="REST or SOAP address",
                    header_name="Auth header",
                    header_value="Its value",
                    envelope="SOAP request",
                    action="SOAPAction",
                    dsn="Database DSN",
                    query="SELECT",
                ),
            )
        },
        "/workbench/api/render": {
            "post": _api("Form -> TOML", _answer(any_object, "{toml}"), _json_body(toml="Current TOML"))
        },
        "/workbench/api/parse": {
            "post": _api("TOML -> form", _answer(any_object, "{fields, block}"), _json_body(toml="TOML"))
        },
        "/workbench/api/config": {
            "post": _api(
                "A whole node config around the source block, checked as `simpul check-config` does",
                _answer(any_object, "{toml, valid, problems, summary}"),
                _json_body(toml="The source block"),
            )
        },
    }


def add_workbench_api(document: dict[str, Any]) -> None:
    """Add the workbench paths, their components and the ``workbench`` tag."""
    document["paths"].update(_paths())
    document["components"]["schemas"].update(COMPONENTS)
    document["tags"].append({"name": "workbench", "description": "Onboarding workbench: sample to config"})
