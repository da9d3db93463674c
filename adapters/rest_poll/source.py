"""The ``rest_poll`` source: poll a JSON list endpoint, one ``SourceBatch`` per page.

A cycle starts from the committed cursor C (or none), asks for records changed since C minus the
overlap, walks the pages, and keeps only records after C in (updated_at, id) order. Each page becomes
one batch whose commit advances the cursor to the page's greatest key (never backwards). Records keep
their raw shape; ``source_record_id`` and ``revision`` (updated_at in epoch ms) are set when ``id_path``
and ``updated_at_path`` are configured, else the mapping must set them.

Failures: a request that keeps failing raises ``SourceUnavailable`` (the runner backs off and calls
``read`` again, which resumes from the committed cursor); refused credentials raise ``FatalError``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timezone
from typing import Any

import structlog
from yarl import URL

from adapters.rest_poll.client import JsonClient, Page
from adapters.rest_poll.config import RestPollConfig
from adapters.rest_poll.cursor import CursorKey, CursorStore
from adapters.rest_poll.fields import epoch_ms, format_since, get_path, parse_offset
from hub.adapters.model import AdapterContext, SourceBatch
from hub.errors import SourceUnavailable
from hub.model.records import SourceRecord

log = structlog.get_logger(__name__)
# A page asked for this many times in one cycle means the server's paging does not advance.
_MAX_SAME_PAGE = 3
# Pages without new records may be walked past up to this many times max_pages_per_cycle.
_SEEN_PAGES_FACTOR = 10


class RestPollSource:
    """Polls one REST API; see the module docstring for the contract."""

    def __init__(self, config: RestPollConfig, context: AdapterContext) -> None:
        self.config = config
        self._context = context
        self._client = JsonClient(config, context.name)
        self._cursor = CursorStore(context.state, context.name)
        self._tz = parse_offset(config.source_utc_offset)
        # Concatenated, not RFC-joined: a base URL with a path prefix (http://host/sitimdu) keeps it.
        self._url = URL(config.base_url.rstrip("/") + "/" + config.path.lstrip("/"))
        self.cycles = 0
        # For cursor_lag_seconds(): the newest (updated_at) the source has shown, the committed cursor's,
        # and whether the last cycle stopped at max_pages_per_cycle with pages left unread.
        self._newest_seen_ms: int | None = None
        self._committed_ms: int | None = None
        self._oldest_seen_ms: int | None = None  # before the first commit, the lag is measured from it
        self._capped = False

    def cursor_lag_seconds(self) -> float | None:
        """How far the committed cursor is behind the source: the newest ``updated_at`` seen at the source
        minus the committed cursor's; while a cycle was capped with pages left, at least now minus the
        cursor (the unread pages are newer). 0 when caught up; None before the first page or without a
        cursor (no ``[cursor]`` or no ``updated_at_path``). Called at scrape time: no I/O."""
        if self._newest_seen_ms is None:
            return None
        committed = self._committed_ms if self._committed_ms is not None else self._oldest_seen_ms
        committed = self._newest_seen_ms if committed is None else committed
        lag_ms = max(0, self._newest_seen_ms - committed)
        if self._capped and self._committed_ms is not None:
            lag_ms = max(lag_ms, int(time.time() * 1000) - self._committed_ms)
        return lag_ms / 1000

    @property
    def requests(self) -> int:
        """HTTP requests made so far (retries included)."""
        return self._client.requests

    async def start(self) -> None:
        await self._client.start()

    async def stop(self) -> None:
        await self._client.close()

    async def read(self) -> AsyncIterator[SourceBatch]:
        """Poll cycles: one (``once``) or forever, ``poll_interval_s`` apart."""
        while True:
            async for batch in self._cycle():
                yield batch
            self.cycles += 1
            if self.config.once:
                return
            await asyncio.sleep(self.config.poll_interval_s)

    async def _cycle(self) -> AsyncIterator[SourceBatch]:
        """One sweep from the committed cursor. Pages holding only records confirmed before (the overlap
        window, a big group sharing one timestamp) do not count towards ``max_pages_per_cycle`` (up to
        ten times it), so a cycle always makes progress past such a group."""
        start = await asyncio.to_thread(self._cursor.load)
        if start is not None:
            self._committed_ms = start.updated_ms
        self._capped = False
        url, params = self._url, self._first_params(start)
        seen: dict[str, int] = {}
        limit, useful, fetched = self.config.max_pages_per_cycle, 0, 0
        while useful < limit and fetched < limit * _SEEN_PAGES_FACTOR:
            where = str(url.with_query(params)) if params else str(url)
            seen[where] = seen.get(where, 0) + 1
            if seen[where] > _MAX_SAME_PAGE:
                raise SourceUnavailable(f"paging does not advance: a page was asked {_MAX_SAME_PAGE} times")
            page = await self._client.get(url, params, check=self._check)
            fetched += 1
            raw_records = self._records_of(page)
            records, newest = self._new_records(raw_records, start)
            log.info(
                "poll_page_fetched",
                adapter=self._context.name,
                page=fetched,
                received=len(raw_records),
                new=len(records),
            )
            if records:
                useful += 1
                yield SourceBatch(records, self._committer(newest))
            following = self._next(page, params, len(raw_records))
            if following is None:
                return
            url, params = following
        self._capped = True
        log.info("poll_cycle_capped", adapter=self._context.name, pages=fetched, pages_with_new=useful)

    def _first_params(self, cursor: CursorKey | None) -> dict[str, str]:
        cfg = self.config
        params = dict(cfg.params)
        if cfg.paging.mode == "page":
            params[cfg.paging.page_param] = str(cfg.paging.first_page)
        if cfg.paging.mode != "none" and cfg.paging.size_param:
            params[cfg.paging.size_param] = str(cfg.paging.page_size)
        if cfg.cursor is not None:
            if cursor is not None:
                since_ms = max(0, cursor.updated_ms - int(cfg.cursor.overlap_s * 1000))
                params[cfg.cursor.param] = format_since(since_ms, cfg.cursor.format, self._tz)
            elif cfg.cursor.initial is not None:
                params[cfg.cursor.param] = cfg.cursor.initial
        return params

    def _check(self, body: Any) -> None:
        """Refuse a legacy ``status: false`` answer unless its message means "no data"."""
        cfg = self.config
        if cfg.status_path is None or get_path(body, cfg.status_path) not in (False, 0, "false", "0"):
            return
        message = get_path(body, cfg.message_path)
        empty = {m.casefold() for m in cfg.empty_messages}
        if not (isinstance(message, str) and message.strip().casefold() in empty):
            # The message itself is not logged or raised: free text from the source system.
            raise SourceUnavailable("the API answered status=false with an error message")

    def _records_of(self, page: Page) -> list[Any]:
        return page_records(page.body, self.config)

    def _new_records(
        self, raw_records: list[Any], start: CursorKey | None
    ) -> tuple[list[SourceRecord], CursorKey | None]:
        """Records after the cycle's starting cursor, and the greatest key among them."""
        cfg = self.config
        records: list[SourceRecord] = []
        newest: CursorKey | None = None
        for raw in raw_records:
            record = source_record(raw, cfg, self._tz, self._context.record)
            rid, revision = record.source_record_id, record.revision
            key = CursorKey(revision, rid) if rid is not None and revision is not None else None
            if cfg.cursor is not None and key is not None:
                if self._newest_seen_ms is None or key.updated_ms > self._newest_seen_ms:
                    self._newest_seen_ms = key.updated_ms
                if self._oldest_seen_ms is None or key.updated_ms < self._oldest_seen_ms:
                    self._oldest_seen_ms = key.updated_ms
                if not key.after(start):
                    continue  # already confirmed in an earlier cycle (the overlap window)
                if key.after(newest):
                    newest = key
            records.append(record)
        return records, newest

    def _committer(self, newest: CursorKey | None) -> Callable[[], Awaitable[None]]:
        async def commit() -> None:
            if newest is not None:
                stored = await self._cursor.advance(newest)
                self._committed_ms = stored.updated_ms
                log.info("poll_cursor_committed", adapter=self._context.name, updated_ms=stored.updated_ms)

        return commit

    def _next(self, page: Page, params: dict[str, str], received: int) -> tuple[URL, dict[str, str]] | None:
        """The next request of this cycle, or None when the cycle is complete."""
        paging = self.config.paging
        if paging.mode == "none" or received == 0:
            return None
        if paging.mode == "page":
            if paging.next_page_path is not None:
                number = get_path(page.body, paging.next_page_path)
                if isinstance(number, bool) or not str(number or "").strip().isdigit():
                    return None
                following = int(str(number).strip())
            elif received < paging.page_size:
                return None
            else:
                following = int(params[paging.page_param]) + 1
            return self._url, {**params, paging.page_param: str(following)}
        link = get_path(page.body, paging.next_path) if paging.next_path else None
        if not link and paging.link_header and "next" in page.links:
            link = str(page.links["next"]["url"])
        if not isinstance(link, str) or not link.strip():
            return None
        return page.url.join(URL(link.strip())), {}


def page_records(body: Any, config: RestPollConfig) -> list[Any]:
    """The record list of a page body at ``data_path``; ``SourceUnavailable`` when there is none."""
    data = get_path(body, config.data_path)
    if data is None and config.status_path is not None:
        return []  # "status": false, "data": null is the legacy apps' empty answer (checked by the caller)
    if not isinstance(data, list):
        raise SourceUnavailable(f"the body has no list at {config.data_path or 'the top level'!r}")
    return data


def source_record(
    raw: Any, config: RestPollConfig, tz: timezone, make: Callable[..., SourceRecord]
) -> SourceRecord:
    """The ``SourceRecord`` of one listed item: id and revision (updated_at in epoch ms) when configured."""
    if not isinstance(raw, dict):
        raw = {"value": raw}  # still offered: the mapping quarantines it, nothing is dropped
    rid = _text_id(get_path(raw, config.id_path)) if config.id_path else None
    revision = epoch_ms(get_path(raw, config.updated_at_path), tz) if config.updated_at_path else None
    return make(raw, source_record_id=rid, revision=revision)


def _text_id(value: Any) -> str | None:
    """A record id as text; None for a missing, empty, boolean or structured value."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text or None
