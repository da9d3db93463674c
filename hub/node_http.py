"""The node's HTTP face, put together: :func:`node_app` builds the aiohttp application a node serves
(ingest, rate-limited per region when configured; the admin API; the status page; the feeds; the
catalogue; the workbench that ``hub.http.app`` mounts) over the node's parts, and :func:`tls_context`
loads its TLS certificate. ``hub.node`` runs the application (runner, site, port) as a step of its start.

Reads the node through :class:`ServedNode` (a protocol ``hub.node.Node`` satisfies) and imports nothing of
``hub.node``: it sits in the layer just below it, over ``hub.http``, ``hub.catalog`` and the layers below.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from hub.adapters.runner import SourceRunner
from hub.admin.audit import AdminAudit
from hub.admin.redrive import Redriver
from hub.catalog.http import CatalogApi
from hub.errors import ConfigError
from hub.feeds.face import FeedFace
from hub.feeds.replay_jobs import ReplayJobs
from hub.http.admin import AdminApi
from hub.http.app import build_app
from hub.http.ingest import IngestHandler
from hub.http.status_page import status_page_routes
from hub.ingest.pipeline import Pipeline
from hub.metrics import Metrics
from hub.quarantine.store import QuarantineStore
from hub.settings import Settings
from hub.transport.base import Transport
from hub.transport.topology import Topology
from hub.trust.ratelimit import RegionRateLimiter

__all__ = ["ServedNode", "node_app", "tls_context"]


class ServedNode(Protocol):
    """What the HTTP face reads of a started node (``hub.node.Node``)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def transport(self) -> Transport: ...

    @property
    def topology(self) -> Topology: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def feeds(self) -> FeedFace: ...

    @property
    def replays(self) -> ReplayJobs | None: ...

    @property
    def runners(self) -> list[SourceRunner]: ...

    @property
    def pipeline(self) -> Pipeline: ...

    @property
    def quarantine_store(self) -> QuarantineStore: ...

    @property
    def redriver(self) -> Redriver: ...

    @property
    def audit(self) -> AdminAudit: ...

    async def restart_source(self, name: str) -> None: ...

    async def status(self) -> dict[str, Any]: ...

    async def overview(self) -> dict[str, Any]: ...

    async def lineage(self, message_id: str) -> dict[str, Any]: ...

    def readiness(self) -> dict[str, bool]: ...


def node_app(node: ServedNode, *, before_scrape: Callable[[], Awaitable[None]]) -> web.Application:
    """The application ``node`` serves; ``before_scrape`` refreshes the gauges before each ``/metrics``."""
    h = node.settings.http
    t = node.settings.trust
    limiter = RegionRateLimiter(t.ingest_rate_per_s, t.ingest_burst) if t.ingest_rate_per_s > 0 else None
    ingest = IngestHandler(node.pipeline, node.transport, h, limiter=limiter, max_depth=t.max_nesting_depth)
    admin = AdminApi(
        node.settings.admin_tokens,
        lambda: node.runners,
        node.restart_source,
        node.status,
        node.quarantine_store,
        node.redriver,
        node.audit,
        overview=node.overview,
        lineage=node.lineage,
        replays=node.replays,
    )
    return build_app(
        ingest,
        node.metrics,
        node.readiness,
        h.max_body_bytes,
        admin,
        extra_routes=[*status_page_routes(), *node.feeds.routes()],
        before_scrape_async=before_scrape,
        catalog=CatalogApi(node.settings, node.topology),
    )


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """A server TLS context from PEM files (TLS 1.2+), or None for plain HTTP."""
    if cert is None or key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the TLS certificate or key ({type(exc).__name__})", key="http.tls_cert"
        ) from None
    return context
