"""The feeds' PostgreSQL reader against the real server: paging stable under concurrent writers that
commit out of order, filters, tail and completeness rows. Each test uses its own schema."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from adapters.postgres_sink import PLUGIN, PostgresSink, PostgresSinkConfig, statements
from adapters.postgres_sink.reader import PostgresReader
from adapters.postgres_sink.rows import prepare
from hub.adapters.warehouse import START, FeedRow, ScanFilter
from hub.feeds.access import allowed_classifications
from hub.feeds.pager import read_page
from schemas.classification import Classification
from tests.unit.feeds.builders import feed_env

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
ALL = ScanFilter("ormas_registration", allowed_classifications(Classification.SANGAT_RAHASIA))


@pytest.fixture
async def config() -> AsyncIterator[PostgresSinkConfig]:
    name = f"simpul_f_{uuid.uuid4().hex[:10]}"
    try:
        yield PostgresSinkConfig(**PG, db_schema=name, pool_max=4)
    finally:
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await conn.close()


@pytest.fixture
async def sink(config: PostgresSinkConfig) -> AsyncIterator[PostgresSink]:
    s = PostgresSink(config)
    await s.start()
    yield s
    await s.close()


@pytest.fixture
async def reader(config: PostgresSinkConfig) -> AsyncIterator[PostgresReader]:
    r = PostgresReader(config)
    yield r
    await r.close()


def _key(row: FeedRow) -> str:
    return str(row.envelope["record_key"])


async def test_paging_is_stable_under_concurrent_writers(
    sink: PostgresSink, reader: PostgresReader, config: PostgresSinkConfig
) -> None:
    """Four writers commit 400 records while a reader pages 7 at a time; a fifth sink transaction takes
    its id first and commits last. The reader returns nothing past it while it is open, then every record
    exactly once, the late committer included (a plain sequence would have skipped it)."""
    slow_env = feed_env(rid="SLOW", kode="32.01")
    others_done = asyncio.Event()
    slow_open = asyncio.Event()
    seen: list[str] = []
    cursor = START

    async def slow_writer() -> None:
        conn = await asyncpg.connect(**PG)
        try:
            sql = statements.build(config.db_schema)
            # As the sink does: BEGIN with the writers' shared advisory lock, then it writes (and so has
            # an id).
            await conn.execute(statements.begin(sql.lock_class, "pglz"))
            await conn.fetchval("SELECT pg_current_xact_id()")  # its id is now older than the others'
            slow_open.set()
            await others_done.wait()
            await conn.execute(sql.upsert, *zip(prepare(slow_env).values, strict=True))
            await asyncio.sleep(0.2)  # the reader pages meanwhile
            await conn.execute("COMMIT")
        finally:
            await conn.close()

    async def writer(n: int) -> None:
        for batch in range(10):
            await sink.write([feed_env(rid=f"W{n}-{batch}-{i}", kode="32.01") for i in range(10)])

    slow = asyncio.create_task(slow_writer())
    await slow_open.wait()
    writers = asyncio.gather(*(writer(n) for n in range(4)))
    while not writers.done():
        page = await read_page(reader, ALL, cursor, 7, _key)
        seen += page.items
        cursor = page.next
        await asyncio.sleep(0.005)
    await writers
    others_done.set()
    page = await read_page(reader, ALL, cursor, 1000, _key)
    assert seen == [] and page.items == []  # held back behind the open, older transaction
    await slow
    while True:
        page = await read_page(reader, ALL, cursor, 7, _key)
        seen += page.items
        cursor = page.next
        if not page.more:
            break
    assert len(seen) == len(set(seen)) == 401
    assert slow_env.record_key in seen


async def test_paging_while_writes_interleave(sink: PostgresSink, reader: PostgresReader) -> None:
    """Without a long transaction the reader keeps up page by page: 300 records, each once, in order of
    their change position."""
    seen: list[str] = []
    positions = []
    cursor = START

    async def writer(n: int) -> None:
        for batch in range(15):
            await sink.write([feed_env(rid=f"I{n}-{batch}-{i}", kode="32.01") for i in range(10)])
            await asyncio.sleep(0.003)

    writers = asyncio.gather(*(writer(n) for n in range(2)))
    pages_during = 0
    while not writers.done():
        page = await read_page(reader, ALL, cursor, 5, _key)
        seen += page.items
        positions.append(page.next)
        cursor = page.next
        pages_during += 1
        await asyncio.sleep(0.002)
    await writers
    while (page := await read_page(reader, ALL, cursor, 50, _key)).items:
        seen += page.items
        cursor = page.next
    assert pages_during > 5 and len(seen) == len(set(seen)) == 300
    assert positions == sorted(positions)


async def test_filters_tail_and_report_rows(sink: PostgresSink, reader: PostgresReader) -> None:
    """Region prefixes, classification and changed_since filter in the query; tail is the newest row;
    report_rows lists active records with their first application time."""
    await sink.write(
        [
            feed_env(rid="A", kode="32.01"),
            feed_env(rid="B", kode="33.01"),
            feed_env(rid="C", kode="32.01.05", classification=Classification.RAHASIA),
        ]
    )
    jabar = ScanFilter("ormas_registration", allowed_classifications(Classification.TERBATAS), ("32",))
    rows = await reader.scan(jabar, START, 10)
    assert [r.kode_wilayah for r in rows] == ["32.01"]
    secret = ScanFilter("ormas_registration", allowed_classifications(Classification.RAHASIA), ("32.01",))
    assert {r.kode_wilayah for r in await reader.scan(secret, START, 10)} == {"32.01", "32.01.05"}
    newest = max(r.position for r in await reader.scan(ALL, START, 10))
    assert await reader.tail("ormas_registration") == newest
    assert await reader.tail("early_warning") == START
    future = ScanFilter(ALL.schema, ALL.classifications, changed_since=rows[0].applied_at.replace(year=2100))
    assert await reader.scan(future, START, 10) == []
    report = await reader.report_rows("ormas_registration")
    assert len(report) == 3 and all(r.first_applied_at is not None and r.reported_at for r in report)


async def test_other_transactions_do_not_hold_the_feed_back(
    sink: PostgresSink, reader: PostgresReader
) -> None:
    """An open transaction that wrote elsewhere on the server (older than the sink's) does not delay the
    feed: only warehouse writers, recognised by the sink's advisory lock class, do."""
    conn = await asyncpg.connect(**PG)
    try:
        async with conn.transaction():
            await conn.execute("CREATE TEMP TABLE elsewhere (x int)")
            await conn.execute("INSERT INTO elsewhere VALUES (1)")  # an id, older than the write below
            await sink.write([feed_env(rid="VISIBLE", kode="32.01")])
            rows = await reader.scan(ALL, START, 10)
            assert [r.envelope["source_record_id"] for r in rows] == ["VISIBLE"]
    finally:
        await conn.close()


async def test_read_only_trace_answers_as_the_sink(sink: PostgresSink, config: PostgresSinkConfig) -> None:
    """``PLUGIN.open_trace`` (``simpul lineage --config``) reads the applied log over its own pool: the
    same answer as the sink's ``trace``; an unknown message id is None."""
    record = feed_env(rid="T-1", kode="32.01")
    await sink.write([record])
    assert PLUGIN.open_trace is not None
    reader = PLUGIN.open_trace(config, Path("unused"), "central")
    try:
        assert reader is not None and reader.name == "central"
        found = await reader.trace(record.message_id)
        assert found is not None and found["status"] == "applied"
        assert found == await sink.trace(record.message_id)
        assert await reader.trace("nope") is None
    finally:
        await reader.close()
