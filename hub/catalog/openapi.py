"""The OpenAPI 3.1 document of a node's HTTP API, written by hand from the routes ``hub.http.app`` registers:
ingest, health, readiness, metrics, the admin API and the catalogue. ``tests/unit/catalog/test_openapi.py``
compares its paths with the router of a real app, so a new route without documentation fails the suite.
"""

from __future__ import annotations

from typing import Any

from hub.catalog.jsonschema import hoist
from hub.feeds.openapi import add_feed_api
from hub.ingest.items import IngestItem
from schemas import catalog

OPENAPI_VERSION = "3.1.0"
_REF = "#/components/schemas/"


def _problem(description: str, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF + "Problem"}}},
    }
    response.update(extra)
    return response


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}
_ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
_DEPRECATION = {
    "Deprecation": {
        "description": "Sent when the schema version is deprecated (RFC 9745: @<unix time>, or true)",
        "schema": {"type": "string"},
    },
    "Sunset": {
        "description": "End of support of a deprecated schema version (RFC 8594, HTTP date)",
        "schema": {"type": "string"},
    },
}


def _admin(
    summary: str,
    *,
    act: bool = False,
    params: list[Any] | None = None,
    result: dict[str, Any] | None = None,
    bad_request: str | None = None,
    not_found: str | None = "No such thing",
) -> dict[str, Any]:
    """An admin operation: 200 with ``result`` (any object by default), 401, 403 for act, 400 when
    ``bad_request`` says what can be malformed, 404 when ``not_found`` says what can be missing."""
    op: dict[str, Any] = {
        "tags": ["admin"],
        "summary": summary,
        "description": (
            "Needs an admin token with role act." if act else "Needs an admin token (read or act)."
        )
        + " Every call is written to the audit log.",
        "security": [{"adminToken": []}],
        "responses": {
            "200": _json(result or _ANY_OBJECT, "The result"),
            **({"400": _problem(bad_request)} if bad_request else {}),
            "401": _problem("No valid admin token"),
            **({"403": _problem("The token may read but not act")} if act else {}),
            **({"404": _problem(not_found)} if not_found else {}),
        },
    }
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}  # fmt: skip


_INT = {"type": "integer"}
_LIMIT = {"type": "integer", "description": "Clamped to 0-1000"}
_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with a UTC offset"}
_FILTER_PROPS: dict[str, Any] = {
    "schema": {"type": "string", "description": "Schema name"},
    "region": {"type": "string", "description": "Kode wilayah; entries at or below it"},
    "adapter": {"type": "string", "description": "Adapter instance"},
    "reason": {"type": "string", "description": "Reason code"},
    "since": _TIME,
    "until": _TIME,
}


def _optional_json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": False, "content": {"application/json": {"schema": schema}}}


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


