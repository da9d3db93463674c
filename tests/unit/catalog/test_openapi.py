"""The OpenAPI document matches the node's real routes, and the node serves the catalogue."""

from __future__ import annotations

import json

import aiohttp

from hub.catalog.openapi import openapi_document
from hub.node import Node

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _app_routes(node: Node) -> set[tuple[str, str]]:
    runner = node._http_runner  # the node's aiohttp runner: its app holds the real router
    assert runner is not None and runner.app is not None
    routes = set()
    for route in runner.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        path = path.replace("{document:.+}", "{document}")
        if route.method in _METHODS:
            routes.add((route.method.lower(), path))
    return routes


async def test_openapi_paths_are_exactly_the_node_routes(memory_node: Node) -> None:
    """Every route of a running node is documented, and every documented operation exists."""
    documented = {(m, p) for p, ops in openapi_document()["paths"].items() for m in ops}
    assert documented == _app_routes(memory_node)


async def test_node_serves_catalogue_and_openapi(memory_node: Node) -> None:
    """/v1/catalog lists the documents; each listed one is served; /v1/openapi.json is the document."""
    base = f"http://127.0.0.1:{memory_node.http_port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/v1/catalog") as response:
            assert response.status == 200
            index = await response.json()
        assert {"asyncapi.json", "catalog.html", "codelists/kode_wilayah.csv"} <= set(index["documents"])
        async with http.get(f"{base}/v1/catalog/catalog.html") as response:
            assert response.status == 200 and response.content_type == "text/html"
            assert "Katalog skema Simpul" in await response.text()
        async with http.get(f"{base}/v1/catalog/schemas/ormas_registration-2.0.0.schema.json") as response:
            schema = await response.json()
            assert schema["x-status"] == "draft" and "tanggal_registrasi" in schema["required"]
        async with http.get(f"{base}/v1/catalog/nope.json") as response:
            assert response.status == 404
        async with http.get(f"{base}/v1/openapi.json") as response:
            served = await response.json()
    assert served["openapi"] == "3.1.0"
    assert served["paths"].keys() == json.loads(json.dumps(openapi_document()))["paths"].keys()
    current = [s for s in index["schemas"] if s["current"]]
    assert len(current) == 10
    assert {s["name"] for s in current if s["version"] == "1.1.0"} == {"early_warning", "research_permit"}
    assert all(s["version"] in ("1.0.0", "1.1.0") for s in current)
