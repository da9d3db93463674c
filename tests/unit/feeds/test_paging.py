"""Keyset paging over the SQLite warehouse while a writer inserts: every record seen exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.sqlite_sink import SqliteWarehouse
from adapters.sqlite_sink.reader import SqliteReader
from hub.adapters.warehouse import START, FeedRow, ScanFilter, parse_cursor
from hub.feeds.access import allowed_classifications
from hub.feeds.pager import read_page
from schemas.classification import Classification
from tests.unit.feeds.builders import feed_env

ALL = ScanFilter("ormas_registration", allowed_classifications(Classification.SANGAT_RAHASIA))


def _key(row: FeedRow) -> str:
    return str(row.envelope["record_key"])


async def test_paging_is_stable_under_concurrent_inserts(tmp_path: Path) -> None:
    """A writer commits 40 batches of 25 while a reader pages 7 at a time from the cursor it was given;
    after the writer stops, the reader drains: 1,000 records, none missed, none repeated, in order."""
    wh = SqliteWarehouse(tmp_path / "wh.db")
    reader = SqliteReader(tmp_path / "wh.db")
    written: list[str] = []

    async def writer() -> None:
        for batch in range(40):
            envs = [feed_env(rid=f"W-{batch}-{i}", kode="32.01") for i in range(25)]
            await asyncio.to_thread(wh.apply, envs)
            written.extend(e.record_key for e in envs)
            await asyncio.sleep(0.002)

    seen: list[str] = []
    positions = []
    cursor = START
    task = asyncio.create_task(writer())
    pages_during_writes = 0
    while True:
        done = task.done()
        page = await read_page(reader, ALL, cursor, 7, _key)
        seen += page.items
        positions.append(page.next)
        cursor = page.next
        pages_during_writes += 0 if done else 1
        if done and not page.more:
            break
        await asyncio.sleep(0)
    await task
    wh.close()
    await reader.close()
    assert pages_during_writes > 10  # the reader really paged while writes happened
    assert len(seen) == len(set(seen)) == 1000
    assert seen == written  # change order is commit order
    assert positions == sorted(positions)


async def test_a_rewritten_record_moves_to_the_end(tmp_path: Path) -> None:
    """A newer revision of a record already read appears again after the cursor (it is a new change);
    one not yet read appears once, in its newest revision."""
    wh = SqliteWarehouse(tmp_path / "wh.db")
    reader = SqliteReader(tmp_path / "wh.db")
    wh.apply([feed_env(rid=r) for r in ("a", "b", "c")])
    first = await read_page(reader, ALL, START, 1, lambda row: row.revision)
    wh.apply([feed_env(rid="a", revision=2), feed_env(rid="c", revision=2)])
    rest = await read_page(
        reader, ALL, first.next, 10, lambda row: (row.envelope["source_record_id"], row.revision)
    )
    wh.close()
    await reader.close()
    assert rest.items == [("b", 1), ("a", 2), ("c", 2)]
    assert parse_cursor(str(first.next)) == first.next
