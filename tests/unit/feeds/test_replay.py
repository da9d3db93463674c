"""Replay on the memory transport: the window, the filters, the stream offsets, and idempotence."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.sqlite_sink import SqliteWarehouse
from hub.errors import TopologyError
from hub.feeds.replay import ReplayFilter, replay, replay_queue, stream_end, with_replay
from hub.model import codec
from hub.transport.memory import MemoryTransport
from hub.transport.topology import default_topology, with_feed
from schemas.envelope import Envelope
from tests.unit.feeds.builders import feed_env

PREFIX = "t"


async def _publish(transport: MemoryTransport, envelopes: list[Envelope]) -> None:
    """One AMQP message per envelope group, as the node's publisher builds them."""
    body = codec.join_batch([e.model_dump_json().encode() for e in envelopes])
    first = envelopes[0]
    key = f"{first.schema_name}.v1.{first.kode_wilayah}"
    await transport.publish(
        f"{PREFIX}.ingest", key, body, message_id=codec.group_id([e.message_id for e in envelopes])
    )


def _transport() -> MemoryTransport:
    return MemoryTransport(with_replay(with_feed(default_topology(PREFIX)), "bappenas"))


def _apply_queue(transport: MemoryTransport, wh: SqliteWarehouse) -> list[str]:
    """What a deduping consumer of the replay queue does: apply every envelope; the statuses."""
    statuses = []
    for message in transport.messages(replay_queue(PREFIX, "bappenas")):
        envelopes = [Envelope.model_validate(e) for e in codec.split_batch(message.body)]
        statuses += [r.status for r in wh.apply(envelopes)]
    transport.purge(replay_queue(PREFIX, "bappenas"))
    return statuses


async def test_replay_twice_applies_each_record_once(tmp_path: Path) -> None:
    """A region filter keeps 32's records (cutting a mixed message down); a second run delivers the
    same messages with the same ids, and the deduping sink applies nothing new."""
    transport = _transport()
    await transport.start()
    await _publish(transport, [feed_env(rid=f"A{i}", kode="32.01") for i in range(3)])
    await _publish(transport, [feed_env(rid="B0", kode="33.01")])
    await _publish(transport, [feed_env(rid="C0", kode="32.71"), feed_env(rid="C1", kode="33.02")])
    wh = SqliteWarehouse(tmp_path / "consumer.db")
    where = ReplayFilter("ormas_registration", "32")
    first = await replay(transport, consumer="bappenas", since="first", where=where, prefix=PREFIX)
    ids_first = [m.message_id for m in transport.messages(replay_queue(PREFIX, "bappenas"))]
    assert _apply_queue(transport, wh) == ["applied"] * 4
    second = await replay(transport, consumer="bappenas", since="first", where=where, prefix=PREFIX)
    ids_second = [m.message_id for m in transport.messages(replay_queue(PREFIX, "bappenas"))]
    assert _apply_queue(transport, wh) == ["duplicate"] * 4
    wh.close()
    assert ids_first == ids_second and len(ids_first) == 2
    assert (first.messages_read, first.records_read, first.records_matched) == (3, 6, 4)
    assert (first.first, first.last, first.end_offset) == (0, 2, 2)
    assert second.messages_published == first.messages_published == 2
    await transport.close()


async def test_window_from_an_offset_ends_at_the_tail(tmp_path: Path) -> None:
    """From offset 1 to the end as it was at the start; an empty stream replays nothing."""
    transport = _transport()
    await transport.start()
    assert await stream_end(transport, f"{PREFIX}.feed", settle_s=0.05) is None
    empty = await replay(transport, consumer="bappenas", since="first", where=ReplayFilter(), prefix=PREFIX)
    assert empty.messages_read == 0 and empty.first is None
    for i in range(4):
        await _publish(transport, [feed_env("early_warning", f"E{i}", kode="91.03")])
    result = await replay(transport, consumer="bappenas", since=1, where=ReplayFilter(), prefix=PREFIX)
    assert (result.first, result.last, result.messages_published) == (1, 3, 3)
    queue = transport.messages(replay_queue(PREFIX, "bappenas"))
    assert [m.headers["x-simpul-stream-offset"] for m in queue] == [1, 2, 3]
    assert all(m.routing_key.startswith("bappenas.early_warning.v1.91.03") for m in queue)
    await transport.close()


async def test_memory_stream_offsets() -> None:
    """The memory stream reads from first, an offset, a time and next, like a RabbitMQ stream; consuming
    it as a queue is refused."""
    transport = _transport()
    await transport.start()
    await _publish(transport, [feed_env(rid="S0")])
    await asyncio.sleep(0.01)
    middle = datetime.now(UTC)
    await _publish(transport, [feed_env(rid="S1")])
    await _publish(transport, [feed_env(rid="S2")])

    async def offsets(offset: object, n: int) -> list[int]:
        reader = transport.read_stream(f"{PREFIX}.feed", offset=offset, prefetch=10)  # type: ignore[arg-type]
        got = [(await anext(reader)).offset for _ in range(n)]
        await reader.aclose()  # type: ignore[attr-defined]
        return got

    assert await offsets("first", 3) == [0, 1, 2]
    assert await offsets(1, 2) == [1, 2]
    assert await offsets(middle, 2) == [1, 2]
    assert await offsets("last", 1) == [2]
    waiting = asyncio.ensure_future(offsets("next", 1))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await _publish(transport, [feed_env(rid="S3")])
    assert await waiting == [3]
    with pytest.raises(TopologyError):
        transport.consume(f"{PREFIX}.feed", prefetch=1)
    await transport.close()


async def test_a_window_after_the_last_message_is_empty() -> None:
    """A time after the last message, an offset past the end, or next: nothing to replay, and the replay
    ends instead of waiting for new messages."""
    transport = _transport()
    await transport.start()
    await _publish(transport, [feed_env(rid="ONLY")])
    later = datetime.now(UTC).replace(year=2100)
    for since in (later, 5, "next"):
        result = await replay(
            transport,
            consumer="bappenas",
            since=since,
            where=ReplayFilter(),
            prefix=PREFIX,
            first_timeout_s=0.2,
        )  # type: ignore[arg-type]
        assert (result.first, result.messages_published, result.end_offset) == (None, 0, 0), since
        assert "read 0 messages (empty window" in result.summary()
    await transport.close()
