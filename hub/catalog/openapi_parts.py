"""The building blocks of the node's OpenAPI paths: problem and JSON responses, path and query parameters,
an admin operation, optional JSON bodies, and the shared headers and quarantine filter properties.

Imports ``typing`` only.
"""

from __future__ import annotations

from typing import Any

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
