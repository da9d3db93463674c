"""Replay against the real RabbitMQ: a real stream in the test's own vhost, read from the start, an
offset and a time; published with confirms to the consumer's quorum queue; run twice without anything
applied twice; and the ``simpul replay`` command with its progress bar."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.sqlite_sink import SqliteWarehouse
from hub.cli.root import main
from hub.feeds.replay import ReplayFilter, replay, replay_queue, replay_topology
from hub.model import codec
from hub.transport.amqp import AmqpTransport
from hub.transport.topology import default_topology, with_feed
from schemas.envelope import Envelope
from tests.unit.feeds.builders import feed_env

pytestmark = pytest.mark.broker


@pytest.fixture
async def node_transport(amqp_url: str, management_url: str) -> AsyncIterator[AmqpTransport]:
    """The central node's side: ingest exchange, work queues and the feed stream."""
    t = AmqpTransport(amqp_url, with_feed(default_topology("simpul")), management_url=management_url)
    await t.start()
    yield t
    await t.close()


@pytest.fixture
async def replay_transport(amqp_url: str, management_url: str) -> AsyncIterator[AmqpTransport]:
    """What simpul replay connects with: the stream and the consumer's replay queue."""
    t = AmqpTransport(amqp_url, replay_topology("simpul", "bappenas"), management_url=management_url)
    await t.start()
    yield t
    await t.close()


async def _publish(transport: AmqpTransport, envelopes: list[Envelope]) -> None:
    body = codec.join_batch([e.model_dump_json().encode() for e in envelopes])
    key = f"{envelopes[0].schema_name}.v1.{envelopes[0].kode_wilayah}"
    ids = [e.message_id for e in envelopes]
    await transport.publish("simpul.ingest", key, body, message_id=codec.group_id(ids))


async def _drain(transport: AmqpTransport, wh: SqliteWarehouse, expected_messages: int) -> list[str]:
    """Consume the replay queue like a deduping sink: apply, then ack."""
    statuses: list[str] = []
    consumer = transport.consume(replay_queue("simpul", "bappenas"), prefetch=50)
    try:
        async with asyncio.timeout(15):
            for _ in range(expected_messages):
                delivery = await anext(consumer)
                envelopes = [Envelope.model_validate(e) for e in codec.split_batch(delivery.body)]
                statuses += [r.status for r in wh.apply(envelopes)]
                await delivery.ack()
    finally:
        with contextlib.suppress(Exception):
            await consumer.aclose()  # type: ignore[attr-defined]
    return statuses


async def test_replay_from_a_real_stream_twice(
    node_transport: AmqpTransport, replay_transport: AmqpTransport, tmp_path: Path
) -> None:
    """60 messages in the stream (120 records, two provinces); replaying 32's records twice delivers the
    same message ids twice, and the deduping sink applies each record once."""
    for i in range(60):
        kode = "32.01" if i % 2 == 0 else "33.01"
        await _publish(node_transport, [feed_env(rid=f"R{i}-{j}", kode=kode) for j in range(2)])
    where = ReplayFilter("ormas_registration", "32")
    wh = SqliteWarehouse(tmp_path / "consumer.db")
    first = await replay(replay_transport, consumer="bappenas", since="first", where=where)
    applied = await _drain(replay_transport, wh, first.messages_published)
    second = await replay(replay_transport, consumer="bappenas", since="first", where=where)
    again = await _drain(replay_transport, wh, second.messages_published)
    counts = wh.delivery_counts()
    wh.close()
    assert (first.first, first.last, first.end_offset, first.messages_read) == (0, 59, 59, 60)
    assert first.records_matched == second.records_matched == 60 and first.messages_published == 30
    assert applied == ["applied"] * 60 and again == ["duplicate"] * 60
    assert len(counts) == 60 and set(counts.values()) == {2}


async def test_replay_from_an_offset_and_a_time(
    node_transport: AmqpTransport, replay_transport: AmqpTransport
) -> None:
    """An integer offset starts exactly there; a timestamp starts at the first chunk stored after it; a
    time after the last message replays nothing (and does not wait)."""
    for i in range(5):
        await _publish(node_transport, [feed_env("early_warning", f"OLD{i}", kode="91.03")])
    await asyncio.sleep(1.5)
    since = datetime.now(UTC)
    await asyncio.sleep(0.5)
    for i in range(3):
        await _publish(node_transport, [feed_env("early_warning", f"NEW{i}", kode="91.03")])
    by_offset = await replay(replay_transport, consumer="bappenas", since=6, where=ReplayFilter())
    by_time = await replay(replay_transport, consumer="bappenas", since=since, where=ReplayFilter())
    assert (by_offset.first, by_offset.last, by_offset.messages_published) == (6, 7, 2)
    assert (by_time.first, by_time.last, by_time.messages_published) == (5, 7, 3)
    later = datetime.now(UTC) + timedelta(hours=1)  # the broker would start at "next" and wait
    empty = await replay(
        replay_transport, consumer="bappenas", since=later, where=ReplayFilter(), first_timeout_s=1
    )
    assert (empty.first, empty.messages_read, empty.end_offset) == (None, 0, 7)


async def test_simpul_replay_command(
    node_transport: AmqpTransport, amqp_url: str, management_url: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """``simpul replay --config ... --schema --region --since --to`` prints a progress bar on stderr and a
    summary on stdout; the consumer's queue holds the window."""
    for i in range(4):
        await _publish(node_transport, [feed_env("early_warning", f"CLI{i}", kode="91.03" if i else "32.01")])
    await _publish(node_transport, [feed_env(rid="ORMAS", kode="91.03")])
    config = tmp_path / "pusat.toml"
    config.write_text(
        f'node = "pusat-test"\ndev_mode = true\n[broker]\nurl = "{amqp_url}"\n'
        f'management_url = "{management_url}"\n[feed]\nstream = true\n'
    )
    argv = ["replay", "--config", str(config), "--schema", "early_warning", "--region", "91"]
    argv += ["--since", "first", "--to", "kemenko"]
    code = await asyncio.to_thread(main, argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "replay [" in out.err and "5/5 messages" in out.err
    assert out.out.strip() == (
        "replayed to simpul.replay.kemenko: read 5 messages (offsets 0-4, 5 records), matched 3 records, "
        "published 3 messages, each confirmed by the broker"
    )
