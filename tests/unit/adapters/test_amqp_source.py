"""The amqp_source on in-memory brokers: records from bodies, ack only after confirm, redelivery harmless."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from adapters.amqp_source import PLUGIN, AmqpSource, AmqpSourceConfig
from adapters.amqp_source.records import records_from
from adapters.amqp_source.simulator import EXCHANGE, OFFICE, ROUTING_KEY, early_warning_event, source_config
from adapters.amqp_source.upstream import MemoryUpstream
from hub.adapters import registry
from hub.adapters.model import AdapterContext
from hub.adapters.runner import Backoff, SourceRunner
from hub.adapters.state import StateStore
from hub.metrics import Metrics
from hub.model.records import passthrough, revision_of
from hub.node import Node
from hub.testing.fakes import FakeResult, FakeSink
from hub.transport.memory import MemoryTransport
from hub.transport.topology import BindingSpec, ExchangeSpec, QueueSpec, Topology, default_topology
from schemas.envelope import Envelope, SourceIdentity
from tests.helpers import node_settings, until

QUEUE = "sidini.simpul"
SYSTEM = "sidini-banggai"


class CountingSink(FakeSink):
    """A FakeSink that counts outcomes (applied, duplicate...) across writes."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: Counter[str] = Counter()

    async def write(self, envelopes: Sequence[Envelope]) -> Sequence[FakeResult]:
        results = await super().write(envelopes)
        self.outcomes.update(r.status for r in results)
        return results


def _config(**changes: Any) -> AmqpSourceConfig:
    return AmqpSourceConfig.model_validate(
        source_config("amqp://guest:guest@127.0.0.1:5672/sidini", **changes)
    )


def _context(tmp_path: Path) -> AdapterContext:
    return AdapterContext(
        name="sidini",
        schema="early_warning",
        identity=SourceIdentity(system=SYSTEM, office=OFFICE, adapter="sidini"),
        state=StateStore(tmp_path / "src-state.sqlite3"),
        state_dir=tmp_path,
        metrics=Metrics(),
    )


@pytest.fixture
async def upstream() -> AsyncIterator[MemoryTransport]:
    """The source system's broker, in memory: its exchange and the queue Simpul reads."""
    topology = Topology(
        prefix="sidini",
        exchanges=(ExchangeSpec(EXCHANGE),),
        queues=(QueueSpec(QUEUE),),
        bindings=(BindingSpec(EXCHANGE, QUEUE, "laporan.#"),),
    )
    transport = MemoryTransport(topology)
    await transport.start()
    yield transport
    await transport.close()


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Node, MemoryTransport, CountingSink]]:
    """A started node on the memory transport with a counting sink."""
    transport = MemoryTransport(default_topology())
    sink = CountingSink()
    node = Node(node_settings(tmp_path), transport=transport, sink=sink)
    async with node:
        yield node, transport, sink


async def _publish(upstream: MemoryTransport, bodies: list[Any]) -> None:
    for i, body in enumerate(bodies):
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        await upstream.publish(EXCHANGE, ROUTING_KEY, raw, message_id=f"m{i}")


def _source(tmp_path: Path, upstream: MemoryTransport, **changes: Any) -> AmqpSource:
    config = _config(**changes)
    return AmqpSource(config, _context(tmp_path), upstream=MemoryUpstream(upstream, QUEUE, config.prefetch))


def _runner(source: AmqpSource, node: Node) -> SourceRunner:
    return SourceRunner("sidini", source, node.pipeline, passthrough, Backoff(0.01, 0.05))


# --- bodies to records -----------------------------------------------------------------------------------


def test_one_record_per_message_with_identity_from_paths(tmp_path: Path) -> None:
    """id from event_id, revision from versi, the laporan object handed to the mapping."""
    event = early_warning_event(3, versi=2)
    (record,) = records_from(orjson.dumps(event), _config(), _context(tmp_path).record, "m1")
    assert record.source_record_id == event["event_id"] and record.revision == 2
    assert record.raw == event["laporan"] and record.op == "upsert" and record.correlation_id == "m1"


