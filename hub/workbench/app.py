"""The workbench's aiohttp application: the pages and the JSON API under them.

:func:`workbench_app` is a sub-application; both ``simpul workbench`` (:func:`standalone_app`, on
127.0.0.1) and a node (``hub.http.app``, guarded by an admin token with the ``act`` role) mount it at
``/workbench``. Its routes, relative to that prefix:

* ``GET /`` the page, ``GET /static/{asset}`` its script and style (a fixed list; no CDN, no build step);
* ``GET /api/schemas``, ``GET /api/schemas/{name}``, ``GET /api/regions?q=`` reference data;
* ``POST /api/read``, ``/api/propose``, ``/api/test``: the sample as ``multipart/form-data`` (part
  ``sample``, plus ``kind``, ``schema``, ``office``, ``options`` (JSON) or ``toml``), answering the JSON of
  ``hub.workbench.engine``;
* ``POST /api/probe`` (JSON): a sample read from a live source, answered as the raw bytes;
* ``POST /api/render``, ``/api/parse``, ``/api/config`` (JSON): form -> TOML, TOML -> form, whole node config.

Uploads are read into memory only (never written to disk, never logged) and capped at ``MAX_SAMPLE_BYTES``
(413 beyond). Bad input is a 4xx in the hub's problem shape (``{"error", "message", "field"}``), never a 500.

This module builds the application; the handlers live beside it by job: ``app_pages`` (the page and its
assets), ``app_reference`` (schemas, fields, regions), ``app_samples`` (the multipart sample endpoints) and
``app_json`` (the JSON endpoints), over ``app_common`` (the caps, the headers, the problem answer). The
names callers import from here (``MAX_SAMPLE_BYTES``, ``MAX_JSON_BYTES``, ``region_candidates``, ...) still
are, in ``__all__``.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from hub.responses import error_middleware
from hub.workbench.app_common import MAX_JSON_BYTES, MAX_SAMPLE_BYTES, Handler, TooLarge
from hub.workbench.app_json import _config, _parse, _probe, _render
from hub.workbench.app_pages import STATIC_DIR, _asset, _page
from hub.workbench.app_reference import _regions, _schema, _schemas, plain_type, region_candidates
from hub.workbench.app_samples import _propose, _read, _test

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_SAMPLE_BYTES",
    "STATIC_DIR",
    "Guard",
    "Handler",
    "TooLarge",
    "plain_type",
    "region_candidates",
    "standalone_app",
    "workbench_app",
]

Guard = Callable[[web.Request], object]


def workbench_app(guard: Guard | None = None) -> web.Application:
    """The sub-application; ``guard(request)`` (raising ``HTTPUnauthorized``/``HTTPForbidden``) runs before
    every ``/api/`` call when given. The pages themselves hold no data and are served to anyone."""

    @web.middleware
    async def guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if guard is not None and "/api/" in request.path:
            guard(request)
        return await handler(request)

    app = web.Application(middlewares=[guarded])
    app.router.add_routes(
        [
            web.get("/", _page),
            web.get("/static/{asset}", _asset),
            web.get("/api/schemas", _schemas),
            web.get("/api/schemas/{name}", _schema),
            web.get("/api/regions", _regions),
            web.post("/api/read", _read),
            web.post("/api/propose", _propose),
            web.post("/api/test", _test),
            web.post("/api/probe", _probe),
            web.post("/api/render", _render),
            web.post("/api/parse", _parse),
            web.post("/api/config", _config),
        ]
    )
    return app


def standalone_app() -> web.Application:
    """What ``simpul workbench`` serves: the workbench at ``/workbench/``, ``/`` redirecting there."""
    root = web.Application(middlewares=[error_middleware])

    async def home(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/workbench/")

    root.router.add_get("/", home)
    root.router.add_get("/workbench", home)
    root.add_subapp("/workbench", workbench_app())
    return root
