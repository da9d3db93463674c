"""The cluster connection's address rotation and back-off, with aio-pika's connect step faked (no broker)."""

from __future__ import annotations

import aio_pika
import pytest
from yarl import URL

from hub.transport import amqp_connection
from hub.transport.amqp_connection import ClusterConnection

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
