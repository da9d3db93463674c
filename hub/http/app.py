"""The aiohttp application of a node: ingest, health, readiness and metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from hub.catalog.http import CatalogApi
from hub.http.admin import AdminApi
from hub.http.ingest import IngestHandler
from hub.metrics import Metrics
from hub.responses import MAX_BODY_KEY, error_middleware, json_response


def build_app(
    ingest: IngestHandler,
    metrics: Metrics,
    ready: Callable[[], dict[str, bool]],
    max_body_bytes: int,
    admin: AdminApi | None = None,
    before_scrape: Callable[[], None] | None = None,
    *,
    extra_routes: Iterable[web.AbstractRouteDef] = (),
    before_scrape_async: Callable[[], Awaitable[None]] | None = None,
    catalog: CatalogApi | None = None,
) -> web.Application:
    """Routes: ``POST /v1/records/{schema}``, ``GET /healthz``, ``GET /readyz``, ``GET /metrics``.

    ``ready`` returns named checks; ``/readyz`` is 200 only when all are true. ``extra_routes`` adds
    routes such as the status page; with ``admin``, the workbench (``hub.workbench``) is mounted at
    ``/workbench``; ``before_scrape_async`` runs before each scrape (broker figures);
    ``catalog`` adds ``/v1/catalog`` and ``/v1/openapi.json``.
    """
    app = web.Application(client_max_size=max_body_bytes, middlewares=[error_middleware])
    app[MAX_BODY_KEY] = max_body_bytes

    async def healthz(_request: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        checks = ready()
        ok = all(checks.values())
        return json_response({"ready": ok, "checks": checks}, status=200 if ok else 503)

    async def metrics_handler(_request: web.Request) -> web.Response:
        if before_scrape is not None:
            before_scrape()
        if before_scrape_async is not None:
            await before_scrape_async()
        return web.Response(body=metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4"})

    app.router.add_post("/v1/records/{schema}", ingest.handle, expect_handler=ingest.expect)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    if admin is not None:
        app.router.add_routes(admin.routes())
        from hub.workbench.app import workbench_app

        # The onboarding workbench's pages at /workbench/, its API only for admin tokens with the act role.
        app.add_subapp("/workbench", workbench_app(guard=lambda request: admin._caller(request, "act")))
    app.router.add_routes(list(extra_routes))
    if catalog is not None:
        app.router.add_routes(catalog.routes())
    return app
