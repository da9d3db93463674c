"""The state of the in-memory transport (:mod:`hub.transport.memory`): the messages its queues hold, each
queue's waiting, returned, unacknowledged and stream messages, each consumer's deliveries in hand, and the
records kept for assertions (:class:`PublishedMessage`, :class:`DeclaredTopology`).

Plain data: a queue knows its depth and its next message, nothing more. Imports ``hub.transport.base`` and
``hub.transport.topology`` only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.transport.base import HeaderValue
from hub.transport.topology import BindingSpec, QueueSpec

__all__ = ["DeclaredTopology", "MemoryMessage", "PublishedMessage"]


@dataclass
class MemoryMessage:
    """A message held by a memory queue. ``body`` is left out of ``repr`` so it never reaches a log."""

    body: bytes = field(repr=False)
    exchange: str
    routing_key: str
    message_id: str | None
    headers: dict[str, object]
    content_type: str
    user_id: str | None
    delivery_count: int = 0
    redelivered: bool = False


@dataclass(frozen=True)
class PublishedMessage:
    """One confirmed publish, in order, for assertions: where it went and what it carried."""

    exchange: str
    routing_key: str
    body: bytes = field(repr=False)
    message_id: str
    headers: Mapping[str, HeaderValue]
    content_type: str
    queues: tuple[str, ...]


@dataclass(frozen=True)
class DeclaredTopology:
    """What :meth:`MemoryTransport.start` declared, as a broker would list it."""

    exchanges: frozenset[str]
    queues: Mapping[str, QueueSpec]
    bindings: tuple[BindingSpec, ...]
    policies: Mapping[str, Mapping[str, Any]]


@dataclass(eq=False)
class _QueueState:
    spec: QueueSpec
    ready: deque[MemoryMessage] = field(default_factory=deque)
    returns: deque[MemoryMessage] = field(default_factory=deque)  # delivered before `ready`, like RabbitMQ
    unacked: dict[int, tuple[MemoryMessage, _ConsumerState]] = field(default_factory=dict)
    log: list[tuple[datetime, MemoryMessage]] = field(default_factory=list)  # a stream's messages

    def depth(self) -> int:
        return len(self.ready) + len(self.returns) + len(self.unacked) + len(self.log)

    def pop_next(self) -> MemoryMessage | None:
        if self.returns:
            return self.returns.popleft()
        if self.ready:
            return self.ready.popleft()
        return None


@dataclass(eq=False)
class _ConsumerState:
    """One subscription "channel": its deliveries go stale when it ends (close, connection loss)."""

    queue: str
    prefetch: int
    tags: set[int] = field(default_factory=set)
    active: bool = True
