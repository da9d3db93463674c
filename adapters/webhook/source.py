"""The ``webhook`` source: its own aiohttp server; each confirmed batch answers its waiting requests.

``start`` binds ``host:port`` (port 0: a free one, then in ``.port``); ``read`` yields one ``SourceBatch``
per group of waiting requests (up to ``coalesce_max``; with 1, one per request), whose ``commit`` first
marks the event ids processed in ``context.state`` and then resolves the requests' futures, so the 202
goes out only after the broker's confirm. ``stop`` answers every waiting request 503 and closes the port.

``context.ready`` is the node's ``() -> bool`` readiness check (broker up):
while it is False pushes get 503 at once instead of waiting for the confirm timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from aiohttp import web

from adapters.webhook.config import WebhookConfig
from adapters.webhook.handler import WebhookHandler
from adapters.webhook.intake import Intake, Pending
from hub.adapters.model import AdapterContext, SourceBatch
from hub.errors import FatalError

log = structlog.get_logger(__name__)


class WebhookSource:
    """Receives signed pushes; see the module docstring for the contract."""

    def __init__(self, config: WebhookConfig, context: AdapterContext) -> None:
        self.config = config
        self._context = context
        self._intake: Intake | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def pending(self) -> int:
        """Requests queued or in flight."""
        return len(self._intake) if self._intake is not None else 0

    async def start(self) -> None:
        cfg = self.config
        self._intake = Intake(cfg.max_pending)
        ready = self._context.ready
        handler = WebhookHandler(cfg, cfg.secret_bytes(), self._intake, self._context, ready)
        app = web.Application(client_max_size=cfg.max_body_bytes)
        app.router.add_post(cfg.path, handler.handle)
        # Handlers wait at most confirm_timeout_s, so shutdown never waits longer than that.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=cfg.confirm_timeout_s + 1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, cfg.host, cfg.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise FatalError(f"cannot listen on {cfg.host}:{cfg.port} ({exc.strerror})") from None
        sockets = getattr(site._server, "sockets", None) or []  # the bound socket tells an ephemeral port
        self.port = sockets[0].getsockname()[1] if sockets else cfg.port
        log.info(
            "webhook_listening", adapter=self._context.name, host=cfg.host, port=self.port, path=cfg.path
        )

    async def read(self) -> AsyncIterator[SourceBatch]:
        """Batches of waiting requests, until ``stop``."""
        if self._intake is None:
            raise RuntimeError("WebhookSource.start() was not called")
        while True:
            batch = await self._intake.take(self.config.coalesce_max)
            if batch is None:
                return
            yield SourceBatch([p.record for p in batch], self._committer(batch))

    def _committer(self, batch: list[Pending]) -> Callable[[], Awaitable[None]]:
        async def commit() -> None:
            ids = [p.event_id for p in batch]
            await asyncio.to_thread(self._mark_processed, ids)  # durable before anyone hears 202
            assert self._intake is not None
            self._intake.confirm(batch)

        return commit

    def _mark_processed(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            self._context.state.mark_processed(self._context.name, event_id)

    async def stop(self) -> None:
        if self._intake is not None:
            self._intake.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            log.info("webhook_stopped", adapter=self._context.name)
