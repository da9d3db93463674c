"""Replay: re-deliver a window of the feed stream to one named consumer, idempotently.

Every record the central node's ingest exchange routes also lands in the stream ``<prefix>.feed``
(``hub.transport.topology.with_feed``). ``replay`` reads that stream from a start (``first``, an offset, or a
time) up to the stream's end *as it was when the replay began*, keeps the records of one schema and/or
region, and publishes them with publisher confirms to the exchange ``<prefix>.replay`` with routing key
``<consumer>.<original routing key>``, which routes to that consumer's own quorum queue
``<prefix>.replay.<consumer>`` (declared here; no other consumer sees a replay).

Idempotent by construction: every envelope keeps its ``message_id`` and ``idempotency_key``; a message
whose records all match is re-published byte for byte with its original message id, and a message cut
down to its matching records gets the deterministic id of those records (``hub.model.codec.group_id``). So a
replay run twice, or overlapping a live delivery, adds deliveries but nothing that a deduping sink
applies twice.

Where it ends: the stream's last offset is found first (a short read from ``last`` until the broker has
nothing more to send); the replay stops after that offset, so records arriving meanwhile are left to
the live flow. A ``since`` time starts at the first stream chunk stored at or after it (RabbitMQ's
granularity); a few older records of that chunk may be replayed too, which dedupes like the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import orjson
import structlog

from hub.errors import BrokerUnavailable, ConfigError
from hub.model import codec
from hub.transport.base import HeaderValue, StreamDelivery, StreamOffset, Transport
from hub.transport.topology import BindingSpec, ExchangeSpec, QueueSpec, Topology

log = structlog.get_logger(__name__)

CONSUMER_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
REPLAY_HEADER = "x-simpul-replay"
OFFSET_HEADER = "x-simpul-stream-offset"


def replay_exchange(prefix: str) -> str:
    return f"{prefix}.replay"


def replay_queue(prefix: str, consumer: str) -> str:
    """The quorum queue a named consumer receives its replays in."""
    return f"{prefix}.replay.{consumer}"


def with_replay(topology: Topology, consumer: str) -> Topology:
    """``topology`` plus the replay exchange (once) and ``consumer``'s queue, bound by ``<consumer>.#``."""
    exchange = replay_exchange(topology.prefix)
    queue = replay_queue(topology.prefix, consumer)
    exchanges = topology.exchanges
    if all(e.name != exchange for e in exchanges):
        exchanges = (*exchanges, ExchangeSpec(exchange))
    return Topology(
        topology.prefix,
        exchanges,
        (*topology.queues, QueueSpec(queue)),
        (*topology.bindings, BindingSpec(exchange, queue, f"{consumer}.#")),
        topology.policy_name,
    )


def replay_topology(prefix: str, consumer: str, *, feed_max_age: str = "365D") -> Topology:
    """What ``simpul replay`` declares: the feed stream (as the node declares it), the replay exchange
    and the consumer's queue. Nothing with a dead-letter policy, so a replay never rewrites the node's
    work-queue policies."""
    stream = QueueSpec(f"{prefix}.feed", kind="stream", max_age=feed_max_age)
    return with_replay(Topology(prefix, queues=(stream,)), consumer)


@dataclass(frozen=True)
class ReplayFilter:
    """Which records to replay: one schema and/or a region (a kode wilayah prefix such as 32 or 32.01)."""

    schema: str | None = None
    region: str | None = None

    def keeps(self, envelope: dict[str, object]) -> bool:
        if self.schema is not None and envelope.get("schema_name") != self.schema:
            return False
        if self.region is not None:
            code = str(envelope.get("kode_wilayah") or "")
            return code == self.region or code.startswith(self.region + ".")
        return True


@dataclass
class ReplayResult:
    """What a replay did. ``first``/``last`` are the stream offsets read (None if the window was empty)."""

    consumer: str
    queue: str
    end_offset: int | None = None
    first: int | None = None
    last: int | None = None
    messages_read: int = 0
    records_read: int = 0
    records_matched: int = 0
    messages_published: int = 0
    unreadable: int = 0

    def summary(self) -> str:
        if self.first is not None:
            window = f"offsets {self.first}-{self.last}"
        else:
            window = "empty stream" if self.end_offset is None else "empty window"
        skipped = f", {self.unreadable} unreadable skipped" if self.unreadable else ""
        return (
            f"replayed to {self.queue}: read {self.messages_read} messages ({window}, {self.records_read} "
            f"records), matched {self.records_matched} records, published {self.messages_published} "
            f"messages, each confirmed by the broker{skipped}"
        )


Progress = Callable[[ReplayResult], None]


