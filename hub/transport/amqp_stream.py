"""Reading a RabbitMQ stream queue over AMQP 0-9-1 from an offset (used by ``AmqpTransport.read_stream``).

A stream is read with an ordinary ``basic.consume`` carrying ``x-stream-offset`` (``first``, ``last``,
``next``, an integer offset or a timestamp) on a channel with ``basic.qos``: the broker refuses a stream
consumer without a prefetch, and delivers at most that many unacknowledged. Acks return credit; the
stream keeps every message until its retention ends. Each delivery carries its offset in the
``x-stream-offset`` header.

One channel per reader, on the transport's consume connection. If the channel or connection closes, the
iterator raises ``BrokerUnavailable``: streams have no redelivery, so the caller resumes from the last
offset it handled + 1 rather than this module guessing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiormq
import aiormq.abc
import structlog
from aio_pika.abc import AbstractRobustConnection
from aiormq.exceptions import AMQPError, ChannelInvalidStateError, ChannelNotFoundEntity

from hub.errors import BrokerUnavailable, TopologyError
from hub.transport.base import StreamOffset

log = structlog.get_logger(__name__)
_LINK = (AMQPError, ChannelInvalidStateError, ConnectionError, OSError, TimeoutError)


@dataclass(eq=False)
class AmqpStreamDelivery:
    """One stream message; implements :class:`hub.transport.base.StreamDelivery`. ``body`` stays out of
    ``repr``."""

    body: bytes = field(repr=False)
    routing_key: str
    message_id: str | None
    headers: Mapping[str, object]
    offset: int
    timestamp: datetime | None
    _channel: aiormq.abc.AbstractChannel = field(repr=False)
    _tag: int = field(repr=False)

    async def ack(self) -> None:
        """Return credit; a closed channel is ignored (the reader raises on its own)."""
        with contextlib.suppress(*_LINK):
            await self._channel.basic_ack(self._tag)


def offset_argument(offset: StreamOffset) -> Any:
    """The ``x-stream-offset`` value: a name, a non-negative integer, or a timestamp (seconds)."""
    if isinstance(offset, datetime):
        if offset.tzinfo is None:
            raise ValueError("a stream timestamp offset needs a time zone")
        return offset  # pamqp encodes a datetime as an AMQP timestamp
    if isinstance(offset, bool) or (isinstance(offset, int) and offset < 0):
        raise ValueError("a stream offset is first, last, next, an offset >= 0 or a timestamp")
    return offset


async def read_stream(
    connection: AbstractRobustConnection, queue: str, offset: StreamOffset, prefetch: int
) -> AsyncIterator[AmqpStreamDelivery]:
    """Yield the messages of stream ``queue`` from ``offset``; see the module docstring."""
    argument = offset_argument(offset)
    try:
        channel = await connection.channel(publisher_confirms=False)
        underlay = await channel.get_underlay_channel()
    except _LINK as exc:
        raise BrokerUnavailable(f"cannot open a channel to read the stream ({type(exc).__name__})") from None
    buffer: asyncio.Queue[AmqpStreamDelivery] = asyncio.Queue()

    async def on_message(message: aiormq.abc.DeliveredMessage) -> None:
        frame = message.delivery
        if not isinstance(frame, aiormq.spec.Basic.Deliver) or frame.delivery_tag is None:
            return
        props = message.header.properties
        headers: dict[str, object] = dict(props.headers or {})
        position = headers.get("x-stream-offset")
        buffer.put_nowait(
            AmqpStreamDelivery(
                body=message.body,
                routing_key=frame.routing_key or "",
                message_id=props.message_id,
                headers=headers,
                offset=position if isinstance(position, int) else -1,
                timestamp=props.timestamp,
                _channel=underlay,
                _tag=frame.delivery_tag,
            )
        )

    tag = ""
    try:
        try:
            await underlay.basic_qos(prefetch_count=prefetch)
            ok = await underlay.basic_consume(
                queue, on_message, no_ack=False, arguments={"x-stream-offset": argument}
            )
        except ChannelNotFoundEntity:
            raise TopologyError(f"stream {queue!r} does not exist") from None
        except _LINK as exc:
            raise BrokerUnavailable(f"cannot subscribe to the stream ({type(exc).__name__})") from None
        tag = ok.consumer_tag or ""
        log.info("stream_read_started", queue=queue, offset=str(offset), prefetch=prefetch)
        closing = underlay.closing
        while True:
            if buffer.empty():
                getter = asyncio.ensure_future(buffer.get())
                try:
                    await asyncio.wait((getter, closing), return_when=asyncio.FIRST_COMPLETED)
                finally:
                    if not getter.done():
                        getter.cancel()
                if not getter.done() or getter.cancelled():
                    raise BrokerUnavailable("the stream reader's channel closed")
                yield getter.result()
            else:
                yield buffer.get_nowait()
    finally:
        if tag and not underlay.is_closed:
            with contextlib.suppress(*_LINK):
                await underlay.basic_cancel(tag, timeout=2)
        with contextlib.suppress(*_LINK, RuntimeError):
            await asyncio.wait_for(channel.close(), timeout=5)
