"""The broker side of the in-memory transport (:mod:`hub.transport.memory`): topic routing to the bound
queues, and what becomes of a delivered message: ack, requeue (a delivery attempt, counted against the
queue's ``delivery_limit``), dead-lettering with RabbitMQ's ``x-death`` and ``x-first-death-*`` headers (or
``dropped`` / ``stranded``), and the return of an ended consumer's unacknowledged messages.

:class:`MemoryBroker` is a mixin of ``MemoryTransport``: it owns these rules; the transport owns the queues,
bindings and consumers (set in its ``__init__``, declared in this class's body so mypy checks both sides),
the lifecycle, consuming and the test controls. Imports ``hub.errors``, ``hub.transport.topic``,
``hub.transport.topology`` and ``hub.transport.memory_state`` only (and structlog).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import structlog

from hub.errors import TopologyError
from hub.transport.memory_state import MemoryMessage, _ConsumerState, _QueueState
from hub.transport.topic import topic_matches
from hub.transport.topology import BindingSpec

__all__ = ["MemoryBroker"]

log = structlog.get_logger("hub.transport.memory")  # the transport's logger name, as before the split


class MemoryBroker:
    """The broker side of :class:`~hub.transport.memory.MemoryTransport` (a mixin; see the module doc)."""

    # The transport's, set by MemoryTransport.__init__.
    dropped: list[tuple[str, MemoryMessage, str]]
    stranded: list[tuple[str, MemoryMessage, str]]
    _queues: dict[str, _QueueState]
    _bindings: list[BindingSpec]
    _consumers: set[_ConsumerState]
    _changed: asyncio.Event

    def _state(self, queue: str) -> _QueueState:
        try:
            return self._queues[queue]
        except KeyError:
            raise TopologyError(f"queue {queue!r} is not declared") from None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _route(self, exchange: str, routing_key: str) -> tuple[str, ...]:
        targets: list[str] = []
        for binding in self._bindings:
            if (
                binding.exchange == exchange
                and binding.queue not in targets
                and topic_matches(binding.pattern, routing_key)
            ):
                targets.append(binding.queue)
        return tuple(targets)

    def _new_consumer(self, queue: str, prefetch: int) -> _ConsumerState:
        consumer = _ConsumerState(queue, prefetch)
        self._consumers.add(consumer)
        return consumer

    def _end_consumers(self) -> int:
        return sum(self._end_consumer(c) for c in list(self._consumers))

    def _end_consumer(self, consumer: _ConsumerState) -> int:
        """Deactivate ``consumer`` and return its unacked messages in delivery order."""
        consumer.active = False
        self._consumers.discard(consumer)
        state = self._queues[consumer.queue]
        for tag in sorted(consumer.tags):
            entry = state.unacked.pop(tag, None)
            if entry is not None:
                self._return(consumer.queue, state, entry[0])
        returned = len(consumer.tags)
        consumer.tags.clear()
        return returned

    def _ack(self, queue: str, tag: int) -> None:
        entry = self._queues[queue].unacked.pop(tag, None)
        if entry is not None:
            entry[1].tags.discard(tag)
        self._notify()

    def _reject(self, queue: str, tag: int, *, requeue: bool) -> None:
        state = self._queues[queue]
        entry = state.unacked.pop(tag, None)
        if entry is None:
            return
        message, consumer = entry
        consumer.tags.discard(tag)
        if requeue:
            self._return(queue, state, message)
        else:
            self._dead_letter(queue, state, message, "rejected")
        self._notify()

    def _return(self, queue: str, state: _QueueState, message: MemoryMessage) -> None:
        """A message comes back unacknowledged: count the attempt, dead-letter beyond the limit."""
        message.delivery_count += 1
        message.redelivered = True
        limit = state.spec.delivery_limit
        if limit is not None and message.delivery_count > limit:
            self._dead_letter(queue, state, message, "delivery_limit")
        else:
            state.returns.append(message)

    def _dead_letter(self, queue: str, state: _QueueState, message: MemoryMessage, reason: str) -> None:
        dlx = state.spec.dead_letter_exchange
        if dlx is None:
            log.warning("message_dropped", queue=queue, message_id=message.message_id, reason=reason)
            self.dropped.append((queue, message, reason))
            return
        death = {
            "count": 1,
            "reason": reason,
            "queue": queue,
            "exchange": message.exchange,
            "routing-keys": [message.routing_key],
            "time": int(time.time()),
        }
        headers = {k: v for k, v in message.headers.items() if k != "x-delivery-count"}
        previous = headers.get("x-death")
        headers["x-death"] = [death, *(previous if isinstance(previous, list) else [])]
        headers.setdefault("x-first-death-queue", queue)
        headers.setdefault("x-first-death-reason", reason)
        headers.setdefault("x-first-death-exchange", message.exchange)
        dead = MemoryMessage(
            body=message.body,
            exchange=dlx,
            routing_key=message.routing_key,
            message_id=message.message_id,
            headers=headers,
            content_type=message.content_type,
            user_id=message.user_id,
        )
        targets = self._route(dlx, message.routing_key)
        if not targets:
            log.warning("dead_letter_unroutable", queue=queue, message_id=message.message_id, reason=reason)
            self.stranded.append((queue, dead, reason))
            return
        log.info("message_dead_lettered", queue=queue, message_id=message.message_id, reason=reason)
        for name in targets:
            self._queues[name].ready.append(replace(dead, headers=dict(dead.headers)))  # a copy per queue