def test_an_array_or_a_records_path_gives_several_records(tmp_path: Path) -> None:
    """A JSON array, or an array under records_path, yields one record per element, in order."""
    events = [early_warning_event(i) for i in range(3)]
    context = _context(tmp_path)
    direct = records_from(orjson.dumps(events), _config(), context.record)
    nested = records_from(
        orjson.dumps({"data": {"items": events}}), _config(records_path="data.items"), context.record
    )
    assert [r.source_record_id for r in direct] == [e["event_id"] for e in events]
    assert [r.source_record_id for r in nested] == [e["event_id"] for e in events]


def test_withdraw_op_and_timestamp_revisions(tmp_path: Path) -> None:
    """op_path values in withdraw_values mark a withdrawal; an ISO timestamp revision becomes epoch ms."""
    event = early_warning_event(1) | {"event": "dihapus", "diubah": "2024-02-10T21:14:03+08:00"}
    config = _config(op_path="event", revision_path="diubah")
    (record,) = records_from(orjson.dumps(event), config, _context(tmp_path).record)
    assert record.op == "withdraw" and record.revision == 1707570843000
    assert revision_of("7") == 7 and revision_of(True) is None and revision_of("kemarin") is None


def test_unreadable_bodies_become_records_that_the_mapping_refuses(tmp_path: Path) -> None:
    """Non-JSON, an empty array and a non-object item each become a record without identity, not a drop."""
    context = _context(tmp_path)
    (not_json,) = records_from(b"<xml/>", _config(), context.record)
    assert "not JSON" in not_json.raw["_unreadable"] and not_json.original == b"<xml/>"
    assert not_json.source_record_id is None
    (empty,) = records_from(b"[]", _config(), context.record)
    assert "empty" in empty.raw["_unreadable"]
    good, bad = records_from(orjson.dumps([early_warning_event(1), 42]), _config(), context.record)
    assert good.source_record_id and "item 1" in bad.raw["_unreadable"]


def test_config_is_checked_before_start() -> None:
    """Exactly one of queue/exchange, batch_messages <= prefetch, an amqp URL; every field described."""
    with pytest.raises(ValidationError, match="exactly one"):
        _config(queue="q")
    with pytest.raises(ValidationError, match="prefetch"):
        _config(prefetch=10, batch_messages=20)
    with pytest.raises(ValidationError, match="amqp"):
        AmqpSourceConfig.model_validate(source_config("http://x/"))
    assert all(f.description for f in AmqpSourceConfig.model_fields.values())
    assert "guest:guest" not in repr(_config())  # the URL carries a password: never in a repr or log
    registry.register(PLUGIN)
    assert registry.get("amqp_source").role == "source"


# --- acks follow confirms -----------------------------------------------------------------------------------


