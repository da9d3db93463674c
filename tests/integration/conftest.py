"""Fixtures for tests against the real RabbitMQ on 127.0.0.1:5672 (management API on 15672).

Every test gets its own vhost (``simpul-test-<random>``), created through the management API with full
permissions for ``guest`` and deleted afterwards, so tests never see each other's queues, policies or
connections and never touch the shared broker's other vhosts. Run ``ops/scripts/ensure-rabbitmq.sh``
first on a fresh machine.

Also here: :class:`TcpProxy`, a tiny asyncio TCP proxy that can blackhole traffic, for faults the shared
broker must not suffer (alarms, dead links).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from hub.transport.management import ManagementClient, ManagementError

MANAGEMENT_URL = os.environ.get("SIMPUL_TEST_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
AMQP_BASE = os.environ.get("SIMPUL_TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
BROKER_USER = os.environ.get("SIMPUL_TEST_BROKER_USER", "guest")


@pytest.fixture
def management_url() -> str:
    """The management API URL (with credentials) the tests and transports use."""
    return MANAGEMENT_URL


@pytest.fixture
async def management() -> AsyncIterator[ManagementClient]:
    """A management API client; fails the test with a hint if the API does not answer."""
    async with ManagementClient(MANAGEMENT_URL) as api:
        try:
            await api.overview()
        except ManagementError as exc:
            pytest.fail(f"RabbitMQ management API not reachable ({exc}); run ops/scripts/ensure-rabbitmq.sh")
        yield api


@pytest.fixture
async def broker_vhost(management: ManagementClient) -> AsyncIterator[str]:
    """A fresh vhost for this test only, guest allowed everything in it; deleted after the test."""
    vhost = f"simpul-test-{uuid.uuid4().hex[:12]}"
    await management.create_vhost(vhost, description="simpul integration test (safe to delete)")
    try:
        await management.set_permissions(vhost, BROKER_USER)
        yield vhost
    finally:
        with contextlib.suppress(ManagementError):
            await management.delete_vhost(vhost)


@pytest.fixture
def amqp_url(broker_vhost: str) -> str:
    """The AMQP URL of this test's vhost."""
    return f"{AMQP_BASE}/{quote(broker_vhost, safe='')}"


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``blackhole = True`` silently drops bytes both ways
    while keeping the sockets open (a dead link, as seen by heartbeats and confirms)."""

    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5672) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.blackhole = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url_for(self, vhost: str) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{quote(vhost, safe='')}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self.blackhole:
                    continue
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()


@pytest.fixture
async def tcp_proxy() -> AsyncIterator[TcpProxy]:
    """A :class:`TcpProxy` in front of the local broker's AMQP port."""
    proxy = TcpProxy()
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
