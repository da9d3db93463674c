"""A batching consumer: takes deliveries from a queue, hands them to a handler in groups, never drops one.

The handler decides each delivery's fate by calling ``ack`` or ``reject`` itself, after its work is
durable. If the handler raises, the group is retried one delivery at a time (so one poison message does
not drag its neighbours towards the delivery limit); a delivery that still fails is requeued, and the
queue's delivery limit eventually dead-letters it (kept in the dead queue, never dropped). A
``RetriableError`` (the sink or the next hop is unavailable) is not the messages' fault: the group is held
and retried with back-off, so an outage does not push healthy messages into the dead queue.

``concurrency`` > 1 lets that many groups be handled at once (the next group is decoded and validated
while the previous one waits for its database commit); the handler must then be safe to call
concurrently (the PostgreSQL sink is: advisory locks per record key). Each group is still acked only by
its own handler call, after its own durable work.

Group commit: a group takes what is waiting in the inbox and, only while another group is in hand,
lingers up to ``linger_s`` (default 0) for more. An idle consumer hands a lone delivery over at once;
under load the groups fill up by themselves while the previous ones commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import structlog

from hub.errors import RetriableError
from hub.transport.base import Delivery, Transport

log = structlog.get_logger(__name__)

Handler = Callable[[Sequence[Delivery]], Awaitable[None]]


class BatchConsumer:
    """Runs ``handler`` over groups of up to ``max_messages`` deliveries (see the module docstring)."""

    def __init__(
        self,
        transport: Transport,
        queue: str,
        handler: Handler,
        *,
        name: str,
        prefetch: int = 64,
        max_messages: int = 32,
        linger_s: float = 0.01,
        concurrency: int = 1,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._transport = transport
        self._queue_name = queue
        self._handler = handler
        self.name = name
        self._prefetch = prefetch
        self._max_messages = max_messages
        self._linger_s = linger_s
        self._inbox: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=prefetch)
        self._pump_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.last_error: str | None = None
        self.batches = 0
        self._backoff_s = 0.0
        self._slots = asyncio.Semaphore(concurrency)
        self._handling: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Consume until ``stop``; the groups in hand are finished before returning."""
        pump = self._pump_task = asyncio.create_task(self._pump(), name=f"{self.name}-pump")
        try:
            while not self._stopping.is_set():
                await self._slots.acquire()  # a free slot first, so no group waits gathered but unhandled
                group = await self._gather()
                if group:
                    task = asyncio.create_task(self._handle(group))
                    self._handling.add(task)
                    task.add_done_callback(self._handled)
                    continue
                self._slots.release()
                if pump.done() and self._inbox.empty():
                    break  # the transport ended the subscription (closed) or failed
        except asyncio.CancelledError:
            for task in self._handling:  # cancelled from outside: so are the groups in hand (unacked)
                task.cancel()
            raise
        finally:
            if self._handling:
                await asyncio.gather(*self._handling, return_exceptions=True)
        if pump.done() and not pump.cancelled() and (exc := pump.exception()) is not None:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("consumer_stopped", consumer=self.name, error=type(exc).__name__, detail=str(exc))
            raise exc

    def _handled(self, task: asyncio.Task[None]) -> None:
        self._handling.discard(task)
        self._slots.release()

    async def stop(self, *, drain_timeout: float = 5.0) -> None:
        """Stop taking deliveries; the groups in hand get up to ``drain_timeout`` seconds to settle first.

        Only then is the subscription closed: closing the channel while a handler is about to ack races
        the ack against the close (RabbitMQ answers an ack on a closed channel by closing the whole
        connection, CHANNEL_ERROR 504), and the committed records come back as redeliveries. Unhandled
        deliveries in the inbox stay unacked and are redelivered.
        """
        self._stopping.set()
        if self._handling:
            await asyncio.wait(set(self._handling), timeout=drain_timeout)
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task

    async def _pump(self) -> None:
        async for delivery in self._transport.consume(self._queue_name, prefetch=self._prefetch):
            await self._inbox.put(delivery)

    async def _gather(self) -> list[Delivery]:
        try:
            first = await asyncio.wait_for(self._inbox.get(), timeout=0.25)
        except TimeoutError:
            return []
        group = [first]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self._linger_s if self._handling else 0.0)  # group commit
        while len(group) < self._max_messages:
            if not self._inbox.empty():
                group.append(self._inbox.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                group.append(await asyncio.wait_for(self._inbox.get(), timeout=remaining))
            except TimeoutError:
                break
        return group

    async def _handle(self, group: list[Delivery]) -> None:
        self.batches += 1
        try:
            while True:
                try:
                    await self._handler(group)
                    self._backoff_s = 0.0
                    return
                except RetriableError as exc:
                    # The sink or the next hop is down: not these messages' fault. Hold the group and
                    # retry it; rejecting would count towards the delivery limit and park healthy
                    # messages in the dead queue during an outage.
                    if not await self._hold(group, exc):
                        return
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "consumer_batch_failed",
                consumer=self.name,
                messages=len(group),
                error=type(exc).__name__,
                detail=str(exc),
            )
        for delivery in group:  # one at a time, so only the poison message is held back
            try:
                await self._handler([delivery])
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error(
                    "consumer_message_failed",
                    consumer=self.name,
                    message_id=delivery.message_id,
                    delivery_count=delivery.delivery_count,
                    error=type(exc).__name__,
                    detail=str(exc),
                )
                await delivery.reject(requeue=True)
        # A failing sink (database down, disk full) should not spin through the delivery limit.
        self._backoff_s = min(max(self._backoff_s * 2, 0.1), 5.0)
        await asyncio.sleep(self._backoff_s)

    async def _hold(self, group: list[Delivery], exc: RetriableError) -> bool:
        """Back off before retrying ``group``; False if it should be given up (stopping, or every
        delivery is stale after a reconnect: the broker redelivers them, unacked, either way)."""
        self.last_error = f"{type(exc).__name__}: {exc}"
        self._backoff_s = min(max(self._backoff_s * 2, 0.1), 5.0)
        log.warning(
            "consumer_sink_unavailable",
            consumer=self.name,
            messages=len(group),
            error=type(exc).__name__,
            detail=str(exc),
            retry_in_s=self._backoff_s,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=self._backoff_s)
        return not self._stopping.is_set() and not all(getattr(d, "stale", False) for d in group)
