"""Files quarantine entries from the quarantine queue into the node's ``QuarantineStore``, then acks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from pydantic import ValidationError

from hub.quarantine.entry import QuarantineEntry
from hub.quarantine.store import QuarantineStore
from hub.transport.base import Delivery

log = structlog.get_logger(__name__)


class QuarantineWorker:
    """The ``BatchConsumer`` handler that keeps quarantine entries for listing and redrive."""

    def __init__(self, store: QuarantineStore) -> None:
        self._store = store

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        entries: list[QuarantineEntry] = []
        keep: list[Delivery] = []
        for delivery in deliveries:
            try:
                entries.append(QuarantineEntry.model_validate_json(delivery.body))
                keep.append(delivery)
            except ValidationError:
                log.error("quarantine_entry_unreadable", message_id=delivery.message_id)
                await delivery.reject(requeue=False)  # parked in the dead queue, not dropped
        if entries:
            added = await asyncio.to_thread(self._store.add, entries)
            log.debug("quarantine_filed", entries=len(entries), new=added)
        for delivery in keep:
            await delivery.ack()
