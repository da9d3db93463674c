"""What a consumer of the in-memory transport (:mod:`hub.transport.memory`) holds: a queue's delivery
(:class:`MemoryDelivery`, settled through the broker side, :mod:`hub.transport.memory_broker`) and a
stream's message (:class:`MemoryStreamDelivery`).

Imports ``hub.transport.memory_broker`` and ``hub.transport.memory_state`` only (and structlog). Message
bodies are never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from hub.transport.memory_broker import MemoryBroker
from hub.transport.memory_state import _ConsumerState

__all__ = ["MemoryDelivery", "MemoryStreamDelivery"]

log = structlog.get_logger("hub.transport.memory")  # the transport's logger name, as before the split


@dataclass(eq=False)
class MemoryDelivery:
    """A delivery from a :class:`MemoryTransport` queue; implements :class:`hub.transport.base.Delivery`."""

    body: bytes = field(repr=False)
    routing_key: str
    exchange: str
    message_id: str | None
    headers: Mapping[str, object]
    redelivered: bool
    delivery_count: int
    user_id: str | None
    content_type: str
    queue: str
    _transport: MemoryBroker = field(repr=False)  # the MemoryTransport, by its broker side (no import cycle)
    _consumer: _ConsumerState = field(repr=False)
    _tag: int = field(repr=False)
    _settled: bool = field(default=False, repr=False)
    persistent: bool = True  # every message the hub publishes is persistent

    @property
    def stale(self) -> bool:
        """True once its consumer ended (transport closed, iterator closed, simulated connection loss)."""
        return not self._consumer.active

    async def ack(self) -> None:
        """Acknowledge; a stale or already settled delivery is logged and skipped, never raises."""
        if self._begin("ack"):
            self._transport._ack(self.queue, self._tag)

    async def reject(self, *, requeue: bool) -> None:
        """Requeue (counting a delivery attempt) or dead-letter the message."""
        if self._begin("reject"):
            self._transport._reject(self.queue, self._tag, requeue=requeue)

    def _begin(self, action: str) -> bool:
        if self._settled:
            log.warning(
                "delivery_already_settled", queue=self.queue, message_id=self.message_id, action=action
            )
            return False
        self._settled = True
        if self.stale:
            log.info(f"stale_{action}_skipped", queue=self.queue, message_id=self.message_id, reason="stale")
            return False
        return True


@dataclass(eq=False)
class MemoryStreamDelivery:
    """A message read from a memory stream; implements :class:`hub.transport.base.StreamDelivery`."""

    body: bytes = field(repr=False)
    routing_key: str
    message_id: str | None
    headers: Mapping[str, object]
    offset: int
    timestamp: datetime

    async def ack(self) -> None:
        """Nothing to do: the stream keeps the message."""
