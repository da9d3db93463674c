"""Where an ``amqp_source`` takes messages from: the source system's broker, or memory (tests).

An ``Upstream`` hands out ``UpstreamMessage`` s, at most ``prefetch`` unacknowledged at once. ``ack``
never raises: a message whose channel has closed since it was delivered (a reconnect) is *stale*; its
ack is skipped because the broker has already put it back and will deliver it again. Stale messages
still buffered are dropped before they are batched, for the same reason.

``BrokerUpstream`` reaches the source system's broker through ``hub.transport.amqp_foreign`` (the AMQP
client code lives there: only the transport imports aio-pika). Why that and not
``hub.transport.amqp.AmqpTransport``: the latter owns its topology (quorum queues with dead-letter
policies set through the management API), while here the broker and the queue belong to the source
system: an existing queue may be classic, and Simpul has no management rights on that broker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

import structlog

from adapters.amqp_source.config import AmqpSourceConfig
from hub.transport.amqp_foreign import ForeignConsumer, ForeignQueue
from hub.transport.base import Delivery, Transport

log = structlog.get_logger(__name__)


class UpstreamMessage(Protocol):
    """One upstream message, unacknowledged until ``ack``."""

    body: bytes
    message_id: str | None

    @property
    def stale(self) -> bool: ...

    async def ack(self) -> None: ...


class Upstream(Protocol):
    """A bounded supply of upstream messages."""

    async def start(self) -> None: ...

    async def next(self, timeout: float | None) -> UpstreamMessage | None:
        """The next live message, or None after ``timeout`` seconds (``None``: wait for ever)."""
        ...

    async def close(self) -> None: ...


class _Buffer:
    """Deliveries received and not yet taken; stale ones are dropped on the way out."""

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[UpstreamMessage] = asyncio.Queue(maxsize=size)

    def put(self, message: UpstreamMessage) -> None:
        if self._queue.full():
            self._purge_stale()  # live unacked messages never exceed prefetch, so this makes room
        self._queue.put_nowait(message)

    def _purge_stale(self) -> None:
        live = [m for m in (self._queue.get_nowait() for _ in range(self._queue.qsize())) if not m.stale]
        for message in live:
            self._queue.put_nowait(message)

    async def next(self, timeout: float | None) -> UpstreamMessage | None:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                message = await asyncio.wait_for(self._queue.get(), remaining)
            except TimeoutError:
                return None
            if not message.stale:
                return message
            log.info("upstream_stale_message_dropped", message_id=message.message_id)


class BrokerUpstream:
    """The source system's broker, over one robust connection (re-subscribes after a reconnect)."""

    def __init__(self, config: AmqpSourceConfig, name: str) -> None:
        self._config = config
        self._name = name
        self._buffer = _Buffer(2 * config.prefetch)
        self._consumer = ForeignConsumer(
            config.url.get_secret_value(),
            self._origin(),
            self._buffer.put,
            connection_name=f"simpul:{name}:upstream",
            prefetch=config.prefetch,
            heartbeat_s=config.heartbeat_s,
            connect_timeout_s=config.connect_timeout_s,
        )

    @property
    def queue_name(self) -> str:
        c = self._config
        return c.queue or c.own_queue or f"simpul.{self._name}"

    def _origin(self) -> ForeignQueue:
        c = self._config
        if c.queue is not None:
            return ForeignQueue(c.queue)
        assert c.exchange is not None
        return ForeignQueue(
            self.queue_name,
            exchange=c.exchange,
            binding_keys=tuple(c.binding_keys),
            queue_type=c.own_queue_type,
        )

    async def start(self) -> None:
        """Connect, check or declare the queue, subscribe. Idempotent; ``SourceUnavailable`` if the broker
        cannot be reached, ``FatalError`` if the login, the vhost, the queue or the exchange is wrong."""
        if self._consumer.started:
            return
        await self._consumer.start()
        c = self._config
        log.info("upstream_subscribed", adapter=self._name, queue=self.queue_name, prefetch=c.prefetch)

    async def next(self, timeout: float | None) -> UpstreamMessage | None:
        return await self._buffer.next(timeout)

    async def close(self) -> None:
        """Close the connection; unacked messages go back to the upstream queue."""
        await self._consumer.close()


class MemoryUpstream:
    """An upstream on a ``hub.transport.memory.MemoryTransport`` queue (or any ``Transport``), for tests
    and demos: the same bounded, ack-after-commit contract without a broker."""

    def __init__(self, transport: Transport, queue: str, prefetch: int) -> None:
        self._transport = transport
        self._queue = queue
        self._prefetch = prefetch
        self._buffer = _Buffer(2 * prefetch)
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._pump is None:
            deliveries = self._transport.consume(self._queue, prefetch=self._prefetch)
            self._pump = asyncio.create_task(self._run(deliveries))

    async def _run(self, deliveries: AsyncIterator[Delivery]) -> None:
        async for delivery in deliveries:
            self._buffer.put(delivery)  # type: ignore[arg-type]

    async def next(self, timeout: float | None) -> UpstreamMessage | None:
        return await self._buffer.next(timeout)

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
