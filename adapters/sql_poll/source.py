"""The ``sql_poll`` source: pages through a table by an incremental cursor on (change time, key).

Each page is one ``SourceBatch``; its commit stores the (change time, key) of its last row in the source
state, so after a restart polling resumes right after the last confirmed row: nothing skipped, and at
most the unconfirmed page sent again (same ids and revisions, so the warehouse sees duplicates). A row is
``op="withdraw"`` when its soft-delete column is set. The generator resumes only after the runner has
committed the batch it yielded, so the in-memory cursor never runs ahead of the stored one; a retried
read (after ``SourceUnavailable``) starts again from the stored cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from adapters.sql_poll import clients, query
from adapters.sql_poll.config import SqlPollConfig
from adapters.sql_poll.values import aware, convert, json_default, micros
from hub.adapters.model import AdapterContext, SourceBatch
from hub.model.records import SourceRecord

log = structlog.get_logger(__name__)
Cursor = tuple[Any, Any]
_KEY = "cursor"


def dump_cursor(cursor: Cursor) -> str:
    """The cursor as stored: the change time in ISO form (naive or aware, as the column is) and the key."""
    changed, key = cursor
    return orjson.dumps({"changed": changed.isoformat(), "key": key}, default=json_default).decode()


def load_cursor(text: str | None) -> Cursor | None:
    """The stored cursor, or None before the first commit."""
    if not text:
        return None
    data = orjson.loads(text)
    return datetime.fromisoformat(data["changed"]), data["key"]


class SqlPollSource:
    """Polls ``config.table`` (or ``config.query``); see the module docstring for the contract."""

    def __init__(self, config: SqlPollConfig, context: AdapterContext) -> None:
        self._config = config
        self._context = context
        self._query = query.build(config)
        self._client: clients.Client | None = None
        self._stopping = asyncio.Event()
        # For cursor_lag_seconds(): the committed cursor's change time, and whether the last page was
        # full (more rows wait) or not (the poll reached the end of the table).
        self._committed_at: datetime | None = None
        self._backlog: bool | None = None

    def cursor_lag_seconds(self) -> float | None:
        """How far the committed cursor is behind the table: 0 when the last page came back short (every
        row up to the settle window is read); while full pages keep coming, now minus the committed
        cursor's change time. None before the first page. Called at scrape time: no I/O."""
        if self._backlog is None:
            return None
        if not self._backlog or self._committed_at is None:
            return 0.0
        return max(0.0, (datetime.now(UTC) - self._committed_at).total_seconds())

    async def start(self) -> None:
        # Nothing to open yet: a database that is down at start is a back-off in read(), not a crash.
        return None

    async def stop(self) -> None:
        self._stopping.set()
        await self._disconnect()

    async def _disconnect(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                await client.close()

    async def _fetch(self, cursor: Cursor | None) -> list[dict[str, Any]]:
        if self._client is None:
            self._client = await clients.connect(self._config)
        sql, params = self._query.params(cursor, self._config.batch_size)
        try:
            return await self._client.fetch(sql, params)
        except BaseException:
            await self._disconnect()  # a broken or timed-out connection is not reused
            raise

    async def read(self) -> AsyncGenerator[SourceBatch, None]:
        cfg, name, state = self._config, self._context.name, self._context.state
        cursor = load_cursor(await asyncio.to_thread(state.get, name, _KEY))
        if cursor is not None:
            self._committed_at = aware(cursor[0], cfg.tz)
        while not self._stopping.is_set():
            rows = await self._fetch(cursor)
            self._backlog = len(rows) >= cfg.batch_size
            if rows:
                last: Cursor = (rows[-1][query.CHANGED], rows[-1][cfg.key_column])
                records = [self._record(row) for row in rows]
                log.info("poll_page_fetched", adapter=name, rows=len(rows), withdrawals=_withdrawals(records))

                async def commit(last: Cursor = last) -> None:
                    await asyncio.to_thread(state.put, name, _KEY, dump_cursor(last))
                    self._committed_at = aware(last[0], cfg.tz)

                yield SourceBatch(records, commit)
                cursor = last  # resumed only after the commit above ran
                continue
            if cfg.stop_when_idle:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), cfg.poll_interval_s)

    def _record(self, row: dict[str, Any]) -> SourceRecord:
        return row_record(row, self._config, self._context.record)


def row_record(row: dict[str, Any], config: SqlPollConfig, make: Callable[..., SourceRecord]) -> SourceRecord:
    """The ``SourceRecord`` of one fetched row (``row`` holds the query's change-time column too)."""
    zone = config.tz
    changed = aware(row[query.CHANGED], zone)
    raw = {column: convert(value, zone) for column, value in row.items() if column != query.CHANGED}
    marker = raw.get(config.deleted_at_column) if config.deleted_at_column else None
    # A MySQL zero date ("0000-00-00 00:00:00", returned as text) in the soft-delete column means not deleted.
    deleted = marker is not None and not (isinstance(marker, str) and marker.startswith("0000-00-00"))
    # A row never stamped (NULL or zero-date change columns) gets the query's epoch fallback, which in a
    # zone east of UTC lies before 1970: revision 0 (any later stamp outranks it), no report time.
    stamped = micros(changed) > 0
    if config.revision_column is None:
        revision: int | None = micros(changed) if stamped else 0
    else:
        value = raw.get(config.revision_column)
        revision = value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
    return make(
        raw,
        source_record_id=str(raw[config.key_column]),
        revision=revision,
        op="withdraw" if deleted else "upsert",
        reported_at=changed if stamped else None,
        # Kept (sealed) by the quarantine for redrive: Decimals as exact strings, instants with offset.
        original=orjson.dumps(raw, default=json_default),
    )


def _withdrawals(records: list[SourceRecord]) -> int:
    return sum(1 for r in records if r.op == "withdraw")
