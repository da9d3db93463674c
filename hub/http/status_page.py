"""The operators' status page: static HTML, CSS and JS served by the node, no build step, no internet.

``GET /status`` serves the page; it holds no data. The page's script asks the admin API
(``/v1/admin/whoami``, ``/v1/admin/overview``, ``POST /v1/admin/adapters/{name}/pause|resume``) with a
token the operator types in or passes in the URL fragment (``/status#token=...``; a fragment never
reaches the server or its logs). Pause and resume buttons appear only for a token with the act role, and
the API checks the role again on every action.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static"
_ASSETS = {
    "status.css": "text/css; charset=utf-8",
    "status.js": "text/javascript; charset=utf-8",
}
# Everything from this origin only; no inline script or style, no framing, no referrer leaks.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def _page(_request: web.Request) -> web.Response:
    body = await asyncio.to_thread((STATIC_DIR / "status.html").read_bytes)  # disk reads off the loop
    return web.Response(body=body, content_type="text/html", charset="utf-8", headers=_HEADERS)


async def _asset(request: web.Request) -> web.Response:
    name = request.match_info["asset"]
    content_type = _ASSETS.get(name)
    if content_type is None:  # a fixed list: no path from the request ever reaches the file system
        raise web.HTTPNotFound()
    body = await asyncio.to_thread((STATIC_DIR / name).read_bytes)
    return web.Response(body=body, headers={**_HEADERS, "Content-Type": content_type})


def status_page_routes() -> list[web.RouteDef]:
    """``GET /status`` and its two assets under ``/status/``."""
    return [web.get("/status", _page), web.get("/status/{asset}", _asset)]
