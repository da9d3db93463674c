"""The ``amqp_source``: records an existing system publishes on its own RabbitMQ, acked upstream only
after Simpul's broker confirmed them.

Each ``SourceBatch`` is built from whole messages (a message's records never straddle two batches): up
to ``batch_messages`` messages or ``batch_records`` records, gathered for at most ``linger_ms`` after the
first. Its ``commit``, which the runner calls only after every record was confirmed (published or
quarantined), acks exactly those messages. The runner asks for the next batch only after the commit, so
batches are strictly sequential; ``prefetch`` bounds what is held meanwhile.

A crash or stop before the commit leaves the messages unacked: the upstream broker redelivers them and
the records are published again with the same identity, which the sinks count as duplicates.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog

from adapters.amqp_source.config import AmqpSourceConfig
from adapters.amqp_source.records import records_from
from adapters.amqp_source.upstream import BrokerUpstream, Upstream, UpstreamMessage
from hub.adapters.model import AdapterContext, SourceBatch
from hub.model.records import SourceRecord

log = structlog.get_logger(__name__)


class AmqpSource:
    """A ``SourceAdapter`` over an upstream queue; ``upstream`` may be injected (``MemoryUpstream``)."""

    def __init__(
        self, config: AmqpSourceConfig, context: AdapterContext, *, upstream: Upstream | None = None
    ) -> None:
        self._config = config
        self._context = context
        self._upstream = upstream or BrokerUpstream(config, context.name)
        self.acked = 0

    async def start(self) -> None:
        # Connecting happens in read(): there a broker that is down is retried with back-off by the
        # runner, while an exception from start() would end the runner for good.
        return None

    async def stop(self) -> None:
        await self._upstream.close()

    async def read(self) -> AsyncIterator[SourceBatch]:
        """Batches of whole messages, for ever (until the node stops the runner)."""
        await self._upstream.start()
        while True:
            messages, records = await self._gather()
            if not messages:
                continue
            yield SourceBatch(records, self._acker(messages))

    async def _gather(self) -> tuple[list[UpstreamMessage], list[SourceRecord]]:
        c = self._config
        first = await self._upstream.next(None)
        if first is None:
            return [], []
        messages = [first]
        records = records_from(first.body, c, self._context.record, first.message_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + c.linger_ms / 1000
        while len(messages) < c.batch_messages and len(records) < c.batch_records:
            message = await self._upstream.next(max(0.0, deadline - loop.time()))
            if message is None:
                break
            messages.append(message)
            records.extend(records_from(message.body, c, self._context.record, message.message_id))
        return messages, records

    def _acker(self, messages: list[UpstreamMessage]) -> Callable[[], Awaitable[None]]:
        async def commit() -> None:
            for message in messages:
                await message.ack()
            self.acked += len(messages)
            log.info("upstream_batch_acked", adapter=self._context.name, messages=len(messages))

        return commit
