"""The consumer and publisher on a broker Simpul does not own (``hub.transport.amqp_foreign``), without a
broker: a connection that did not open is closed whatever the reason (refused, cancelled), and an ack the
link cannot carry is skipped, never raised."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import aio_pika
import pytest
from aiormq.exceptions import ChannelInvalidStateError

from hub.errors import BrokerUnavailable, SourceUnavailable
from hub.transport.amqp_foreign import ForeignConsumer, ForeignMessage, ForeignPublisher, ForeignQueue
from tests.helpers import stop_leftover_reconnect_tasks


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[aio_pika.Connection]:
    """Every aio-pika connection made during the test (held, so none is collected before the check)."""
    connections: list[aio_pika.Connection] = []
    init = aio_pika.Connection.__init__

    def recording_init(self: aio_pika.Connection, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        connections.append(self)

    monkeypatch.setattr(aio_pika.Connection, "__init__", recording_init)
    return connections


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (connecting is refused at once)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose kernel completes the TCP handshake, while no ``Connection.Start`` ever comes."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        yield int(silent.getsockname()[1])


def _consumer(port: int, *, connect_timeout_s: float = 5.0) -> ForeignConsumer:
    return ForeignConsumer(
        f"amqp://guest:guest@127.0.0.1:{port}/sidini",
        ForeignQueue("sidini.simpul"),
        lambda _message: None,
        connection_name="simpul:test:upstream",
        prefetch=10,
        heartbeat_s=5,
        connect_timeout_s=connect_timeout_s,
        reconnect_interval_s=0.1,
    )


async def test_a_refused_connect_closes_its_connection(
    closed_port: int, made: list[aio_pika.Connection]
) -> None:
    """aio_pika.connect_robust drops a connection whose connect raised without closing it (its __del__
    would schedule a close() nobody awaits); the consumer closes it and raises SourceUnavailable."""
    consumer = _consumer(closed_port)
    with pytest.raises(SourceUnavailable, match="cannot reach the upstream broker"):
        await consumer.start()
    assert not consumer.started
    assert made and all(c.is_closed for c in made)


async def test_a_cancelled_connect_leaves_no_reconnect_loop_behind(
    silent_port: int, made: list[aio_pika.Connection]
) -> None:
    """A start cancelled by the caller's timeout closes its connection: aio-pika's robust connection would
    otherwise go on retrying in its reconnect task, with nobody left to close it."""
    consumer = _consumer(silent_port, connect_timeout_s=1.0)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(consumer.start(), timeout=0.3)
    assert await stop_leftover_reconnect_tasks() == []
    assert not consumer.started
    assert made and all(c.is_closed for c in made)


async def test_a_publisher_that_cannot_connect_closes_its_connection(
    closed_port: int, made: list[aio_pika.Connection]
) -> None:
    publisher = ForeignPublisher(f"amqp://guest:guest@127.0.0.1:{closed_port}/sidini", "sidini.events")
    with pytest.raises(BrokerUnavailable, match="cannot connect to the broker"):
        await publisher.start()
    assert made and all(c.is_closed for c in made)


class _GoneChannelMessage:
    """An incoming message whose channel is gone: asking for it or acking raises, as aio-pika does."""

    body = b"{}"
    message_id = "m1"

    @property
    def channel(self) -> Any:
        raise ChannelInvalidStateError("channel closed")

    async def ack(self) -> None:
        raise ChannelInvalidStateError("channel closed")


async def test_a_stale_message_is_said_so_and_its_ack_is_skipped_not_raised() -> None:
    message = ForeignMessage(_GoneChannelMessage())  # type: ignore[arg-type]
    assert message.stale and message.body == b"{}" and message.message_id == "m1"
    await message.ack()  # logged (upstream_stale_ack_skipped), not raised
