"""The cluster connection's address rotation and back-off, with aio-pika's connect step faked, and its
close after a cancelled connect, against a socket that never answers (no broker)."""

from __future__ import annotations

import asyncio
import socket

import aio_pika
import pytest
from aiormq.exceptions import ConnectionNotAllowed, InvalidFrameError
from yarl import URL

from hub.transport import amqp_connection
from hub.transport.amqp_connection import ClusterConnection
from tests.helpers import stop_leftover_reconnect_tasks

ADDRESSES = [URL(f"amqp://guest:guest@127.0.0.1:{p}/v?reconnect_interval=1") for p in (5701, 5702, 5703)]


def test_aio_pika_still_has_the_seam() -> None:
    """The override hooks aio-pika's private per-attempt step; if aio-pika renames it, rotation would
    silently stop, so this fails first."""
    assert hasattr(aio_pika.RobustConnection, "_RobustConnection__connect_transport")


async def test_every_reconnect_attempt_moves_on_and_a_failed_round_doubles_the_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tried: list[int] = []
    up = {5702}

    async def attempt(self: aio_pika.RobustConnection) -> None:
        port = self.url.port
        assert port is not None
        tried.append(port)
        if port not in up:
            raise ConnectionRefusedError(port)

    monkeypatch.setattr(aio_pika.RobustConnection, "_RobustConnection__connect_transport", attempt)
    connection = ClusterConnection(ADDRESSES, 1)
    assert connection.address == "127.0.0.1:5702"
    await connection._RobustConnection__connect_transport()  # first connect: the start address
    connection.connection_attempt = 1  # aio-pika counts successful connects
    up.clear()  # the whole cluster goes away
    for _ in range(6):
        with pytest.raises(ConnectionRefusedError):
            await connection._RobustConnection__connect_transport()
    assert tried == [5702, 5703, 5701, 5702, 5703, 5701, 5702]
    assert connection.reconnect_interval == 4.0  # two full rounds failed: 1 -> 2 -> 4
    for _ in range(12):
        with pytest.raises(ConnectionRefusedError):
            await connection._RobustConnection__connect_transport()
    assert connection.reconnect_interval == amqp_connection.MAX_RECONNECT_INTERVAL
    up.add(5701)
    while True:
        try:
            await connection._RobustConnection__connect_transport()
            break
        except ConnectionRefusedError:
            continue
    assert connection.address == "127.0.0.1:5701"
    assert connection.reconnect_interval == 1.0  # reset by the successful connect


async def test_a_cancelled_connect_leaves_no_reconnect_loop_behind() -> None:
    """A connect cancelled by the caller's timeout closes its connection: aio-pika's robust connection
    would otherwise go on retrying in its reconnect task (and hold a connection once one opened), with
    nobody left to close it; that task even swallows a cancel landing in an attempt, so the event loop's
    own shutdown could wait on it for ever."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel completes the TCP handshake; no
        port = silent.getsockname()[1]  # Connection.Start ever comes
        url = URL(f"amqp://guest:guest@127.0.0.1:{port}/")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                amqp_connection.connect(
                    [url], name="cancelled", heartbeat=5, reconnect_interval=0.1, timeout=1, vhost="/"
                ),
                timeout=0.3,
            )
        assert await stop_leftover_reconnect_tasks() == []


def test_a_refused_vhost_is_told_from_other_connect_failures() -> None:
    """aiormq 7's form (``InvalidFrameError`` quoting the ``Connection.Close`` it got instead of
    ``OpenOk``) and the ``ConnectionNotAllowed`` a fixed aiormq would raise count; other failures do not."""
    assert amqp_connection.refused_the_vhost(
        InvalidFrameError("Expected one of ['Connection.OpenOk'], got <Connection.Close object at 0x7f>")
    )
    assert amqp_connection.refused_the_vhost(ConnectionNotAllowed(530, "NOT_ALLOWED - vhost x not found"))
    assert not amqp_connection.refused_the_vhost(InvalidFrameError("No frame length"))
    assert not amqp_connection.refused_the_vhost(ConnectionRefusedError(111, "refused"))
    assert not amqp_connection.refused_the_vhost(TimeoutError())
