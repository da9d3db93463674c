"""Scenario plumbing: a ledger-recording pull source with a durable cursor, node building, hard crashes.

``LedgerSource`` (kind ``ledger_source``) serves a *feed* registered in this process: batches of
ormas_registration items. It records every record it hands to the hub in the feed's ledger (S), keeps
its cursor (next batch index) in the node's ``StateStore``, written only from ``commit`` (after the
broker confirmed the whole batch), and can run a hook just before that commit, so a test can kill the
node "between confirm and cursor commit".

``crash(node)`` stops a node the way ``kill -9`` would, as far as the broker and the stores can tell:
its tasks are cancelled first (no commit, ack or publish runs afterwards), then its connections are
dropped without draining; nothing is flushed or acknowledged on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import importlib
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.sqlite_sink.sink import SqliteSink
from adapters.sqlite_sink.store import SqliteWarehouse
from hub.adapters import registry
from hub.adapters.model import AdapterContext, AdapterPlugin, SourceBatch
from hub.node import Node
from hub.settings import Settings
from tests.faults.ledger import Key, Ledger, Report, key_for
from tests.helpers import node_settings

SCHEMA = "ormas_registration"
SYSTEM = "ledger-src"
OFFICE = "32.01"
SOURCE = "ledger-src"

Hook = Callable[[int], Awaitable[None]]


def payload(n: int) -> dict[str, Any]:
    """A valid ormas_registration payload, distinct per ``n``."""
    data: dict[str, Any] = copy.deepcopy(importlib.import_module(f"schemas.payloads.{SCHEMA}").EXAMPLE)
    data["nama"] = f"Ormas Uji Ketahanan {n}"
    return data


@dataclass
class Feed:
    """What a ``LedgerSource`` serves: ``batches`` of (id, revision, data) items, and its ledger."""

    ledger: Ledger
    batches: list[list[tuple[str, int, dict[str, Any]]]] = field(default_factory=list)
    before_commit: Hook | None = None
    after_batch: Hook | None = None
    committed: list[int] = field(default_factory=list)

    def add(self, ids: list[str], revision: int = 1, batch_size: int = 20, start: int = 0) -> None:
        for i in range(0, len(ids), batch_size):
            self.batches.append(
                [(rid, revision, payload(start + i + j)) for j, rid in enumerate(ids[i : i + batch_size])]
            )


FEEDS: dict[str, Feed] = {}


class LedgerSourceConfig(BaseModel):
    """Config of ``LedgerSource``: the name of a feed registered in ``FEEDS``."""

    model_config = ConfigDict(extra="forbid")

    feed: str = Field(description="Key in tests.faults.harness.FEEDS")


class LedgerSource:
    """Serves its feed from the stored cursor on; records S; commits the cursor after confirms."""

    def __init__(self, config: LedgerSourceConfig, context: AdapterContext) -> None:
        self._feed = FEEDS[config.feed]
        self._ctx = context

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def cursor(self) -> int:
        return int(self._ctx.state.get(self._ctx.name, "cursor") or 0)

    async def read(self) -> AsyncIterator[SourceBatch]:
        feed = self._feed
        index = self.cursor()
        while index < len(feed.batches):
            items = feed.batches[index]
            records = [self._ctx.record(data, source_record_id=rid, revision=rev) for rid, rev, data in items]
            feed.ledger.offer(key_for(SCHEMA, SYSTEM, rid, rev) for rid, rev, _ in items)

            async def commit(index: int = index) -> None:
                if feed.before_commit is not None:
                    await feed.before_commit(index)
                self._ctx.state.put(self._ctx.name, "cursor", str(index + 1))
                feed.committed.append(index)

            yield SourceBatch(records, commit)
            if feed.after_batch is not None:
                await feed.after_batch(index)
            index += 1


PLUGIN = AdapterPlugin(
    name="ledger_source",
    role="source",
    summary="Fault-suite source: serves a registered feed, records what it offered (tests only)",
    config_model=LedgerSourceConfig,
    factory=lambda config, context: LedgerSource(config, context),
)


def source_entry(feed: str, name: str = SOURCE) -> dict[str, Any]:
    registry.register(PLUGIN)
    return {
        "name": name,
        "kind": "ledger_source",
        "schema": SCHEMA,
        "system": SYSTEM,
        "office": OFFICE,
        "config": {"feed": feed},
    }


def settings(
    tmp_path: Path, amqp_url: str, management_url: str, *, feed: str | None = None, **overrides: Any
) -> Settings:
    """Node settings for a fault scenario: short publish timeout, fast heartbeat, optional ledger source."""
    broker = {
        "url": amqp_url,
        "management_url": management_url,
        "publish_timeout_s": 5.0,
        "heartbeat_s": 5,
        **overrides.pop("broker", {}),
    }
    sources = [source_entry(feed)] if feed is not None else []
    return node_settings(
        tmp_path, broker=broker, sources=overrides.pop("sources", sources), shutdown_timeout_s=5, **overrides
    )


def make_node(config: Settings, ledger: Ledger) -> Node:
    """A node writing to the warehouse at ``config.sink.sqlite_path``, watched by ``ledger``."""
    node = Node(config, sink=SqliteSink(config.sink.sqlite_path))
    ledger.watch(node)
    return node


def warehouse(node_or_settings: Node | Settings) -> SqliteWarehouse:
    """The warehouse store of a running node."""
    assert isinstance(node_or_settings, Node)
    sink = node_or_settings.sink
    assert isinstance(sink, SqliteSink)
    return sink.store


def covered(ledger: Ledger, store: SqliteWarehouse) -> bool:
    """True once every offered key is applied (or superseded by a newer revision the sink saw)."""
    return ledger.check(store.applied_keys(), store.delivery_counts()).gaps == set() and bool(ledger.offered)


def done(node: Node, ledger: Ledger, store: SqliteWarehouse) -> bool:
    """True once every source of ``node`` has stopped and everything it offered is applied."""
    return all(r.state == "stopped" for r in node.runners) and covered(ledger, store)


def final_report(ledger: Ledger, config: Settings) -> Report:
    """Check the ledger against the warehouse file (opened afresh, after the node stopped)."""
    store = SqliteWarehouse(config.sink.sqlite_path)
    try:
        return ledger.check(store.applied_keys(), store.delivery_counts())
    finally:
        store.close()


async def wait_for(check: Callable[[], object], timeout: float, settle_s: float = 0.3) -> bool:
    """Poll ``check`` until it holds (and still holds ``settle_s`` later); False on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if check():
            await asyncio.sleep(settle_s)
            if check():
                return True
        await asyncio.sleep(0.05)
    return False


