"""``GET /v1/catalog`` (the index), ``GET /v1/catalog/{document}`` (any catalogue document) and
``GET /v1/openapi.json``. No authentication: the catalogue holds schemas, code lists and the bus layout,
never records or credentials. Built once, in a worker thread, on the first request.

The node serves kode wilayah down to kecamatan (levels 1-3); the full list with 83,762 desa and kelurahan
is in ``simpul catalog export``.
"""

from __future__ import annotations

import asyncio
import mimetypes

from aiohttp import web

from hub.catalog.export import build_documents
from hub.settings import Settings
from hub.transport.topology import Topology

_TYPES = {".json": "application/json", ".md": "text/markdown", ".html": "text/html", ".csv": "text/csv"}


class CatalogApi:
    """The catalogue routes of one node."""

    def __init__(
        self, settings: Settings, topology: Topology, *, region_levels: tuple[int, ...] = (1, 2, 3)
    ) -> None:
        self._settings = settings
        self._topology = topology
        self._region_levels = region_levels
        self._documents: dict[str, bytes] | None = None
        self._lock = asyncio.Lock()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/catalog", self.index),
            web.get("/v1/catalog/{document:.+}", self.document),
            web.get("/v1/openapi.json", self.openapi),
        ]

    async def documents(self) -> dict[str, bytes]:
        """The catalogue documents (built on first use)."""
        async with self._lock:
            if self._documents is None:
                self._documents = await asyncio.to_thread(
                    build_documents, self._settings, self._topology, region_levels=self._region_levels
                )
        return self._documents

    async def index(self, request: web.Request) -> web.Response:
        return self._send("index.json", (await self.documents())["index.json"])

    async def document(self, request: web.Request) -> web.Response:
        name = request.match_info["document"]
        body = (await self.documents()).get(name)
        if body is None:
            raise web.HTTPNotFound(reason="no such catalogue document; GET /v1/catalog lists them")
        return self._send(name, body)

    async def openapi(self, request: web.Request) -> web.Response:
        return self._send("openapi.json", (await self.documents())["openapi.json"])

    @staticmethod
    def _send(name: str, body: bytes) -> web.Response:
        suffix = name[name.rfind(".") :]
        content_type = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.Response(body=body, content_type=content_type, charset="utf-8")
