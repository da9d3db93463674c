"""The consuming side of :class:`~hub.transport.amqp.AmqpTransport`: ``consume``, ``read_stream`` and the
supervisors that keep each subscription alive.

What it guarantees (see ``docs/reliability.md``):

- **Consumers are ours, not aio-pika's**: each subscription runs on its own channel of the consume
  connection, supervised by a task that re-subscribes after a reconnect or a channel error, and re-declares
  the topology when the broker cancels the consumer because the queue was deleted (aio-pika does not
  reliably recover a server-side cancel). Deliveries remember their channel: acking one from a channel that
  has since closed is logged (``stale_ack_skipped``) and skipped, never sent, because delivery tags restart
  on a new channel and a stale tag would ack a different message. The broker redelivers those messages.
- **Bounded**: each consumer buffers at most ``prefetch`` deliveries.

What a consumer holds (deliveries, epochs, the iterator) is :mod:`hub.transport.amqp_delivery`; a stream
read is :mod:`hub.transport.amqp_stream`. :class:`AmqpConsuming` is a mixin of ``AmqpTransport``: it owns
the subscriptions; the transport owns the consume connection, the lifecycle and ``declare_topology``
(declared in its body, so mypy checks both sides). One of the modules of the hub allowed to import
aio-pika and aiormq (only ``hub.transport.amqp*`` may); of the hub it imports ``hub.backoff``,
``hub.errors`` and the transport modules below it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import aiormq
import aiormq.abc
import structlog
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from aiormq.exceptions import ChannelNotFoundEntity

from hub.backoff import Backoff
from hub.errors import BrokerUnavailable, TopologyError
from hub.transport.amqp_connection import close_quietly
from hub.transport.amqp_delivery import (
    LINK_ERRORS,
    AmqpDelivery,
    Consumer,
    Epoch,
    Subscription,
    abandon,
    to_delivery,
)
from hub.transport.amqp_stream import AmqpStreamDelivery, read_stream
from hub.transport.base import StreamOffset
from hub.transport.topology import Topology

log = structlog.get_logger("hub.transport.amqp")  # the transport's logger name, as before the split

# Reasons to try a subscription again later; RuntimeError covers aio-pika's "connection was not opened".
RESUBSCRIBE_ERRORS: tuple[type[BaseException], ...] = (*LINK_ERRORS, RuntimeError, BrokerUnavailable)

# Between re-subscribe attempts: 0.2 s doubling to 5 s, no jitter (one hub's few consumers, one broker).
_RESUBSCRIBE_BACKOFF = Backoff(base_s=0.2, cap_s=5.0, jitter=False)


class AmqpConsuming:
    """Consuming for :class:`~hub.transport.amqp.AmqpTransport` (a mixin; see the module doc)."""

    # The transport's, set by AmqpTransport (its __init__, start and close).
    name: str
    topology: Topology
    _con_conn: AbstractRobustConnection | None
    _started: bool
    _closing: bool
    declare_topology: Callable[..., Awaitable[None]]

    # Consuming's own: the live subscriptions (AmqpTransport.close stops them all).
    _subscriptions: set[Subscription]

    def _init_consuming(self) -> None:
        self._subscriptions = set()

    def consume(self, queue: str, *, prefetch: int) -> AsyncIterator[AmqpDelivery]:
        """Iterate deliveries of ``queue`` with at most ``prefetch`` unacknowledged (``prefetch`` >= 1).

        The subscription starts on the first ``__anext__``; it survives reconnects, channel errors and the
        queue being deleted (the topology is re-declared), and ends when :meth:`close` is called (or the
        iterator's ``aclose()``).
        """
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1 (0 would mean unbounded)")
        if queue not in {q.name for q in self.topology.queues}:
            raise TopologyError(f"queue {queue!r} is not part of the topology")
        sub = Subscription(queue=queue, prefetch=prefetch, buffer=asyncio.Queue(maxsize=prefetch))
        if self._closing:
            sub.stop.set()
        self._subscriptions.add(sub)
        consumer = Consumer(self._start_subscription, self._stop_subscription, sub)
        # An iterator dropped without close() (e.g. its task was cancelled) must not pin `prefetch`
        # unacked messages until the transport closes: stopping the subscription closes its channel.
        weakref.finalize(consumer, abandon, sub).atexit = False
        return consumer

    def read_stream(
        self, queue: str, *, offset: StreamOffset, prefetch: int
    ) -> AsyncIterator[AmqpStreamDelivery]:
        """Read stream ``queue`` of the topology from ``offset`` (see :mod:`hub.transport.amqp_stream`) on
        the consume connection; raises ``BrokerUnavailable`` when the link drops (resume by offset)."""
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1 (a stream consumer needs basic.qos)")
        spec = next((q for q in self.topology.queues if q.name == queue), None)
        if spec is None or spec.kind != "stream":
            raise TopologyError(f"queue {queue!r} is not a stream of the topology")
        if self._con_conn is None or not self._started or self._closing:
            raise BrokerUnavailable("transport is not started")
        return read_stream(self._con_conn, queue, offset, prefetch)

    def _start_subscription(self, sub: Subscription) -> None:
        if not self._started:
            raise RuntimeError("call start() before consuming")
        sub.task = asyncio.create_task(self._run_subscription(sub), name=f"{self.name}:consume:{sub.queue}")

    async def _stop_subscription(self, sub: Subscription) -> None:
        sub.stop.set()
        self._subscriptions.discard(sub)
        task = sub.task
        if task is not None and not task.done():
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(task)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run_subscription(self, sub: Subscription) -> None:
        try:
            await self._supervise(sub)
        except Exception as exc:  # a bug, not a broker condition (those are retried): surface it
            sub.error = exc
            log.error(
                "consumer_supervisor_failed", queue=sub.queue, error=type(exc).__name__, detail=str(exc)
            )
        finally:
            self._subscriptions.discard(sub)
            sub.stop.set()  # whatever ended the supervisor also ends the iterator

    async def _supervise(self, sub: Subscription) -> None:
        """Keep one consumer on ``sub.queue`` alive until ``sub.stop``: one channel per attempt."""
        failures = 0  # consecutive failed attempts: the back-off's exponent

        async def back_off() -> None:
            nonlocal failures
            await _sleep_or_stop(_RESUBSCRIBE_BACKOFF.delay(failures), sub.stop)
            failures += 1

        for attempt in itertools.count():
            if sub.stop.is_set():
                return
            connection = self._con_conn
            if connection is None:
                return
            channel: AbstractRobustChannel | None = None
            try:
                await _wait_or_stop(connection.ready(), sub.stop)
                if sub.stop.is_set():
                    return
                channel = await connection.channel(publisher_confirms=False)
                outcome = await self._consume_on(channel, sub, attempt)
                if outcome == "cancelled":
                    log.warning("consumer_cancelled_by_broker", queue=sub.queue, action="redeclare_topology")
                    await self.declare_topology(on="consume")
                    failures = 0
                elif outcome == "channel_closed":
                    log.warning("consumer_channel_closed", queue=sub.queue, action="resubscribe")
                    await back_off()
            except ChannelNotFoundEntity:
                log.warning("consumer_queue_missing", queue=sub.queue, action="redeclare_topology")
                with contextlib.suppress(*LINK_ERRORS, TopologyError, BrokerUnavailable):
                    await self.declare_topology(on="consume")
                await back_off()
            except RESUBSCRIBE_ERRORS as exc:
                log.warning("consumer_resubscribe_failed", queue=sub.queue, error=type(exc).__name__)
                await back_off()
            except TopologyError as exc:
                log.error("consumer_topology_error", queue=sub.queue, error=str(exc))
                await back_off()
            finally:
                dropped = sub.purge_stale()
                if dropped:
                    log.info("stale_deliveries_dropped", queue=sub.queue, count=dropped)
                # A fresh channel per attempt; closing the old one (unless the whole transport is closing,
                # which closes the connection) keeps aio-pika from restoring it and returns its unacked
                # messages to the queue.
                if channel is not None and not self._closing:
                    await close_quietly(channel)

    async def _consume_on(self, channel: AbstractRobustChannel, sub: Subscription, attempt: int) -> str:
        """Subscribe on ``channel`` and wait; returns ``stopped``, ``cancelled`` or ``channel_closed``."""
        underlay = await channel.get_underlay_channel()
        epoch = Epoch()
        cancelled = asyncio.Event()
        tag_box: list[str] = []

        def on_cancel(frame: aiormq.spec.Basic.Cancel) -> None:
            if not tag_box or frame.consumer_tag == tag_box[0]:
                cancelled.set()

        underlay.on_consumer_cancel_callbacks.add(on_cancel)
        try:
            await underlay.basic_qos(prefetch_count=sub.prefetch)
            ok = await underlay.basic_consume(
                sub.queue, self._deliver_callback(sub, underlay, epoch), no_ack=False
            )
            tag = ok.consumer_tag or ""
            tag_box.append(tag)
            log.info("consumer_subscribed", queue=sub.queue, prefetch=sub.prefetch, attempt=attempt)
            closing = underlay.closing
            waiters = {
                asyncio.ensure_future(sub.stop.wait()): "stopped",
                asyncio.ensure_future(cancelled.wait()): "cancelled",
            }
            try:
                done, _ = await asyncio.wait([*waiters, closing], return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
                if not closing.done():
                    closing.cancel()
            outcome = next((waiters[w] for w in done if w in waiters), "channel_closed")
            if cancelled.is_set():
                outcome = "cancelled"
            if outcome == "stopped":
                with contextlib.suppress(*LINK_ERRORS):
                    await underlay.basic_cancel(tag, timeout=2)
            else:
                epoch.valid = False
            return outcome
        finally:
            underlay.on_consumer_cancel_callbacks.discard(on_cancel)

    def _deliver_callback(
        self, sub: Subscription, channel: aiormq.abc.AbstractChannel, epoch: Epoch
    ) -> Callable[[aiormq.abc.DeliveredMessage], Coroutine[Any, Any, None]]:
        async def on_message(message: aiormq.abc.DeliveredMessage) -> None:
            delivery = to_delivery(message, sub.queue, channel, epoch)
            if delivery is None:
                return
            # Bounded: the broker sends at most `prefetch` unacked, the buffer holds `prefetch`.
            await sub.buffer.put(delivery)

        return on_message


async def _sleep_or_stop(delay: float, stop: asyncio.Event) -> None:
    """Sleep ``delay`` seconds, waking early when ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await stop.wait()


async def _wait_or_stop(awaitable: Awaitable[Any], stop: asyncio.Event) -> None:
    waiter = asyncio.ensure_future(awaitable)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((waiter, stopper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not waiter.done():
            waiter.cancel()
    if waiter.done() and not waiter.cancelled():
        waiter.result()
