"""An in-memory transport that behaves like the hub's RabbitMQ setup, for unit tests and adapter authors.

:class:`MemoryTransport` implements :class:`hub.transport.base.Transport` with the same rules as the AMQP
transport on a RabbitMQ quorum-queue topology, so a test written against it means something:

- **routing** is topic routing (``*`` one word, ``#`` zero or more; see :mod:`hub.transport.topic`);
  a message goes once to every queue with a matching binding;
- **unroutable** publishes raise :class:`~hub.errors.Unroutable` (the AMQP transport publishes with
  ``mandatory`` and ``on_return_raises``); publishing to an undeclared exchange raises
  :class:`~hub.errors.TopologyError`;
- **bounded queues**: a queue holding ``max_queue_length`` messages refuses more, like
  ``overflow: reject-publish``, and the publish raises :class:`~hub.errors.BrokerUnavailable`;
- **ack / reject**: ``reject(requeue=True)`` returns the message ahead of the waiting ones with
  ``redelivered=True`` and ``delivery_count`` one higher (the quorum queue's ``x-delivery-count``, also
  set in ``headers``); once ``delivery_count`` exceeds the queue's ``delivery_limit`` the message is
  dead-lettered to the queue's ``dead_letter_exchange`` with ``x-death`` and ``x-first-death-*``
  headers, as RabbitMQ 3.10 does. ``reject(requeue=False)`` dead-letters at once (reason ``rejected``);
  on a queue without a dead-letter exchange the message is dropped, and recorded in ``dropped``;
- **prefetch**: a consumer holds at most ``prefetch`` unacknowledged deliveries;
- **consumer end**: closing a consume iterator, :meth:`~MemoryTransport.close` and
  :meth:`~MemoryTransport.simulate_connection_loss` return that consumer's unacknowledged messages (a
  return counts as a delivery attempt, as on a real channel close); acking such a stale delivery is
  logged (``stale_ack_skipped``) and skipped, exactly like the AMQP transport after a reconnect;
- **streams**: a queue of kind ``stream`` keeps every message it is routed, with its offset (0, 1, ...)
  and arrival time; :meth:`~MemoryTransport.read_stream` reads it from ``first``, ``last``, ``next``, an
  offset or a time, like a RabbitMQ stream consumer (``consume`` on a stream is refused);
- **faults**: :meth:`MemoryTransport.set_ready` (``False``: publish raises ``BrokerUnavailable``,
  ``ready`` is False), :meth:`MemoryTransport.set_blocked` (publish raises ``BrokerBlocked``) and
  :meth:`MemoryTransport.simulate_connection_loss`.

Inspection helpers for assertions: :attr:`~MemoryTransport.declared`, :meth:`~MemoryTransport.messages`,
:meth:`~MemoryTransport.unacked`, :meth:`~MemoryTransport.depth`, :attr:`~MemoryTransport.published`,
:attr:`~MemoryTransport.dropped`, :attr:`~MemoryTransport.stranded`.

Example::

    transport = MemoryTransport(default_topology("t", delivery_limit=3))
    await transport.start()
    await transport.publish("t.ingest", "3171.ormas", b"{}", message_id="m-1")
    assert [m.message_id for m in transport.messages("t.central")] == ["m-1"]
    async for delivery in transport.consume("t.central", prefetch=10):
        await delivery.ack()
        break
    await transport.close()

What it does not model: durability across restarts, publisher confirms timing, permissions, and
``user_id`` validation (every message carries the transport's ``user_id``).

This module: the transport class (the protocol, the test controls, inspection, consuming). Its parts: the
queues' state, :mod:`hub.transport.memory_state`; routing, settling and dead-lettering,
:mod:`hub.transport.memory_broker` (a mixin of :class:`MemoryTransport`); what a consumer holds,
:mod:`hub.transport.memory_delivery`. Imports the foundations (``hub.errors``, ``hub.metrics``) and the
transport modules below it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from hub.errors import BrokerBlocked, BrokerUnavailable, TopologyError, Unroutable
from hub.metrics import QueueStats
from hub.transport.base import HeaderValue, StreamOffset
from hub.transport.memory_broker import MemoryBroker
from hub.transport.memory_delivery import MemoryDelivery, MemoryStreamDelivery
from hub.transport.memory_state import (
    DeclaredTopology,
    MemoryMessage,
    PublishedMessage,
    _ConsumerState,
    _QueueState,
)
from hub.transport.policies import check_topology, queue_policies
from hub.transport.topic import validate_routing_key
from hub.transport.topology import BindingSpec, Topology

__all__ = [
    "DeclaredTopology",
    "MemoryDelivery",
    "MemoryMessage",
    "MemoryStreamDelivery",
    "MemoryTransport",
    "PublishedMessage",
]

log = structlog.get_logger(__name__)


class MemoryTransport(MemoryBroker):
    """In-memory :class:`~hub.transport.base.Transport` with RabbitMQ quorum-queue semantics.

    :param topology: exchanges, queues and bindings to declare on :meth:`start`.
    :param max_queue_length: per-queue bound (waiting plus unacknowledged); beyond it publishes are
        refused like ``overflow: reject-publish``.
    :param user_id: the ``user_id`` stamped on every message (the AMQP transport uses its login user).
    """

    def __init__(self, topology: Topology, *, max_queue_length: int = 10_000, user_id: str | None = "guest"):
        if max_queue_length < 1:
            raise ValueError("max_queue_length must be at least 1")
        self.topology = topology
        self.max_queue_length = max_queue_length
        self.user_id = user_id
        self.published: list[PublishedMessage] = []
        """Every confirmed publish, in order."""
        self.dropped: list[tuple[str, MemoryMessage, str]] = []
        """(queue, message, reason) for messages a broker would discard: rejected without a DLX."""
        self.stranded: list[tuple[str, MemoryMessage, str]] = []
        """(queue, message, reason) dead-lettered to a DLX that routes nowhere. RabbitMQ's at-least-once
        dead-lettering would keep retrying these; here they are parked for the test to look at."""
        self._exchanges: set[str] = set()
        self._queues: dict[str, _QueueState] = {}
        self._bindings: list[BindingSpec] = []
        self._policies: dict[str, dict[str, Any]] = {}
        self._consumers: set[_ConsumerState] = set()
        self._started = False
        self._closed = False
        self._ready_flag = True
        self._blocked = False
        self._tags = itertools.count(1)
        self._changed = asyncio.Event()

    # -- Transport protocol ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Declare the topology (idempotent); the policies it implies are listed in :attr:`declared`."""
        if self._closed:
            raise RuntimeError("transport is closed")
        check_topology(self.topology)
        self._exchanges.update(e.name for e in self.topology.exchanges)
        for spec in self.topology.queues:
            state = self._queues.get(spec.name)
            if state is None:
                self._queues[spec.name] = _QueueState(spec)
            else:
                state.spec = spec
        for binding in self.topology.bindings:
            if binding not in self._bindings:
                self._bindings.append(binding)
        for policy in queue_policies(self.topology):
            for queue in policy.queues:
                self._policies[queue] = dict(policy.definition)
        self._started = True
        log.info("topology_declared", transport="memory", queues=len(self._queues))

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
        """Route one message at once; raises where the AMQP transport would (see the module docstring)."""
        if self._closed or not self._started or not self._ready_flag:
            raise BrokerUnavailable("memory transport is not ready")
        if self._blocked:
            raise BrokerBlocked("memory transport is blocked (simulated broker alarm)")
        validate_routing_key(routing_key)
        if exchange not in self._exchanges:
            raise TopologyError(f"exchange {exchange!r} does not exist")
        targets = self._route(exchange, routing_key)
        if not targets:
            raise Unroutable(
                f"broker returned the message: no queue bound on {exchange!r} for {routing_key!r}"
            )
        for name in targets:
            state = self._queues[name]
            if state.spec.kind != "stream" and state.depth() >= self.max_queue_length:
                raise BrokerUnavailable(f"queue {name!r} is full (overflow reject-publish)")
        frozen = dict(headers or {})
        now = datetime.now(UTC)
        for name in targets:
            state = self._queues[name]
            message = MemoryMessage(
                body=body,
                exchange=exchange,
                routing_key=routing_key,
                message_id=message_id,
                headers=dict(frozen),
                content_type=content_type,
                user_id=self.user_id,
            )
            if state.spec.kind == "stream":
                state.log.append((now, message))
            else:
                state.ready.append(message)
        self.published.append(
            PublishedMessage(exchange, routing_key, body, message_id, frozen, content_type, targets)
        )
        self._notify()

    def consume(self, queue: str, *, prefetch: int) -> AsyncIterator[MemoryDelivery]:
        """Iterate deliveries from ``queue``, at most ``prefetch`` unacknowledged at once.

        Survives :meth:`simulate_connection_loss` (like the AMQP consumer re-subscribing) and ends on
        :meth:`close`. Closing the iterator (``aclose()``) returns its unacknowledged messages to the queue,
        as closing an AMQP channel does.
        """
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1 (0 would mean unbounded)")
        if queue in self._queues and self._queues[queue].spec.kind == "stream":
            raise TopologyError(f"queue {queue!r} is a stream: read it with read_stream")
        return self._consume(queue, prefetch)

    def read_stream(
        self, queue: str, *, offset: StreamOffset, prefetch: int
    ) -> AsyncIterator[MemoryStreamDelivery]:
        """Yield the messages of stream ``queue`` from ``offset`` (``first``, ``last``: the last message,
        ``next``, an offset, or the first message stored at or after a time); waits at the end; ends on
        :meth:`close`."""
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        if self._state(queue).spec.kind != "stream":
            raise TopologyError(f"queue {queue!r} is not a stream")
        return self._read_stream(queue, offset)

    @property
    def ready(self) -> bool:
        """True once started, while not closed, not set unready and not blocked."""
        return self._started and not self._closed and self._ready_flag and not self._blocked

    @property
    def blocked(self) -> bool:
        """True while :meth:`set_blocked` simulates a broker alarm."""
        return self._blocked

    @property
    def inflight(self) -> int:
        """Always 0: a memory publish is routed and confirmed in the same step."""
        return 0

    async def queue_stats(self, queues: Collection[str]) -> dict[str, QueueStats]:
        """Depth (waiting + unacknowledged) and active consumers of each of ``queues`` that exists."""
        active = [c for c in self._consumers if c.active]
        return {
            q: QueueStats(self.depth(q), sum(1 for c in active if c.queue == q))
            for q in queues
            if q in self._queues
        }

    async def close(self) -> None:
        """End every consume iterator; unacknowledged messages go back to their queues, as on a real
        connection close (``redelivered``, ``delivery_count`` + 1). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._end_consumers()
        self._notify()

    async def _read_stream(self, queue: str, offset: StreamOffset) -> AsyncIterator[MemoryStreamDelivery]:
        log_ = self._state(queue).log
        if offset == "first":
            index = 0
        elif offset == "last":
            index = max(len(log_) - 1, 0)
        elif offset == "next":
            index = len(log_)
        elif isinstance(offset, datetime):
            index = next((i for i, (at, _) in enumerate(log_) if at >= offset), len(log_))
        else:
            index = max(int(offset), 0)
        while not self._closed:
            changed = self._changed
            if index < len(log_):
                at, message = log_[index]
                yield MemoryStreamDelivery(
                    body=message.body,
                    routing_key=message.routing_key,
                    message_id=message.message_id,
                    headers={**message.headers, "x-stream-offset": index},
                    offset=index,
                    timestamp=at,
                )
                index += 1
                continue
            await changed.wait()

    # -- Test controls ------------------------------------------------------------------------------------

    def set_ready(self, ready: bool) -> None:
        """Simulate a lost (``False``) or restored (``True``) broker connection for publishing."""
        self._ready_flag = ready
        self._notify()

    def set_blocked(self, blocked: bool) -> None:
        """Simulate a broker memory or disk alarm: publish raises ``BrokerBlocked`` while blocked."""
        self._blocked = blocked
        self._notify()

    def simulate_connection_loss(self) -> int:
        """Return every unacknowledged message to its queue, as RabbitMQ does when the consumer's
        connection drops (``redelivered=True``, ``delivery_count`` + 1, the delivery limit applies).

        Deliveries handed out before the call become stale: their ``ack``/``reject`` is logged and skipped.
        Consume iterators carry on, as the AMQP transport's re-subscribe. Returns how many went back.
        """
        returned = self._end_consumers()
        self._notify()
        return returned

    # -- Inspection ---------------------------------------------------------------------------------------

    @property
    def declared(self) -> DeclaredTopology:
        """The exchanges, queues, bindings and per-queue effective policies declared so far."""
        return DeclaredTopology(
            exchanges=frozenset(self._exchanges),
            queues={name: state.spec for name, state in self._queues.items()},
            bindings=tuple(self._bindings),
            policies={name: dict(p) for name, p in self._policies.items()},
        )

    def messages(self, queue: str) -> list[MemoryMessage]:
        """The messages waiting in ``queue`` (not the unacknowledged ones), in delivery order."""
        state = self._state(queue)
        return [*state.returns, *state.ready]

    def unacked(self, queue: str) -> list[MemoryMessage]:
        """The messages delivered from ``queue`` and not yet acknowledged or rejected."""
        return [message for message, _ in self._state(queue).unacked.values()]

    def bodies(self, queue: str) -> list[bytes]:
        """Shortcut: the bodies of :meth:`messages`."""
        return [m.body for m in self.messages(queue)]

    def depth(self, queue: str) -> int:
        """Waiting plus unacknowledged messages in ``queue``."""
        return self._state(queue).depth()

    def purge(self, queue: str) -> int:
        """Drop the waiting messages of ``queue``; returns how many."""
        state = self._state(queue)
        count = len(state.ready) + len(state.returns)
        state.ready.clear()
        state.returns.clear()
        return count

    # -- Internals ----------------------------------------------------------------------------------------

    async def _consume(self, queue: str, prefetch: int) -> AsyncIterator[MemoryDelivery]:
        if not self._started:
            raise RuntimeError("call start() before consume()")
        state = self._state(queue)
        consumer = self._new_consumer(queue, prefetch)
        try:
            while True:
                changed = self._changed
                if self._closed:
                    return
                if not consumer.active:  # "reconnected" after simulate_connection_loss
                    consumer = self._new_consumer(queue, prefetch)
                if len(consumer.tags) < prefetch and (message := state.pop_next()) is not None:
                    tag = next(self._tags)
                    state.unacked[tag] = (message, consumer)
                    consumer.tags.add(tag)
                    headers = dict(message.headers)
                    if message.delivery_count:
                        headers["x-delivery-count"] = message.delivery_count  # as a quorum queue adds it
                    yield MemoryDelivery(
                        body=message.body,
                        routing_key=message.routing_key,
                        exchange=message.exchange,
                        message_id=message.message_id,
                        headers=headers,
                        redelivered=message.redelivered,
                        delivery_count=message.delivery_count,
                        user_id=message.user_id,
                        content_type=message.content_type,
                        queue=queue,
                        _transport=self,
                        _consumer=consumer,
                        _tag=tag,
                    )
                    continue
                await changed.wait()
        finally:
            if consumer.active:
                self._end_consumer(consumer)
                self._notify()
