"""The feeds and completeness of one node, as the node wires them: routes, scrape-time metrics, close."""

from __future__ import annotations

from aiohttp import web

from hub.adapters.warehouse import WarehouseReader
from hub.completeness.service import CompletenessService
from hub.feeds.http import FeedApi
from hub.feeds.reader import open_reader
from hub.metrics import Metrics
from hub.settings import Settings


class FeedFace:
    """Built with the node (a misnamed ``[feeds] warehouse`` fails there); reads the warehouse lazily."""

    def __init__(self, settings: Settings, reader: WarehouseReader | None = None) -> None:
        self.reader = reader if reader is not None else open_reader(settings)
        self.completeness = CompletenessService(settings.completeness, self.reader)
        self.api = FeedApi(settings.feeds, self.reader, self.completeness)

    def routes(self) -> list[web.RouteDef]:
        return self.api.routes()

    async def refresh_metrics(self, metrics: Metrics) -> None:
        """``simpul_reports_missing`` before a scrape (cached by ``[completeness] cache_s``)."""
        await self.completeness.refresh_metrics(metrics)

    def stop_live(self) -> None:
        """End the live streams so the HTTP server can shut down without waiting for them."""
        self.api.close()

    async def close(self) -> None:
        self.api.close()
        await self.reader.close()
