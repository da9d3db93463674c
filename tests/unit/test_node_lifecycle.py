"""One lifecycle: ``Node(...)`` opens nothing, a start that fails half-way closes what it opened (no
file descriptor, SQLite handle or task left), and ``stop`` unwinds in the documented order."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from hub.adapters import registry
from hub.adapters.model import AdapterPlugin, SourceBatch
from hub.consume.consumer import BatchConsumer
from hub.errors import BrokerUnavailable
from hub.ingest.publisher import BatchingPublisher
from hub.node import Node
from hub.quarantine.store import QuarantineStore
from hub.testing.fakes import FakeSink, FakeSinkConfig, fake_source_plugin
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from tests.helpers import item, node_settings, until
from tests.unit.test_source_runner import _source_entry


def open_fds() -> dict[int, str]:
    """This process's open file descriptors and what they point at (Linux ``/proc``)."""
    fds: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except FileNotFoundError:  # the descriptor listdir itself used, closed meanwhile
            continue
    return fds


def other_tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


def assert_closed(conn: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        conn.execute("SELECT 1")


class ExplodingSink(FakeSink):
    """A sink adapter whose start fails (a warehouse that refuses the connection)."""

    name = "exploding"

    async def start(self) -> None:
        raise BrokerUnavailable("the sink's database refused the connection")


exploding_sink_plugin = AdapterPlugin(
    name="exploding_sink",
    role="sink",
    summary="A sink whose start raises (tests)",
    config_model=FakeSinkConfig,
    factory=lambda _config, _context: ExplodingSink(),
)


class RefusingTransport(MemoryTransport):
    """A memory broker whose start fails after it began (a topology error on a live connection)."""

    closed_calls = 0

    async def start(self) -> None:
        await super().start()
        raise BrokerUnavailable("the broker refused the topology")

    async def close(self) -> None:
        self.closed_calls += 1
        await super().close()


@pytest.fixture(autouse=True)
def _plugins() -> None:
    registry.register(fake_source_plugin)
    registry.register(exploding_sink_plugin)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _source(name: str) -> dict[str, Any]:
    return _source_entry(name, [[item("ormas_registration", "L1")]])


async def test_constructing_a_node_opens_nothing(tmp_path: Path) -> None:
    """No state directory, file, descriptor or task until start; the stores answer only after it."""
    settings = node_settings(tmp_path, sources=[_source("src")])
    fds, tasks = open_fds(), other_tasks()
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    assert open_fds() == fds and other_tasks() == tasks
    assert not settings.state_dir.exists() and not settings.sink.sqlite_path.exists()
    for name in ("quarantine_store", "source_state", "audit", "pipeline", "redriver"):
        with pytest.raises(RuntimeError, match=r"opened by Node\.start\(\)"):
            getattr(node, name)
    await node.stop()  # never started: nothing to close, no error
    async with node:
        assert node.quarantine_store.count() == 0
        assert settings.sink.sqlite_path.exists()  # the warehouse sink, built through the registry
        assert node.sink is not None and node.sink.name == "sqlite_warehouse"


async def test_a_node_starts_once(tmp_path: Path) -> None:
    """After ``stop``, and after a start that failed, the node's sinks and stores are closed: starting the
    same object again is refused with the way out, instead of running on a closed warehouse."""
    settings = node_settings(tmp_path, sources=[_source("src")])
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    async with node:
        with pytest.raises(RuntimeError, match="already started"):
            await node.start()
    with pytest.raises(RuntimeError, match="a node starts once: build a new Node"):
        await node.start()
    failed = Node(settings, transport=RefusingTransport(topology_for(settings)))
    with pytest.raises(BrokerUnavailable):
        await failed.start()
    with pytest.raises(RuntimeError, match="starts once"):
        await failed.start()
    async with Node(settings, transport=MemoryTransport(topology_for(settings))) as again:
        assert again.sink is not None and again.quarantine_store.count() == 0  # a new one starts


@pytest.mark.parametrize("where", ["transport", "sink", "http"])
async def test_a_start_failing_half_way_leaves_nothing_open(
    tmp_path: Path, busy_port: int, where: str
) -> None:
    """The transport's start, a sink's start or the HTTP bind fails: every file descriptor, SQLite
    connection and task the start opened is closed again, the transport closed, the error raised."""
    overrides: dict[str, Any] = {"sources": [_source("src")], "trust": {"evidence": True}}
    if where == "sink":
        overrides["sinks"] = [{"name": "boom", "kind": "exploding_sink"}]
    if where == "http":
        overrides["http"] = {"port": busy_port}
    settings = node_settings(tmp_path, **overrides)
    topology = topology_for(settings)
    transport = RefusingTransport(topology) if where == "transport" else MemoryTransport(topology)
    fds_before, tasks_before = open_fds(), other_tasks()
    node = Node(settings, transport=transport)

    with pytest.raises(BrokerUnavailable if where != "http" else OSError):
        await node.start()

    assert open_fds() == fds_before, "file descriptors left open"
    assert other_tasks() == tasks_before, "tasks left running"
    if where == "transport":
        assert transport.closed_calls == 1 and node._quarantine_store is None
        return
    assert not transport.ready  # closed
    # What the start got to open before the failure, and that it is closed now.
    stores = [node.quarantine_store, node.source_state, node.audit, node.evidence]
    for store in stores:
        assert store is not None
        assert_closed(store._conn)
    sink: Any = node.sink
    assert_closed(sink.store._conn)  # the SQLite warehouse
    if where == "http":
        assert node._parts.tasks and all(t.done() for t in node._parts.tasks)  # consumers had started
    await node.stop()  # nothing left to stop


async def test_stop_unwinds_in_the_documented_order(tmp_path: Path, monkeypatch: Any) -> None:
    """Intake stops first (sources, then HTTP), then confirms drain, consumers stop, the sink and the
    stores close, and the transport closes last."""
    events: list[str] = []

    class Endless:
        async def start(self) -> None:
            return None

        async def stop(self) -> None:
            events.append("source.stop")

        async def read(self) -> AsyncIterator[SourceBatch]:
            await asyncio.Event().wait()
            yield SourceBatch([], _nothing)

    registry.register(
        AdapterPlugin(
            name="endless_source",
            role="source",
            summary="Waits forever (tests)",
            config_model=FakeSinkConfig,
            factory=lambda _config, _context: Endless(),
        )
    )

    class Recording(MemoryTransport):
        async def close(self) -> None:
            events.append("transport.close")
            await super().close()

    class RecordingSink(FakeSink):
        async def close(self) -> None:
            events.append("sink.close")

    def recorded(name: str, real: Any) -> Any:
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            events.append(name)
            return await real(self, *args, **kwargs)

        return wrapper

    store_close = QuarantineStore.close

    def close_store(self: QuarantineStore) -> None:
        events.append("quarantine_store.close")
        store_close(self)

    monkeypatch.setattr(web.AppRunner, "cleanup", recorded("http.cleanup", web.AppRunner.cleanup))
    monkeypatch.setattr(BatchingPublisher, "drain", recorded("publisher.drain", BatchingPublisher.drain))
    monkeypatch.setattr(BatchConsumer, "stop", recorded("consumer.stop", BatchConsumer.stop))
    monkeypatch.setattr(QuarantineStore, "close", close_store)
    endless = {**_source("src"), "kind": "endless_source", "config": {}}
    settings = node_settings(tmp_path, sources=[endless])
    node = Node(settings, transport=Recording(topology_for(settings)), sink=RecordingSink())
    await node.start()
    await until(lambda: node.runners[0].state == "running")
    await node.stop()
    assert all(t.done() for t in node._parts.tasks) and node._runner_tasks["src"].done()
    consumers = len(node._parts.consumers)
    assert consumers == 2  # the quarantine filer and the warehouse
    assert events == [
        "source.stop",
        "http.cleanup",
        "publisher.drain",
        *["consumer.stop"] * consumers,
        "sink.close",
        "quarantine_store.close",
        "transport.close",
    ]


async def _nothing() -> None:
    return None
