"""The ``soap`` source: reads a SOAP operation window by window, from ``start_date`` up to today.

Windows are half-open date ranges ``[start, end)`` of ``window_days``; the last one ends tomorrow, so it
holds today. A window is offered in batches of ``batch_size``; only the commit of its **last** batch
stores the cursor, i.e. the cursor is the end of the last window whose every record was confirmed. The
window that holds today is not finished (records may still change today), so its commit stores *today*
and the next poll reads today again: the records already sent come back with the same revision and are
duplicates downstream, which is harmless. After catching up, the source sleeps ``poll_interval_s`` (or
ends, with ``once``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import structlog

from adapters.soap.client import SoapClient
from adapters.soap.config import SoapSourceConfig
from adapters.soap.xml import lookup
from hub.adapters.model import AdapterContext, SourceBatch
from hub.model.records import SourceRecord, revision_of

log = structlog.get_logger(__name__)

CURSOR_KEY = "window_end"


class SoapSource:
    """A ``SourceAdapter`` over one SOAP operation. ``today`` may be injected (tests)."""

    def __init__(
        self,
        config: SoapSourceConfig,
        context: AdapterContext,
        *,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._config = config
        self._context = context
        self._zone = ZoneInfo(config.timezone)
        self._today = today or (lambda: datetime.now(self._zone).date())
        self._session: aiohttp.ClientSession | None = None
        self._client: SoapClient | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._client = SoapClient(self._config, self._session)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def cursor(self) -> date:
        """Where the next window starts: the stored cursor, or ``start_date``."""
        stored = self._context.state.get(self._context.name, CURSOR_KEY)
        return date.fromisoformat(stored) if stored else self._config.start_date

    async def read(self) -> AsyncIterator[SourceBatch]:
        """Batches of every window from the cursor to today, then again every ``poll_interval_s``."""
        assert self._client is not None, "start() first"
        while True:
            start, today = self.cursor(), self._today()
            while start <= today:
                end = min(start + timedelta(days=self._config.window_days), today + timedelta(days=1))
                records = await self._client.fetch(start, end)
                async for batch in self._batches(records, keep=min(end, today)):
                    yield batch
                start = end
            if self._config.once:
                return
            await asyncio.sleep(self._config.poll_interval_s)

    async def _batches(self, raws: list[dict[str, Any]], keep: date) -> AsyncIterator[SourceBatch]:
        size = self._config.batch_size
        chunks = [raws[i : i + size] for i in range(0, len(raws), size)] or [[]]

        async def advance() -> None:
            await asyncio.to_thread(self._context.state.put, self._context.name, CURSOR_KEY, keep.isoformat())
            log.info("soap_cursor_committed", adapter=self._context.name, cursor=keep.isoformat())

        for index, chunk in enumerate(chunks):
            records = [self._record(raw) for raw in chunk]
            if index == len(chunks) - 1:
                yield SourceBatch(records, advance)
            else:
                yield SourceBatch(records)

    def _record(self, raw: dict[str, Any]) -> SourceRecord:
        return source_record(raw, self._config, self._zone, self._context.record)


def source_record(
    raw: dict[str, Any], config: SoapSourceConfig, zone: ZoneInfo, make: Callable[..., SourceRecord]
) -> SourceRecord:
    """The ``SourceRecord`` of one parsed record: id, revision and withdrawal from the configured paths
    (a nil or absent id or revision is None, for the mapping to supply or quarantine)."""
    rid = lookup(raw, config.id_field)
    revision = revision_of(lookup(raw, config.revision_field), zone) if config.revision_field else None
    withdrawn = (
        config.withdraw_field is not None and lookup(raw, config.withdraw_field) in config.withdraw_values
    )
    return make(
        raw,
        source_record_id=str(rid).strip() if isinstance(rid, str | int) and str(rid).strip() else None,
        revision=revision,
        op="withdraw" if withdrawn else "upsert",
    )
