"""The feed and completeness paths of the node's OpenAPI document (added to ``hub.catalog.openapi``)."""

from __future__ import annotations

from typing import Any

_REF = "#/components/schemas/"
_STATUSES = ["reported", "late", "missing", "pending"]


def _q(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}  # fmt: skip


def _problem(description: str) -> dict[str, Any]:
    body = {"application/json": {"schema": {"$ref": _REF + "Problem"}}}
    return {"description": description, "content": body}


_SCHEMA = {"name": "schema", "in": "path", "required": True, "description": "Schema name",
           "schema": {"type": "string"}}  # fmt: skip
_FILTERS = [
    _q("province", "Province code (32), within the scope", {"type": "string", "pattern": "^[0-9]{2}$"}),
    _q("kabkota", "Kab/kota code (32.01 or 3201); must lie in the consumer's scope"),
    _q("period", "Records about this period: YYYY, YYYY-Qn, YYYY-Sn or YYYY-MM (region's time zone)"),
]
_ERRORS = {
    "400": _problem("A filter, cursor or limit is malformed"),
    "401": _problem("No valid feed consumer token"),
    "403": _problem("The consumer may not read this schema or region"),
    "404": _problem("Unknown schema"),
    "503": _problem("The warehouse cannot be read right now; retry"),
}


def _components() -> dict[str, Any]:
    item = {
        "type": "object",
        "required": ["cursor", "schema", "kode_wilayah", "revision", "op", "state", "payload", "redacted"],
        "properties": {
            "cursor": {"type": "string", "description": "This row's position: resume after it"},
            "schema": {"type": "string"},
            "schema_version": {"type": "string"},
            "kode_wilayah": {"type": "string"},
            "revision": {"type": "integer"},
            "op": {"type": "string", "enum": ["upsert", "withdraw"]},
            "state": {"type": "string", "enum": ["active", "withdrawn"]},
            "message_id": {"type": "string"},
            "idempotency_key": {"type": "string"},
            "record_key": {"type": "string"},
            "classification": {"type": "string", "enum": ["BIASA", "TERBATAS", "RAHASIA", "SANGAT_RAHASIA"]},
            "occurred_at": {"type": ["string", "null"], "format": "date-time"},
            "reported_at": {"type": ["string", "null"], "format": "date-time"},
            "received_at": {"type": ["string", "null"], "format": "date-time"},
            "correlation_id": {"type": ["string", "null"]},
            "source": {"type": "object", "additionalProperties": True},
            "applied_at": {"type": "string", "format": "date-time"},
            "payload": {"type": "object", "additionalProperties": True, "description": "Schema's shape"},
            "redacted": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Payload paths set to null for this consumer's clearance",
            },
        },
    }
    page = {
        "type": "object",
        "required": ["items", "next_cursor", "has_more"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": _REF + "FeedItem"}},
            "next_cursor": {"type": ["string", "null"], "description": "Where the next page or poll starts"},
            "has_more": {"type": "boolean"},
        },
    }
    region = {
        "type": "object",
        "required": ["code", "name", "status", "due_at"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "status": {"type": "string", "enum": _STATUSES},
            "due_at": {"type": "string", "format": "date-time"},
            "submitted_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    report = {
        "type": "object",
        "required": ["schema", "level", "period", "totals", "provinces"],
        "properties": {
            "schema": {"type": "string"},
            "level": {"type": "string", "enum": ["kabkota", "provinsi"]},
            "period": {"type": "string"},
            "due_days": {"type": "integer"},
            "computed_at": {"type": "string", "format": "date-time"},
            "totals": counts,
            "provinces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "zone": {"type": "string", "enum": ["WIB", "WITA", "WIT"]},
                        "counts": counts,
                        "regions": {"type": "array", "items": {"$ref": _REF + "CompletenessRegion"}},
                    },
                },
            },
        },
    }
    return {"FeedItem": item, "FeedPage": page, "CompletenessRegion": region, "CompletenessReport": report}


def _paths() -> dict[str, Any]:
    security: list[dict[str, list[str]]] = [{"feedBearer": []}]
    page = {
        "get": {
            "tags": ["feeds"],
            "operationId": "feedPage",
            "summary": "One page of a schema's records in change order (JSON or NDJSON)",
            "description": "Keyset paging on the change position: stable under concurrent writes (nothing "
            "skipped or repeated). Rows above the consumer's clearance are withheld; personal fields are "
            "null and listed in `redacted` unless the clearance allows them.",
            "security": security,
            "parameters": [
                _SCHEMA,
                *_FILTERS,
                _q("changed_since", "Rows applied at or after this time (ISO 8601 with offset)"),
                _q("cursor", "next_cursor of the previous page"),
                _q("limit", "Items per page (default 100)", {"type": "integer", "minimum": 1}),
            ],
            "responses": {
                "200": {
                    "description": "A page. NDJSON: one FeedItem per line; X-Next-Cursor, X-Has-More headers",
                    "content": {
                        "application/json": {"schema": {"$ref": _REF + "FeedPage"}},
                        "application/x-ndjson": {"schema": {"type": "string"}},
                    },
                },
                **_ERRORS,
            },
        }
    }
    live = {
        "get": {
            "tags": ["feeds"],
            "operationId": "feedLive",
            "summary": "Server-sent events: each record as it is applied (event `record`, id = cursor)",
            "description": "Resumable: send Last-Event-ID (or ?cursor=) to continue after the last event "
            "seen; without one the stream starts at the current end.",
            "security": security,
            "parameters": [
                _SCHEMA,
                *_FILTERS,
                _q("cursor", "Start after this position"),
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "The id of the last event received",
                },
            ],
            "responses": {
                "200": {
                    "description": "An event stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                **_ERRORS,
            },
        }
    }
    completeness = {
        "get": {
            "tags": ["feeds"],
            "operationId": "completeness",
            "summary": "Who has reported for a period: reported, late, missing, pending; by province",
            "security": security,
            "parameters": [
                {
                    "name": "schema",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                    "description": "A schema with a declared obligation",
                },
                _q("period", "The period (default: the newest one already due)"),
            ],
            "responses": {
                "200": {
                    "description": "The report",
                    "content": {"application/json": {"schema": {"$ref": _REF + "CompletenessReport"}}},
                },
                **_ERRORS,
                "404": _problem("Unknown schema, or no obligation declared for it"),
            },
        }
    }
    return {"/v1/feeds/{schema}": page, "/v1/feeds/{schema}/live": live, "/v1/completeness": completeness}


def add_feed_api(document: dict[str, Any]) -> None:
    """Add the feed paths, their components, the ``feedBearer`` scheme and the ``feeds`` tag."""
    document["paths"].update(_paths())
    document["components"]["schemas"].update(_components())
    document["components"]["securitySchemes"]["feedBearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A ministry application's feed token ([feeds.consumers])",
    }
    tag = {"name": "feeds", "description": "Ministry applications read records and completeness"}
    document["tags"].append(tag)
