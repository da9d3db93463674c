"""The OpenAPI 3.1 document of a node's HTTP API, written by hand from the routes ``hub.http.app`` registers:
ingest, health, readiness, metrics, the admin API and the catalogue. ``tests/unit/catalog/test_openapi.py``
compares its paths with the router of a real app, so a new route without documentation fails the suite.
It is put together here from ``openapi_schemas`` (the component schemas) and ``openapi_paths`` (the paths,
built from ``openapi_parts``), plus the feed and workbench paths.

Imports ``hub.catalog.openapi_*``, ``hub.feeds.openapi`` and (when called) ``hub.workbench.openapi`` only.
"""

from __future__ import annotations

from typing import Any

from hub.catalog.openapi_parts import _problem
from hub.catalog.openapi_paths import api_paths
from hub.catalog.openapi_schemas import component_schemas
from hub.feeds.openapi import add_feed_api

OPENAPI_VERSION = "3.1.0"


def openapi_document(server_url: str = "http://127.0.0.1:8080", version: str = "0.1.0") -> dict[str, Any]:
    """The OpenAPI document of one node's HTTP API."""
    components = component_schemas()
    paths = api_paths()
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
