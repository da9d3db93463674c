"""The cluster connection's address rotation and back-off, with aio-pika's connect step faked, and its
close after a cancelled connect, against a socket that never answers (no broker)."""

from __future__ import annotations

import asyncio
import socket

import aio_pika
import pytest
from aiormq.exceptions import AMQPConnectionError, ConnectionNotAllowed, InvalidFrameError
from yarl import URL

from hub.transport import amqp_connection
from hub.transport.amqp_connection import ClusterConnection
from tests.helpers import stop_leftover_reconnect_tasks

ADDRESSES = [URL(f"amqp://guest:guest@127.0.0.1:{p}/v?reconnect_interval=1") for p in (5701, 5702, 5703)]


def test_aio_pika_still_has_the_seam() -> None:
    """The override hooks aio-pika's private per-attempt step; if aio-pika renames it, rotation would
    silently stop, so this fails first."""
    assert hasattr(aio_pika.RobustConnection, "_RobustConnection__connect_transport")


def _fake_attempts(monkeypatch: pytest.MonkeyPatch, up: set[int], failure: type[Exception]) -> list[int]:
    """aio-pika's attempt replaced: the ports in ``up`` connect, the others raise ``failure``; returns the
    ports tried, in order."""
    tried: list[int] = []

    async def attempt(self: aio_pika.RobustConnection) -> None:
        port = self.url.port
        assert port is not None
        tried.append(port)
        if port not in up:
            raise failure(port)

    monkeypatch.setattr(aio_pika.RobustConnection, "_RobustConnection__connect_transport", attempt)
    return tried


async def _fail(connection: ClusterConnection, times: int, failure: type[Exception]) -> None:
    for _ in range(times):
        with pytest.raises(failure):
            await connection._RobustConnection__connect_transport()


async def test_every_reconnect_attempt_moves_on_and_a_failed_round_doubles_the_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Attempts that reach nothing answering in time (here: the connection reset) double the pause after
    each full round, up to the maximum; a successful connect resets it."""
    up = {5702}
    tried = _fake_attempts(monkeypatch, up, ConnectionResetError)
    connection = ClusterConnection(ADDRESSES, 1)
    assert connection.address == "127.0.0.1:5702"
    await connection._RobustConnection__connect_transport()  # first connect: the start address
    connection.connection_attempt = 1  # aio-pika counts successful connects
    up.clear()  # the whole cluster goes away
    await _fail(connection, 6, ConnectionResetError)
    assert tried == [5702, 5703, 5701, 5702, 5703, 5701, 5702]
    assert connection.reconnect_interval == 4.0  # two full rounds failed: 1 -> 2 -> 4
    await _fail(connection, 12, ConnectionResetError)
    assert connection.reconnect_interval == amqp_connection.MAX_RECONNECT_INTERVAL
    up.add(5701)
    while True:
        try:
            await connection._RobustConnection__connect_transport()
            break
        except ConnectionResetError:
            continue
    assert connection.address == "127.0.0.1:5701"
    assert connection.reconnect_interval == 1.0  # reset by the successful connect


async def test_rounds_where_nothing_listens_keep_the_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broker down or restarting refuses the TCP connection at every address: such rounds keep the base
    pause (the link is back within a pause of the port opening), in aiormq's form too (its
    ``AMQPConnectionError`` caused by the ``ConnectionRefusedError``). One attempt of a round that reached
    something (a reset) makes the round double it."""

    class AiormqRefused(AMQPConnectionError):
        def __init__(self, port: int) -> None:
            super().__init__(111, f"Connect call failed ('127.0.0.1', {port})")
            self.__cause__ = ConnectionRefusedError(111, "Connect call failed")

    up = {5702}
    _fake_attempts(monkeypatch, up, AiormqRefused)
    connection = ClusterConnection(ADDRESSES, 1)
    await connection._RobustConnection__connect_transport()
    connection.connection_attempt = 1
    up.clear()
    await _fail(connection, 30, AiormqRefused)  # ten rounds, every address refused
    assert connection.reconnect_interval == 1.0
    _fake_attempts(monkeypatch, up, ConnectionRefusedError)
    await _fail(connection, 3, ConnectionRefusedError)
    assert connection.reconnect_interval == 1.0
    await _fail(connection, 2, ConnectionRefusedError)
    _fake_attempts(monkeypatch, up, ConnectionResetError)
    await _fail(connection, 1, ConnectionResetError)  # the round's last address answered, then reset
    assert connection.reconnect_interval == 2.0
    _fake_attempts(monkeypatch, up, ConnectionRefusedError)
    await _fail(connection, 3, ConnectionRefusedError)  # a round of refusals after it: kept, not reset
    assert connection.reconnect_interval == 2.0


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