async def test_upstream_messages_are_acked_only_after_the_broker_confirmed(
    tmp_path: Path, upstream: MemoryTransport, node: tuple[Node, MemoryTransport, CountingSink]
) -> None:
    """While Simpul's broker is down nothing is acked upstream; once it confirms, every message is acked."""
    hub, transport, sink = node
    await _publish(upstream, [early_warning_event(i) for i in range(30)])
    transport.set_ready(False)
    source = _source(tmp_path, upstream, prefetch=20, batch_messages=10)
    task = asyncio.create_task(_runner(source, hub).run())
    await until(lambda: len(upstream.unacked(QUEUE)) == 20)
    await asyncio.sleep(0.2)  # the runner keeps retrying the first batch meanwhile
    assert source.acked == 0 and len(upstream.unacked(QUEUE)) == 20  # prefetch bounds what is held
    assert upstream.depth(QUEUE) == 30
    transport.set_ready(True)
    await until(lambda: upstream.depth(QUEUE) == 0 and len(sink.rows) == 30)
    assert source.acked == 30 and sink.outcomes["applied"] == 30
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_message_with_many_records_is_acked_after_all_of_them(
    tmp_path: Path, upstream: MemoryTransport, node: tuple[Node, MemoryTransport, CountingSink]
) -> None:
    """An array of 5 events with batch_records=3 stays one batch: all 5 confirmed, then one ack."""
    hub, _transport, sink = node
    await _publish(upstream, [[early_warning_event(i) for i in range(5)], early_warning_event(9)])
    source = _source(tmp_path, upstream, batch_records=3, prefetch=5, batch_messages=5)
    task = asyncio.create_task(_runner(source, hub).run())
    await until(lambda: upstream.depth(QUEUE) == 0 and len(sink.rows) == 6)
    assert source.acked == 2
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_stopping_mid_batch_returns_unacked_messages_and_nothing_is_applied_twice(
    tmp_path: Path, upstream: MemoryTransport, node: tuple[Node, MemoryTransport, CountingSink]
) -> None:
    """Killed while a batch awaits confirms: its messages go back upstream; a new run delivers them once."""
    hub, transport, sink = node
    await _publish(upstream, [early_warning_event(i) for i in range(10)])
    first = _source(tmp_path, upstream, prefetch=10, batch_messages=10)
    task = asyncio.create_task(_runner(first, hub).run())
    await until(lambda: first.acked >= 10)
    transport.set_ready(False)  # the next batch cannot be confirmed...
    # (published only now: a fast run would otherwise have confirmed them all before the outage)
    await _publish(upstream, [early_warning_event(i) for i in range(10, 40)])
    await until(lambda: len(upstream.unacked(QUEUE)) == 10)
    task.cancel()  # ...and the node dies meanwhile
    await asyncio.gather(task, return_exceptions=True)
    assert upstream.unacked(QUEUE) == [] and upstream.depth(QUEUE) == 40 - first.acked
    assert any(m.redelivered for m in upstream.messages(QUEUE))
    transport.set_ready(True)
    second = _source(tmp_path, upstream, prefetch=10, batch_messages=10)
    task = asyncio.create_task(_runner(second, hub).run())
    await until(lambda: upstream.depth(QUEUE) == 0 and len(sink.rows) == 40)
    assert sink.outcomes["applied"] == 40 and first.acked + second.acked == 40
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_connection_loss_before_the_commit_redelivers_and_dedupes(
    tmp_path: Path, upstream: MemoryTransport, node: tuple[Node, MemoryTransport, CountingSink]
) -> None:
    """Acks of deliveries from a lost connection are skipped; the redelivered copies are duplicates."""
    hub, transport, sink = node
    await _publish(upstream, [early_warning_event(i) for i in range(10)])
    transport.set_ready(False)
    source = _source(tmp_path, upstream, prefetch=10, batch_messages=10)
    task = asyncio.create_task(_runner(source, hub).run())
    await until(lambda: len(upstream.unacked(QUEUE)) == 10)
    assert upstream.simulate_connection_loss() == 10  # the batch in hand is now stale
    transport.set_ready(True)
    await until(lambda: upstream.depth(QUEUE) == 0 and sink.outcomes["duplicate"] == 10, timeout=10)
    assert len(sink.rows) == 10 and sink.outcomes["applied"] == 10
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_poison_body_is_quarantined_and_acked(
    tmp_path: Path, upstream: MemoryTransport, node: tuple[Node, MemoryTransport, CountingSink]
) -> None:
    """A non-JSON message and an event without its id are quarantined; the good one lands; all acked."""
    hub, _transport, sink = node
    no_id = early_warning_event(2)
    del no_id["event_id"]
    await _publish(upstream, [b"\x00not json", no_id, early_warning_event(1)])
    source = _source(tmp_path, upstream)
    task = asyncio.create_task(_runner(source, hub).run())
    await until(lambda: upstream.depth(QUEUE) == 0 and hub.quarantine_store.count() == 2)
    assert len(sink.rows) == 1 and source.acked == 3
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_redelivered_revisions_keep_the_newest(
    tmp_path: Path, upstream: MemoryTransport, node: tuple[Node, MemoryTransport, CountingSink]
) -> None:
    """versi 2 then a late versi 1 and a repeated versi 2: one row at versi 2 (stale and duplicate)."""
    hub, _transport, sink = node
    await _publish(
        upstream, [early_warning_event(5, 2), early_warning_event(5, 1), early_warning_event(5, 2)]
    )
    source = _source(tmp_path, upstream, batch_messages=1)
    task = asyncio.create_task(_runner(source, hub).run())
    await until(lambda: sum(sink.outcomes.values()) == 3)
    assert [row[0] for row in sink.rows.values()] == [2]
    assert sink.outcomes == Counter({"applied": 1, "stale": 1, "duplicate": 1})
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
