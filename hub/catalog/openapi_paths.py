"""The paths of the node's OpenAPI document: ingest, health, readiness, metrics, the status page, the
catalogue and the admin API. The feed and workbench paths are added by ``hub.feeds.openapi`` and
``hub.workbench.openapi``; the 409 answers of the quarantine entry operations by ``openapi.openapi_document``.

Imports ``hub.catalog.openapi_parts`` and ``schemas.catalog`` only.
"""

from __future__ import annotations

from typing import Any

from hub.catalog.openapi_parts import (
    _ANY_OBJECT,
    _DEPRECATION,
    _FILTER_PROPS,
    _INT,
    _LIMIT,
    _REF,
    _RETRY_AFTER,
    _admin,
    _json,
    _optional_json,
    _path_param,
    _problem,
    _query,
)
from schemas import catalog


def api_paths() -> dict[str, Any]:
    """The ``paths`` of the document, by path."""
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
    return paths
