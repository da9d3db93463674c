"""The workbench's pages (``GET /`` and ``GET /static/{asset}`` under ``/workbench``): the one HTML page and
its script and style, read from ``STATIC_DIR`` and served with the workbench's security headers. Only the
files of a fixed list are served; the pages hold no data, so they need no token.

Imports ``hub.workbench.app_common`` only (and aiohttp).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.workbench.app_common import _HEADERS

STATIC_DIR = Path(__file__).resolve().parent / "static"
_ASSETS = {
    "workbench.css": "text/css; charset=utf-8",
    "workbench.js": "text/javascript; charset=utf-8",
}


async def _page(_request: web.Request) -> web.Response:
    body = (STATIC_DIR / "index.html").read_bytes()
    return web.Response(body=body, content_type="text/html", charset="utf-8", headers=_HEADERS)


async def _asset(request: web.Request) -> web.Response:
    content_type = _ASSETS.get(request.match_info["asset"])
    if content_type is None:  # a fixed list: no path from the request reaches the file system
        raise web.HTTPNotFound()
    body = (STATIC_DIR / request.match_info["asset"]).read_bytes()
    return web.Response(body=body, headers={**_HEADERS, "Content-Type": content_type})