async def crash(node: Node) -> None:
    """Stop ``node`` abruptly: cancel every task first, then drop connections; no drain, no commit."""
    transport: Any = node.transport
    subs = list(getattr(transport, "_subscriptions", ()))
    tasks: list[asyncio.Task[Any]] = [
        *node._runner_tasks.values(),
        *node._parts.tasks,
        *list(node.publisher._sending),
        *[s.task for s in subs if s.task is not None],
    ]
    for task in tasks:
        task.cancel()
    transport._closing = True
    watcher = getattr(transport, "_watcher", None)
    if watcher is not None:
        watcher.cancel()
        tasks.append(watcher)
    for sub in subs:
        sub.stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for attr in ("_pub_conn", "_con_conn"):
        conn = getattr(transport, attr, None)
        setattr(transport, attr, None)
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)
    if node._http_runner is not None:
        with contextlib.suppress(Exception):
            await node._http_runner.cleanup()
    if node.sink is not None:
        with contextlib.suppress(Exception):
            await node.sink.close()
    for store in (node.quarantine_store, node.source_state, node.audit):
        with contextlib.suppress(Exception):
            store.close()


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:06d}" for i in range(n)]


def keys(prefix: str, n: int, revision: int = 1) -> list[Key]:
    return [key_for(SCHEMA, SYSTEM, rid, revision) for rid in ids(prefix, n)]


def clean_state(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


async def forever(_index: int) -> None:
    """A hook that never returns (the node is crashed while it waits)."""
    await asyncio.Event().wait()