async def stream_end(
    transport: Transport, stream: str, *, settle_s: float = 0.5, timeout_s: float = 10.0
) -> int | None:
    """The stream's last offset now: read from ``last`` (its last chunk) until nothing more arrives for
    ``settle_s``. None if the stream is empty."""
    end: int | None = None
    reader = transport.read_stream(stream, offset="last", prefetch=1000)
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                try:
                    async with asyncio.timeout(settle_s):
                        delivery = await anext(reader)
                except TimeoutError:
                    return end
                await delivery.ack()
                end = delivery.offset if end is None else max(end, delivery.offset)
    finally:
        await _close(reader)


async def _close(reader: object) -> None:
    """Close a stream reader (an async generator) so its broker consumer is cancelled now."""
    aclose = getattr(reader, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


async def replay(
    transport: Transport,
    *,
    consumer: str,
    since: StreamOffset,
    where: ReplayFilter,
    prefix: str = "simpul",
    progress: Progress | None = None,
    window: int = 64,
    first_timeout_s: float = 5.0,
    stall_timeout_s: float = 60.0,
) -> ReplayResult:
    """Replay the stream from ``since`` to its current end into ``consumer``'s queue (module docstring).

    Up to ``window`` publishes await their confirms at once; the function returns only when every
    publish is confirmed, and raises (``BrokerUnavailable``...) otherwise: run it again, it is idempotent.
    A window with no message (``since`` after the last one) ends after ``first_timeout_s``.
    """
    stream = f"{prefix}.feed"
    result = ReplayResult(consumer, replay_queue(prefix, consumer))
    result.end_offset = await stream_end(transport, stream)
    end = result.end_offset
    if end is None or since == "next" or (isinstance(since, int) and since > end):
        return result  # nothing stored in the window
    pending: set[asyncio.Task[None]] = set()
    reader = transport.read_stream(stream, offset=since, prefetch=max(window * 2, 100))
    try:
        while True:
            try:
                # A time after the last message starts the broker at "next": nothing ever comes. Once
                # messages flow, a long silence before the end means the stream stalled.
                async with asyncio.timeout(first_timeout_s if result.first is None else stall_timeout_s):
                    delivery = await anext(reader)
            except TimeoutError:
                if result.first is None:
                    break
                raise BrokerUnavailable("the stream stopped delivering before the replay's end") from None
            if delivery.offset > end:
                break
            task = await _handle(transport, delivery, where, result, prefix, consumer)
            if task is not None:
                pending.add(task)
                if len(pending) >= window:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for t in done:
                        t.result()  # a failed publish ends the replay
            await delivery.ack()
            if progress is not None:
                progress(result)
            if delivery.offset >= end:
                break
        if pending:
            await asyncio.gather(*pending)
            pending.clear()
    finally:
        for task in pending:
            task.cancel()
        await _close(reader)
    log.info(
        "replay_done",
        consumer=consumer,
        first=result.first,
        last=result.last,
        matched=result.records_matched,
        published=result.messages_published,
    )
    return result


async def _handle(
    transport: Transport,
    delivery: StreamDelivery,
    where: ReplayFilter,
    result: ReplayResult,
    prefix: str,
    consumer: str,
) -> asyncio.Task[None] | None:
    """Count one stream message and start publishing its matching records, if any."""
    result.first = delivery.offset if result.first is None else result.first
    result.last = delivery.offset
    result.messages_read += 1
    try:
        envelopes = codec.split_batch(delivery.body)
    except ValueError:
        result.unreadable += 1  # kept in the stream; never ours to judge here
        return None
    result.records_read += len(envelopes)
    kept = [e for e in envelopes if where.keeps(e)]
    if not kept:
        return None
    result.records_matched += len(kept)
    if len(kept) == len(envelopes) and delivery.message_id:
        body, message_id = delivery.body, delivery.message_id
    else:
        body = codec.join_batch([orjson.dumps(e) for e in kept])
        message_id = codec.group_id([str(e.get("message_id")) for e in kept])
    headers: dict[str, HeaderValue] = {
        codec.FORMAT_HEADER: codec.FORMAT,
        codec.COUNT_HEADER: len(kept),
        REPLAY_HEADER: consumer,
        OFFSET_HEADER: delivery.offset,
    }
    routing_key = f"{consumer}.{delivery.routing_key}"

    async def publish() -> None:
        await transport.publish(
            replay_exchange(prefix), routing_key, body, message_id=message_id, headers=headers,
            content_type=codec.CONTENT_TYPE,
        )  # fmt: skip
        result.messages_published += 1

    return asyncio.create_task(publish())


def parse_since(text: str) -> StreamOffset:
    """``first``/``last``/``next``, a non-negative offset, or an aware ISO time."""
    if text in ("first", "last", "next"):
        return text  # type: ignore[return-value]
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(re.sub(r" (\d{2}:?\d{2})$", r"+\1", text))
    except ValueError:
        raise ConfigError("is not first, an offset or an ISO time", key="--since") from None
    if when.tzinfo is None:
        raise ConfigError("needs its UTC offset (e.g. 2024-04-01T00:00:00+07:00)", key="--since")
    return when