def openapi_document(server_url: str = "http://127.0.0.1:8080", version: str = "0.1.0") -> dict[str, Any]:
    """The OpenAPI document of one node's HTTP API."""
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
    names = sorted({s.name for s in catalog.all_versions()})
    refs = [s.ref for s in catalog.all_versions()]
    ingest = {
        "post": {
            "tags": ["ingest"],
            "operationId": "ingestRecords",
            "summary": "Send records of one schema",
            "description": "One JSON object, a JSON array or NDJSON lines of ingest items. 202 is answered "
            "only after the broker confirmed every published record. Records must lie within the API key's "
            "office.",
            "security": [{"ingestBearer": []}, {"ingestApiKey": []}],
            "parameters": [
                {
                    "name": "schema",
                    "in": "path",
                    "required": True,
                    "description": "Schema name (its current version) or name@version, the version full "
                    "(1.0.0) or partial (1 = the newest published 1.x). Drafts are refused (404).",
                    "schema": {
                        "type": "string",
                        "pattern": r"^[a-z][a-z0-9_]*(@[0-9]+(\.[0-9]+){0,2})?$",
                        "examples": names + refs + [f"{s.name}@{s.major}" for s in catalog.all_specs()],
                    },
                },
                _query(
                    "on_invalid",
                    "reject (default): 422 and nothing published; quarantine: publish the good ones",
                    {"type": "string", "enum": ["reject", "quarantine"], "default": "reject"},
                ),
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": _REF + "IngestItem"},
                                {"type": "array", "items": {"$ref": _REF + "IngestItem"}, "minItems": 1},
                            ]
                        }
                    },
                    "application/x-ndjson": {
                        "schema": {"type": "string", "description": "One item per line"}
                    },
                },
            },
            "responses": {
                "202": {
                    **_json(
                        {"$ref": _REF + "IngestResult"}, "Accepted: every record published or quarantined"
                    ),
                    "headers": _DEPRECATION,
                },
                "400": _problem("The body cannot be read"),
                "401": _problem("No valid API key"),
                "403": _problem("This key may not send this schema"),
                "404": _problem("Unknown schema"),
                "413": _problem("Body too large"),
                "415": _problem("Unsupported content type"),
                "422": _problem(
                    "Some records are invalid, none was accepted (on_invalid=reject): a field breaks its "
                    "schema, the kode wilayah is unknown or of the wrong level, the record lies outside the "
                    "API key's office (rule region_outside_office), or text holds U+0000 (rule "
                    "unstorable_text). Such records may fit the JSON Schema: these rules need the region "
                    "reference",
                    headers=_DEPRECATION,
                ),
                "429": _problem(
                    "This office is over its request rate (trust.ingest_rate_per_s)", headers=_RETRY_AFTER
                ),
                "503": _problem("Broker unavailable or hub misconfigured; retry", headers=_RETRY_AFTER),
            },
        }
    }
    text = {"text/plain": {"schema": {"type": "string"}}}
    paths: dict[str, Any] = {
        "/v1/records/{schema}": ingest,
        "/healthz": {
            "get": {
                "tags": ["operations"],
                "operationId": "healthz",
                "summary": "Liveness",
                "responses": {"200": _json(_ANY_OBJECT, "The process is alive")},
            }
        },
        "/readyz": {
            "get": {
                "tags": ["operations"],
                "operationId": "readyz",
                "summary": "Readiness: broker connected and consumers alive",
                "responses": {
                    "200": _json(_ANY_OBJECT, "Ready; named checks"),
                    "503": _json(_ANY_OBJECT, "Not ready; named checks"),
                },
            }
        },
        "/metrics": {
            "get": {
                "tags": ["operations"],
                "operationId": "metrics",
                "summary": "Prometheus metrics (text exposition 0.0.4)",
                "responses": {"200": {"description": "Metrics", "content": text}},
            }
        },
        "/status": {
            "get": {
                "tags": ["operations"],
                "operationId": "statusPage",
                "summary": "The operators' status page (HTML; reads /v1/admin/overview with an admin token)",
                "responses": {"200": {"description": "HTML page", "content": {"text/html": {"schema": {}}}}},
            }
        },
        "/status/{asset}": {
            "get": {
                "tags": ["operations"],
                "operationId": "statusAsset",
                "summary": "A static asset of the status page (script, style sheet)",
                "parameters": [_path_param("asset", "File name")],
                "responses": {
                    "200": {"description": "The asset", "content": {"*/*": {"schema": {}}}},
                    "404": _problem("No such asset"),
                },
            }
        },
        "/v1/catalog": {
            "get": {
                "tags": ["catalog"],
                "operationId": "catalogIndex",
                "summary": "The schema catalogue: schema versions with status and deprecation, documents",
                "responses": {"200": _json(_ANY_OBJECT, "The catalogue index")},
            }
        },
        "/v1/catalog/{document}": {
            "get": {
                "tags": ["catalog"],
                "operationId": "catalogDocument",
                "summary": "One catalogue document as listed by the index, e.g. asyncapi.json",
                "parameters": [_path_param("document", "Path of the document as listed in the index")],
                "responses": {
                    "200": {"description": "The document", "content": {"*/*": {"schema": {}}}},
                    "404": _problem("No such document"),
                },
            }
        },
        "/v1/openapi.json": {
            "get": {
                "tags": ["catalog"],
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": _json(_ANY_OBJECT, "OpenAPI 3.1 document")},
            }
        },
        "/v1/admin/status": {
            "get": _admin("Node identity, readiness, adapters and quarantine counts", not_found=None)
        },
        "/v1/admin/adapters": {
            "get": _admin(
                "Source adapters and their state",
                result={"type": "array", "items": {"$ref": _REF + "Adapter"}},
                not_found=None,
            )
        },
        "/v1/admin/overview": {
            "get": _admin("What the status page shows: adapters, throughput, quarantine", not_found=None)
        },
        "/v1/admin/whoami": {"get": _admin("The caller's name and role", not_found=None)},
        "/v1/admin/adapters/{name}/{action}": {
            "post": _admin(
                "Pause, resume or restart a source adapter",
                act=True,
                params=[
                    _path_param("name", "Source adapter instance"),
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "description": "What to do",
                        "schema": {"type": "string", "enum": ["pause", "resume", "restart"]},
                    },
                ],
            )
        },
        "/v1/admin/quarantine": {
            "get": _admin(
                "List quarantine entries (masked previews only)",
                params=[
                    *(
                        _query(name, prop.get("description", name), prop)
                        for name, prop in _FILTER_PROPS.items()
                    ),
                    _query(
                        "status",
                        "open (default), redriven or discarded",
                        {"type": "string", "enum": ["open", "redriven", "discarded"]},
                    ),
                    _query("limit", "At most this many (default 100)", _LIMIT),
                    _query("offset", "Skip this many", _INT),
                ],
                bad_request="A filter is malformed (a time without a UTC offset, a limit that is no number)",
                not_found=None,
            )
        },
        "/v1/admin/quarantine/redrive": {
            "post": {
                **_admin(
                    "Redrive every open entry matching the filters (the body; none: every open entry)",
                    act=True,
                    bad_request="The body is not a JSON object, or a filter is malformed",
                    not_found=None,
                ),
                "requestBody": _optional_json({"type": "object", "properties": _FILTER_PROPS}),
            }
        },
        "/v1/admin/quarantine/{entry_id}": {
            "get": _admin("One quarantine entry", params=[_path_param("entry_id", "Entry id")])
        },
        "/v1/admin/quarantine/{entry_id}/original": {
            "get": _admin(
                "The sealed original of an entry, unsealed (audited)",
                act=True,
                params=[_path_param("entry_id", "Entry id")],
            )
        },
        "/v1/admin/quarantine/{entry_id}/as-stored": {
            "get": _admin(
                "An entry's original the way the sink would store it: personal fields masked, free text "
                "redacted (NIKs, phone numbers); audited. 409 when only the head of the original is kept",
                act=True,
                params=[_path_param("entry_id", "Entry id")],
            )
        },
        "/v1/admin/quarantine/{entry_id}/redrive": {
            "post": {
                **_admin(
                    "Validate an entry again and publish it (as it was, or as `replacement`)",
                    act=True,
                    params=[_path_param("entry_id", "Entry id")],
                    bad_request="The body is not a JSON object",
                ),
                "requestBody": _optional_json(
                    {
                        "type": "object",
                        "properties": {
                            "replacement": {"type": "object", "description": "The corrected raw record"}
                        },
                    }
                ),
            }
        },
        "/v1/admin/quarantine/{entry_id}/discard": {
            "post": _admin("Discard an entry", act=True, params=[_path_param("entry_id", "Entry id")])
        },
        "/v1/admin/audit": {
            "get": _admin(
                "Recent admin actions, newest first",
                params=[_query("limit", "At most this many (default 100)", _LIMIT)],
                result={"type": "array", "items": {"$ref": _REF + "AuditEntry"}},
                bad_request="limit is not a whole number",
                not_found=None,
            )
        },
        "/v1/admin/lineage/{message_id}": {
            "get": _admin(
                "Where a record came from, each level it passed, quarantine and which sinks applied it",
                params=[_path_param("message_id", "The record's message id (UUID)")],
                not_found="Neither a sink nor the quarantine knows this message id",
            )
        },
        "/v1/admin/replays": {
            "get": _admin("Replay jobs started on this node, newest first"),
            "post": {
                **_admin(
                    "Replay a window of the feed stream to one consumer's queue, in the background (audited)",
                    act=True,
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["to"],
                                "properties": {
                                    "to": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"},
                                    "since": {
                                        "type": "string",
                                        "description": "first, last, next, an offset or an ISO time",
                                    },
                                    "schema": {"type": "string"},
                                    "region": {"type": "string", "description": "kode wilayah; below it too"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "202": _json(_ANY_OBJECT, "The job, running; poll GET /v1/admin/replays/{job_id}"),
                    "400": _problem("Bad consumer name, start or region"),
                    "401": _problem("No valid admin token"),
                    "403": _problem("The token may read but not act"),
                    "404": _problem("This node keeps no feed stream"),
                },
            },
        },
        "/v1/admin/replays/{job_id}": {
            "get": _admin(
                "One replay job: state, figures so far, error", params=[_path_param("job_id", "Job id")]
            )
        },
        "/v1/admin/config/validate": {
            "post": {
                **_admin("Validate a TOML node config as `simpul check-config` does (audited, read role)"),
                "requestBody": {
                    "required": True,
                    "content": {"application/toml": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": _json(_ANY_OBJECT, "Valid: node, level, sources and sinks"),
                    "400": _problem("Invalid: `problems` lists every key (loc) and what is wrong"),
                    "401": _problem("No valid admin token"),
                },
            }
        },
    }
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Simpul node HTTP API",
            "version": version,
            "description": "Ingest for regional systems (REST/JSON, per-system API keys), health and metrics "
            "for operators, the admin API and the schema catalogue of Simpul, the SPBE interoperability bus "
            "of Kemendagri Ditjen Polpum.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": "ingest", "description": "Regional systems send records"},
            {"name": "operations", "description": "Health, readiness and metrics"},
            {"name": "admin", "description": "Operators: adapters, quarantine, audit"},
            {"name": "catalog", "description": "Schema catalogue and API documents"},
        ],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "ingestBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Ingest API key as bearer",
                },
                "ingestApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Admin token (read or act)",
                },
            },
        },
    }
    conflict = _problem("The entry is not open (already redriven or discarded)")
    for path in ("/v1/admin/quarantine/{entry_id}/redrive", "/v1/admin/quarantine/{entry_id}/discard"):
        paths[path]["post"]["responses"]["409"] = conflict
    paths["/v1/admin/quarantine/{entry_id}/as-stored"]["get"]["responses"]["409"] = _problem(
        "Only the head of the original is kept, or it is not a record object"
    )
    add_feed_api(document)  # the ministry's feeds and completeness
    from hub.workbench.openapi import add_workbench_api

    add_workbench_api(document)  # the onboarding workbench under /workbench
    return document
