"""The transport protocol: publish with confirm, consume with manual ack, topology owned by the hub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from hub.metrics import QueueStats
from hub.transport.topology import Topology

HeaderValue = str | int | bool
StreamOffset = Literal["first", "last", "next"] | int | datetime
"""Where reading a stream starts: its oldest retained message, its last chunk, only new messages, an
absolute offset, or the first chunk stored at or after a time (chunk granularity: a few earlier messages
of that chunk may come too)."""


@runtime_checkable
class Delivery(Protocol):
    """One message taken from a queue; it stays unacknowledged until ``ack`` or ``reject`` is awaited.

    ``delivery_count`` is how many times the broker delivered it before (0 on first delivery), from the
    quorum queue's ``x-delivery-count``. ``user_id`` is the broker-validated publishing user, if set.
    """

    body: bytes
    routing_key: str
    exchange: str
    message_id: str | None
    headers: Mapping[str, object]
    redelivered: bool
    delivery_count: int
    user_id: str | None

    async def ack(self) -> None:
        """Acknowledge: the work for this message is durable. A stale delivery (from before a
        reconnect) is not acked and will be redelivered; that is logged, never raised."""

    async def reject(self, *, requeue: bool) -> None:
        """Give the message back (``requeue=True``) or dead-letter it (``requeue=False``)."""


@runtime_checkable
class StreamDelivery(Protocol):
    """One message read from a stream queue. ``offset`` is its position in the stream (``x-stream-offset``);
    the stream keeps the message whatever happens: ``ack`` only returns credit to the broker."""

    body: bytes
    routing_key: str
    message_id: str | None
    headers: Mapping[str, object]
    offset: int

    async def ack(self) -> None:
        """Tell the broker this message was handled (credit for the next ones)."""


class Transport(Protocol):
    """What the hub needs from a broker.

    ``publish`` returns only once the broker confirmed the message as persisted (or routed to no queue,
    in which case it raises ``Unroutable``). It raises ``BrokerUnavailable`` when not connected or when the
    confirm does not arrive within the publish timeout, and ``BrokerBlocked`` while publishers are blocked.
    """

    topology: Topology

    async def start(self) -> None:
        """Connect and declare the topology (exchanges, queues, bindings, policies). Idempotent."""

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str,
        headers: Mapping[str, HeaderValue] | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Publish one persistent message and wait for the broker's confirm."""

    def consume(self, queue: str, *, prefetch: int) -> AsyncIterator[Delivery]:
        """Yield deliveries from ``queue`` with at most ``prefetch`` unacknowledged at once.

        The iterator survives reconnects (re-subscribing, re-declaring a deleted queue) and ends only when
        the transport is closed.
        """

    def read_stream(
        self, queue: str, *, offset: StreamOffset, prefetch: int
    ) -> AsyncIterator[StreamDelivery]:
        """Yield the messages of stream ``queue`` from ``offset`` on, at most ``prefetch`` unacknowledged.

        It waits for new messages at the end and stops only when closed; it raises ``BrokerUnavailable``
        if the link drops (the caller resumes from the last offset it handled + 1).
        """

    @property
    def ready(self) -> bool:
        """True while connected for publishing and not blocked by a broker alarm."""

    @property
    def blocked(self) -> bool:
        """True while the broker blocks publishing (a memory or disk alarm)."""

    @property
    def inflight(self) -> int:
        """Publishes written (or about to be) and still awaiting their confirm."""

    async def queue_stats(self, queues: Collection[str]) -> dict[str, QueueStats]:
        """Depth (waiting + unacknowledged messages) and consumer count of each of ``queues`` the broker
        knows; a queue it does not know is left out. Raises a ``SimpulError`` when the broker's figures
        cannot be had (the caller reports them stale)."""

    async def close(self) -> None:
        """Stop consumers, wait for in-flight confirms up to a timeout, close connections."""
