"""Deliveries and subscriptions of the RabbitMQ transport (``hub.transport.amqp``): what a consumer holds.

``AmqpDelivery`` remembers the channel and subscription attempt (``Epoch``) it came from, so that acking a
delivery whose channel has since closed is logged and skipped instead of acking another message under a
reused tag. ``Subscription`` is one ``consume`` call's bounded buffer; ``Consumer`` is the iterator over
it. Internal to the transport package (aio-pika and aiormq stay inside ``hub.transport``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import aio_pika
import aiormq
import aiormq.abc
import structlog
from aiormq.exceptions import AMQPError, ChannelInvalidStateError

log = structlog.get_logger("hub.transport.amqp")  # the transport's logger name, as before the split

# Errors that mean "the broker or the link is not usable right now"; never programming errors.
LINK_ERRORS: tuple[type[BaseException], ...] = (
    AMQPError,
    ChannelInvalidStateError,
    ConnectionError,
    OSError,
    TimeoutError,
)


class Epoch:
    """One subscription attempt; deliveries from an ended epoch are stale."""

    __slots__ = ("valid",)

    def __init__(self) -> None:
        self.valid = True


@dataclass(eq=False)
class AmqpDelivery:
    """One message from a queue; implements :class:`hub.transport.base.Delivery`.

    ``body`` is left out of ``repr``. ``ack``/``reject`` never raise for a delivery whose channel is gone
    (the broker redelivers it); they log ``stale_ack_skipped`` / ``stale_reject_skipped`` instead.
    """

    body: bytes = field(repr=False)
    routing_key: str
    exchange: str
    message_id: str | None
    headers: Mapping[str, object]
    redelivered: bool
    delivery_count: int
    user_id: str | None
    content_type: str | None
    persistent: bool
    queue: str
    _channel: aiormq.abc.AbstractChannel = field(repr=False)
    _delivery_tag: int = field(repr=False)
    _epoch: Epoch = field(repr=False)
    _settled: bool = field(default=False, repr=False)

    @property
    def stale(self) -> bool:
        """True if the channel that delivered this message has closed or its consumer was cancelled."""
        return not self._epoch.valid or self._channel.is_closed

    async def ack(self) -> None:
        """Acknowledge; a stale delivery is logged and skipped (the broker redelivers it)."""
        if not self._begin("ack"):
            return
        try:
            await self._channel.basic_ack(self._delivery_tag)
        except LINK_ERRORS as exc:
            self._skipped("ack", type(exc).__name__)

    async def reject(self, *, requeue: bool) -> None:
        """Requeue (``requeue=True``) or dead-letter (``False``); a stale delivery is logged and skipped."""
        if not self._begin("reject"):
            return
        try:
            await self._channel.basic_reject(self._delivery_tag, requeue=requeue)
        except LINK_ERRORS as exc:
            self._skipped("reject", type(exc).__name__)

    def _begin(self, action: str) -> bool:
        if self._settled:
            log.warning(
                "delivery_already_settled", queue=self.queue, message_id=self.message_id, action=action
            )
            return False
        self._settled = True
        if self.stale:
            self._skipped(action, "channel_closed")
            return False
        return True

    def _skipped(self, action: str, reason: str) -> None:
        log.info(f"stale_{action}_skipped", queue=self.queue, message_id=self.message_id, reason=reason)


@dataclass(eq=False)
class Subscription:
    """One ``consume`` call: its queue, its bounded buffer of deliveries and the task that fills it."""

    queue: str
    prefetch: int
    buffer: asyncio.Queue[AmqpDelivery]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    error: Exception | None = None

    def purge_stale(self) -> int:
        """Drop buffered deliveries from ended epochs, so they can neither be yielded nor fill the buffer."""
        kept: list[AmqpDelivery] = []
        dropped = 0
        while not self.buffer.empty():
            delivery = self.buffer.get_nowait()
            if delivery.stale:
                dropped += 1
            else:
                kept.append(delivery)
        for delivery in kept:
            self.buffer.put_nowait(delivery)
        return dropped


def abandon(sub: Subscription) -> None:
    """Stop a subscription whose iterator was dropped without ``aclose`` (a ``weakref.finalize`` hook)."""
    with contextlib.suppress(RuntimeError):  # the event loop may already be closed
        sub.stop.set()


class Consumer:
    """The async iterator :meth:`AmqpTransport.consume` returns: starts its subscription on the first
    ``__anext__`` (``start``) and stops it on ``aclose`` (``stop``)."""

    def __init__(
        self,
        start: Callable[[Subscription], None],
        stop: Callable[[Subscription], Awaitable[None]],
        subscription: Subscription,
    ) -> None:
        self._start = start
        self._stop = stop
        self._sub = subscription

    def __aiter__(self) -> Consumer:
        return self

    async def __anext__(self) -> AmqpDelivery:
        sub = self._sub
        if sub.task is None and not sub.stop.is_set():
            self._start(sub)
        while True:
            if sub.stop.is_set():
                if sub.error is not None:
                    raise sub.error
                raise StopAsyncIteration
            if sub.buffer.empty():
                getter = asyncio.ensure_future(sub.buffer.get())
                stopper = asyncio.ensure_future(sub.stop.wait())
                try:
                    await asyncio.wait((getter, stopper), return_when=asyncio.FIRST_COMPLETED)
                except asyncio.CancelledError:
                    # Cancelled just as a delivery arrived: keep it for the next __anext__ instead of
                    # leaving it unacked and unseen until the channel closes.
                    if getter.done() and not getter.cancelled():
                        with contextlib.suppress(asyncio.QueueFull):
                            sub.buffer.put_nowait(getter.result())
                    raise
                finally:
                    stopper.cancel()
                    if not getter.done():
                        getter.cancel()
                if getter.cancelled() or not getter.done():
                    continue
                delivery = getter.result()
                if sub.stop.is_set():
                    continue  # not yielded; it stays unacked and returns to the queue on connection close
            else:
                delivery = sub.buffer.get_nowait()
            if delivery.stale:
                log.info("stale_delivery_dropped", queue=sub.queue, message_id=delivery.message_id)
                continue
            return delivery

    async def aclose(self) -> None:
        """Stop this consumer (cancel its subscription); unacked deliveries go back to the queue."""
        await self._stop(self._sub)


def to_delivery(
    message: aiormq.abc.DeliveredMessage, queue: str, channel: aiormq.abc.AbstractChannel, epoch: Epoch
) -> AmqpDelivery | None:
    """The delivery of an aiormq message on ``channel`` in ``epoch``; None if it is not a Basic.Deliver."""
    frame = message.delivery
    if not isinstance(frame, aiormq.spec.Basic.Deliver) or frame.delivery_tag is None:
        return None
    properties = message.header.properties
    headers: dict[str, object] = dict(properties.headers or {})
    count = headers.get("x-delivery-count", 0)
    return AmqpDelivery(
        body=message.body,
        routing_key=frame.routing_key or "",
        exchange=frame.exchange or "",
        message_id=properties.message_id,
        headers=headers,
        redelivered=bool(frame.redelivered),
        delivery_count=count if isinstance(count, int) and not isinstance(count, bool) else 0,
        user_id=properties.user_id,
        content_type=properties.content_type,
        persistent=properties.delivery_mode == aio_pika.DeliveryMode.PERSISTENT,
        queue=queue,
        _channel=channel,
        _delivery_tag=frame.delivery_tag,
        _epoch=epoch,
    )
