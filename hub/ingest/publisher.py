"""The batching publisher: records with one routing key share an AMQP message; each waits for its confirm.

``submit`` returns once the broker confirmed the message that carried the record, and raises what the
transport raised otherwise (the caller decides: 503 for a push, back-off for a pull). Grouping is bounded
by record count, body size and a short linger; the number of records waiting for a confirm is bounded by
a semaphore, so a slow or blocked broker turns into backpressure on the sources, never into a buffer.

The linger is Nagle's rule: a new batch waits ``linger_s`` for company only while earlier messages are
still waiting for their confirms; with nothing in flight it leaves on the next turn of the event loop
(records handed over in one ``submit_many`` call still share messages). So a quiet node adds no linger
to a record's latency, and a busy one sends fuller messages.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from hub import faultpoints
from hub.metrics import Metrics
from hub.model import codec
from hub.transport.base import Transport

log = structlog.get_logger(__name__)


@dataclass
class _Batch:
    routing_key: str
    # One future per AMQP message, shared by its records: they are confirmed (or fail) together.
    done: asyncio.Future[None]
    items: list[bytes] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    size: int = 2
    timer: asyncio.TimerHandle | None = None


class BatchingPublisher:
    """Publishes serialised envelopes to one exchange, grouped per routing key."""

    def __init__(
        self,
        transport: Transport,
        exchange: str,
        metrics: Metrics,
        *,
        max_records: int = 100,
        max_bytes: int = 512 * 1024,
        linger_s: float = 0.005,
        max_pending: int = 20_000,
    ) -> None:
        self._transport = transport
        self._exchange = exchange
        self._metrics = metrics
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._linger_s = linger_s
        self._slots = asyncio.Semaphore(max_pending)
        self._open: dict[str, _Batch] = {}
        self._sending: set[asyncio.Task[None]] = set()

    @property
    def ready(self) -> bool:
        """Whether the transport can publish now (connected, not blocked by an alarm): no I/O."""
        return self._transport.ready

    async def submit(self, routing_key: str, item: bytes, message_id: str) -> None:
        """Publish one serialised envelope; return after the broker confirmed it."""
        async with self._slots:
            self._metrics.pending_records.inc()
            try:
                waiter = self._add(routing_key, item, message_id)
                await asyncio.shield(waiter)
            finally:
                self._metrics.pending_records.dec()

    async def submit_many(self, items: Sequence[tuple[str, bytes, str]]) -> list[BaseException | None]:
        """Publish several serialised envelopes, each ``(routing key, body, message id)``; return once
        every one was confirmed or failed: per item None, or the exception ``submit`` would raise.

        The same bounds as ``submit`` (a slot per record awaiting its confirm), but one waiter per AMQP
        message instead of a task, a shield and a future per record: that per-record asyncio work cost
        more than the publish itself (bench/, docs/performance.md). Cancelling the caller leaves the
        records already handed over in flight, as with ``submit``.
        """
        futures: list[asyncio.Future[None]] = []
        held: dict[int, list[int]] = {}  # per AMQP message of this call: slots to give back when it ends
        counted = 0  # records added but not yet in the pending gauge: one inc per run, not per record
        for routing_key, item, message_id in items:
            if self._slots.locked():  # about to wait: the gauge shows what is already waiting
                self._metrics.pending_records.inc(counted)
                counted = 0
            await self._slots.acquire()
            counted += 1
            future = self._add(routing_key, item, message_id)
            futures.append(future)
            count = held.get(id(future))
            if count is None:
                count = held[id(future)] = [0]
                future.add_done_callback(functools.partial(self._give_back, count))
            count[0] += 1
        if counted:
            self._metrics.pending_records.inc(counted)
        if futures:
            await asyncio.wait(set(futures))
        return [_failure(f) for f in futures]

    def _give_back(self, count: list[int], _future: asyncio.Future[None]) -> None:
        for _ in range(count[0]):
            self._slots.release()
        self._metrics.pending_records.dec(count[0])

    def _add(self, routing_key: str, item: bytes, message_id: str) -> asyncio.Future[None]:
        batch = self._open.get(routing_key)
        if batch is not None and batch.size + len(item) + 1 > self._max_bytes:
            self._flush(routing_key)
            batch = None
        if batch is None:
            loop = asyncio.get_running_loop()
            batch = self._open[routing_key] = _Batch(routing_key, done=loop.create_future())
            # A submitter may be cancelled while its record is in flight; retrieve the outcome anyway so
            # a failure is not reported as "never retrieved" (the record itself is retried by its source).
            batch.done.add_done_callback(_consume_outcome)
            linger = self._linger_s if self._sending else 0.0  # Nagle: wait only behind a send in flight
            batch.timer = loop.call_later(linger, self._flush, routing_key)
        waiter = batch.done
        batch.items.append(item)
        batch.ids.append(message_id)
        batch.size += len(item) + 1
        if len(batch.items) >= self._max_records:
            self._flush(routing_key)
        return waiter

    def _flush(self, routing_key: str) -> None:
        batch = self._open.pop(routing_key, None)
        if batch is None:
            return
        if batch.timer is not None:
            batch.timer.cancel()
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: _Batch) -> None:
        body = codec.join_batch(batch.items)
        message_id = codec.group_id(batch.ids)
        started = time.perf_counter()
        try:
            faultpoints.reach("publish_before_send")
            await self._transport.publish(
                self._exchange,
                batch.routing_key,
                body,
                message_id=message_id,
                headers={codec.FORMAT_HEADER: codec.FORMAT, codec.COUNT_HEADER: len(batch.items)},
                content_type=codec.CONTENT_TYPE,
            )
        except Exception as exc:  # every waiter learns the same failure and decides itself
            self._metrics.publish_errors.labels(kind=type(exc).__name__).inc()
            log.warning(
                "publish_failed",
                routing_key=batch.routing_key,
                records=len(batch.items),
                error=type(exc).__name__,
                detail=str(exc),
            )
            if not batch.done.done():
                batch.done.set_exception(exc)
            return
        faultpoints.reach("publish_confirmed_unseen")
        self._metrics.publish_latency.observe(time.perf_counter() - started)
        self._metrics.batch_records.observe(len(batch.items))
        if not batch.done.done():
            batch.done.set_result(None)

    async def drain(self) -> None:
        """Send every open batch now and wait until all sends have finished."""
        for key in list(self._open):
            self._flush(key)
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)


def _failure(future: asyncio.Future[None]) -> BaseException | None:
    """What a finished batch future means for one of its records: None (confirmed) or the error."""
    return asyncio.CancelledError() if future.cancelled() else future.exception()


def _consume_outcome(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
