"""The feed API for ministry applications, and completeness.

* ``GET /v1/feeds/{schema}``: one page, ``{"items": [...], "next_cursor": ..., "has_more": ...}`` as JSON,
  or one item per line with ``Accept: application/x-ndjson`` (paging in the ``X-Next-Cursor`` and
  ``X-Has-More`` headers). Filters: ``province``, ``kabkota``, ``period``, ``changed_since``; paging:
  ``cursor``, ``limit``. ``next_cursor`` is where the next page starts; it is also where a client polls
  again later for what changed since.
* ``GET /v1/feeds/{schema}/live``: server-sent events, one ``record`` event per row as it is applied,
  ``id`` = its cursor, so a reconnecting client's ``Last-Event-ID`` resumes exactly after the last
  event it saw. Without one (or a ``cursor``), it starts at the current end.
* ``GET /v1/completeness?schema=...&period=...``: who has reported, grouped by province.

Every request needs ``Authorization: Bearer <token>`` of a consumer in ``[feeds.consumers]``; what it sees
is decided by ``hub.feeds.access``. Bodies and logs never carry tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial, wraps
from typing import Any

import orjson
import structlog
from aiohttp import web

from hub.adapters.warehouse import START, ScanFilter, WarehouseReader, parse_cursor
from hub.completeness.periods import Period, parse_period
from hub.completeness.service import CompletenessService
from hub.errors import RequestError, SinkUnavailable, UnknownSchema
from hub.feeds.access import allowed_classifications, item_view, narrow
from hub.feeds.pager import Page, read_page
from hub.responses import json_response, problem
from hub.settings import FeedApiSettings, FeedConsumer
from schemas import catalog
from schemas.regions.model import normalize_code

log = structlog.get_logger(__name__)
NDJSON = "application/x-ndjson"
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class FeedApi:
    """The routes of the feeds and of completeness, over one warehouse reader."""

    def __init__(
        self, settings: FeedApiSettings, reader: WarehouseReader, completeness: CompletenessService
    ) -> None:
        self._settings = settings
        self._reader = reader
        self._completeness = completeness
        self._closing = asyncio.Event()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/feeds/{schema}", _guard(self.page)),
            web.get("/v1/feeds/{schema}/live", _guard(self.live)),
            web.get("/v1/completeness", _guard(self.completeness)),
        ]

    def close(self) -> None:
        """End every live stream (called before the HTTP server shuts down)."""
        self._closing.set()

    # -- requests ------------------------------------------------------------------------------------------

    def _consumer(self, request: web.Request) -> FeedConsumer:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        given = token.strip().encode()
        consumer = None
        if scheme.lower() == "bearer" and given:
            # Compared with every token in constant time, so response timing tells nothing about them.
            for known, candidate in self._settings.consumers.items():
                if hmac.compare_digest(known.encode(), given):
                    consumer = candidate
        if consumer is None:
            raise web.HTTPUnauthorized(reason="a feed consumer's bearer token is needed")
        return consumer

    def _schema(self, request: web.Request, consumer: FeedConsumer) -> str:
        schema = request.match_info.get("schema") or request.query.get("schema") or ""
        if not schema:
            raise RequestError("schema is required")
        try:
            catalog.get(schema)
        except UnknownSchema:
            raise web.HTTPNotFound(reason="no such schema") from None
        if consumer.schemas and schema not in consumer.schemas:
            raise web.HTTPForbidden(reason="this consumer may not read this schema")
        return schema

    def _filter(
        self, request: web.Request, consumer: FeedConsumer, schema: str
    ) -> tuple[ScanFilter, Period | None]:
        q = request.query
        province = _code(q.get("province"), 1, "province")
        kabkota = _code(q.get("kabkota"), 2, "kabkota")
        if province and kabkota and not kabkota.startswith(province + "."):
            raise RequestError("kabkota does not lie in province")
        regions = narrow(consumer, kabkota or province)
        if regions is None:
            raise web.HTTPForbidden(reason="this consumer may not read that region")
        period = None
        if "period" in q:
            try:
                period = parse_period(q["period"])
            except ValueError as exc:
                raise RequestError(f"period: {exc}") from None
        since = _instant(q.get("changed_since"))
        where = ScanFilter(schema, allowed_classifications(consumer.clearance), regions, since)
        return where, period

    def _limit(self, request: web.Request) -> int:
        text = request.query.get("limit")
        if text is None:
            return self._settings.default_limit
        if not text.isdigit() or not 1 <= int(text) <= self._settings.max_limit:
            raise RequestError(f"limit must be 1-{self._settings.max_limit}")
        return int(text)

    # -- handlers ------------------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        consumer = self._consumer(request)
        schema = self._schema(request, consumer)
        where, period = self._filter(request, consumer, schema)
        limit = self._limit(request)
        after = parse_cursor(request.query["cursor"]) if request.query.get("cursor") else START
        view = partial(item_view, consumer=consumer, settings=self._settings)
        page = await read_page(self._reader, where, after, limit, view, period=period)
        next_cursor = None if page.next == START else str(page.next)
        log.info("feed_page", consumer=consumer.name, schema=schema, items=len(page.items), more=page.more)
        if NDJSON in request.headers.get("Accept", ""):
            headers = {"X-Has-More": "true" if page.more else "false"}
            if next_cursor is not None:
                headers["X-Next-Cursor"] = next_cursor
            body = b"".join(orjson.dumps(item) + b"\n" for item in page.items)
            return web.Response(body=body, content_type=NDJSON, headers=headers)
        return json_response({"items": page.items, "next_cursor": next_cursor, "has_more": page.more})

    async def live(self, request: web.Request) -> web.StreamResponse:
        consumer = self._consumer(request)
        schema = self._schema(request, consumer)
        where, period = self._filter(request, consumer, schema)
        resume = request.headers.get("Last-Event-ID") or request.query.get("cursor")
        position = parse_cursor(resume) if resume else await self._reader.tail(schema)
        response = web.StreamResponse(headers=_SSE_HEADERS)
        await response.prepare(request)
        view = partial(item_view, consumer=consumer, settings=self._settings)
        log.info("feed_live_started", consumer=consumer.name, schema=schema)
        sent = 0
        try:
            await response.write(b"retry: 2000\n\n")
            idle = 0.0
            poll = self._settings.live_poll_ms / 1000
            while not self._closing.is_set():
                page: Page = await read_page(self._reader, where, position, 500, view, period=period)
                for item in page.items:
                    await response.write(_event(item))
                    sent += 1
                position = page.next
                if page.items or page.more:
                    idle = 0.0
                    continue
                if idle >= self._settings.live_heartbeat_s:
                    await response.write(b": keepalive\n\n")
                    idle = 0.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), poll)
                idle += poll
        except (ConnectionResetError, asyncio.CancelledError):
            log.info("feed_live_ended", consumer=consumer.name, schema=schema, events=sent, by="client")
            raise
        log.info("feed_live_ended", consumer=consumer.name, schema=schema, events=sent, by="server")
        return response

    async def completeness(self, request: web.Request) -> web.Response:
        consumer = self._consumer(request)
        schema = self._schema(request, consumer)
        period = None
        if request.query.get("period"):
            try:
                period = parse_period(request.query["period"])
            except ValueError as exc:
                raise RequestError(f"period: {exc}") from None
        report = await self._completeness.report(schema, period)
        return json_response(report.as_dict())


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guard(handler: Handler) -> Handler:
    """An unreadable warehouse is a passing condition: 503 with Retry-After, not a 500."""

    @wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except SinkUnavailable as exc:
            return problem(503, "warehouse_unavailable", str(exc), retry_after=5)

    return guarded


def _event(item: dict[str, Any]) -> bytes:
    cursor = str(item["cursor"]).encode()
    return b"id: " + cursor + b"\nevent: record\ndata: " + orjson.dumps(item) + b"\n\n"


def _code(value: str | None, level: int, name: str) -> str | None:
    if not value:
        return None
    code = normalize_code(value)
    if code is None or code.count(".") + 1 != level:
        raise RequestError(f"{name} must be a {'province (32)' if level == 1 else 'kab/kota (32.01)'} code")
    return code


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    # A "+" left unencoded in a query string arrives as a space: "...T00:00:00 07:00".
    value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise RequestError("changed_since must be an ISO 8601 time with its offset") from None
    if instant.tzinfo is None:
        raise RequestError("changed_since must carry its offset (e.g. +07:00 or Z)")
    return instant
