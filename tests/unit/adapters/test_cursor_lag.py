"""cursor_lag_seconds() of rest_poll and sql_poll: None before a page, > 0 while behind, 0 when caught up;
and the node's scrape turns it into simpul_adapter_cursor_lag_seconds."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from adapters.rest_poll.simulator import ConflictApi
from adapters.rest_poll.source import RestPollSource
from adapters.sql_poll.source import SqlPollSource
from tests.unit.adapters.test_rest_poll import _config, _context
from tests.unit.adapters.test_rest_poll import api as api
from tests.unit.adapters.test_sql_poll import FakeDb, _ctx, _row, cfg
from tests.unit.adapters.test_sql_poll import fake_db as fake_db


async def test_rest_poll_lag_while_behind_and_zero_when_caught_up(api: ConflictApi, tmp_path: Path) -> None:
    """Capped cycles leave pages unread: lag > 0 (at least now - cursor); the last cycle brings it to 0."""
    context = _context(tmp_path)
    config = _config(api, max_pages_per_cycle=2)
    source = RestPollSource(config, context)
    assert source.cursor_lag_seconds() is None
    await source.start()
    try:
        async for batch in source.read():
            await batch.commit()
        first = source.cursor_lag_seconds()
        assert first is not None and first > 3600  # the simulator's records are from 2024
        for _ in range(5):
            async for batch in source.read():
                await batch.commit()
    finally:
        await source.stop()
    assert source.cursor_lag_seconds() == 0.0


async def test_rest_poll_lag_counts_an_unconfirmed_page(api: ConflictApi, tmp_path: Path) -> None:
    """A page read but not yet confirmed (no commit): the lag spans the records it showed."""
    source = RestPollSource(_config(api), _context(tmp_path))
    await source.start()
    try:
        batches = source.read()
        await batches.__anext__()
        lag = source.cursor_lag_seconds()
        await batches.aclose()  # type: ignore[attr-defined]  # read() is an async generator
    finally:
        await source.stop()
    assert lag is not None and lag > 0


async def test_sql_poll_lag(tmp_path: Path, fake_db: FakeDb) -> None:
    """Full pages: now minus the committed change time; the short last page: 0; a restart knows the cursor."""
    t = datetime(2024, 7, 1, 10, 0, 0)
    fake_db.rows = [_row(i, t) for i in range(1, 6)]
    source = SqlPollSource(cfg(batch_size=2), _ctx(tmp_path))
    assert source.cursor_lag_seconds() is None
    lags = []
    async for batch in source.read():
        await batch.commit()
        lags.append(source.cursor_lag_seconds())
    assert lags[0] is not None and lags[0] > 3600
    assert source.cursor_lag_seconds() == 0.0


async def test_a_node_scrape_shows_the_rest_poll_lag(api: ConflictApi, tmp_path: Path) -> None:
    """A node running the rest_poll source (memory broker): after the poll /metrics carries its lag."""
    import tomllib

    import aiohttp

    from hub.node import Node
    from hub.transport.factory import topology_for
    from hub.transport.memory import MemoryTransport
    from tests.helpers import node_settings, until

    root = Path(__file__).parents[3]
    mapping = tomllib.loads((root / "ops/examples/sitimdu_conflict.toml").read_text(encoding="utf-8"))
    config = _config(api).model_dump(mode="json")
    config["auth"]["value"] = api.api_key
    entry = {"name": "sitimdu-bogor", "kind": "rest_poll", "schema": "conflict_incident",
             "system": "sitimdu-bogor", "office": "32.01", "config": config,
             "mapping": mapping["sources"][0]["mapping"]}  # fmt: skip
    settings = node_settings(tmp_path, sources=[entry])
    async with Node(settings, transport=MemoryTransport(topology_for(settings))) as node:
        await until(lambda: all(r.state == "stopped" for r in node.runners), timeout=20)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{node.http_port}/metrics") as resp,
        ):
            text = await resp.text()
    assert 'simpul_adapter_cursor_lag_seconds{adapter="sitimdu-bogor"} 0.0' in text
