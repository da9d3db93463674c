"""The amqp_sink against an in-memory receiving broker: packing, message ids, confirms, retries, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.amqp_sink import PLUGIN, AmqpSink, AmqpSinkConfig
from hub.adapters import registry
from hub.adapters.model import AdapterContext
from hub.adapters.state import StateStore
from hub.errors import BrokerUnavailable, Unroutable
from hub.metrics import Metrics
from hub.model import codec
from hub.transport.memory import MemoryTransport
from hub.transport.topology import BindingSpec, ExchangeSpec, QueueSpec, Topology
from schemas.envelope import (
    Envelope,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)
from tests.helpers import example

EXCHANGE = "provinsi.ingest"
T0 = datetime(2024, 3, 6, 3, 0, tzinfo=UTC)


def envelope(rid: str, revision: int = 1, kode: str = "32.01") -> Envelope:
    """A research_permit envelope with the real identity rules."""
    record_key = make_record_key("research_permit", "sicantik-bogor", rid)
    idem = make_idempotency_key(record_key, revision)
    payload = example("research_permit") | {"nomor_skp": rid, "kode_wilayah": kode}
    return Envelope(
        message_id=make_message_id(idem),
        schema_name="research_permit",
        schema_version="1.0.0",
        source_record_id=rid,
        revision=revision,
        record_key=record_key,
        idempotency_key=idem,
        source=SourceIdentity(system="sicantik-bogor", office="32.01", adapter="skp"),
        kode_wilayah=kode,
        region_ref="Kepmendagri 300.2.2-2138/2025",
        reported_at=T0,
        received_at=T0,
        payload=payload,
    )


def _context(tmp_path: Path) -> AdapterContext:
    return AdapterContext(
        name="ke-provinsi",
        schema="*",
        identity=SourceIdentity(system="kab-bogor", office="pusat", adapter="ke-provinsi"),
        state=StateStore(tmp_path / "s.sqlite3"),
        state_dir=tmp_path,
        metrics=Metrics(),
    )


def _config(**changes: Any) -> AmqpSinkConfig:
    base = {
        "url": "amqp://bogor:rahasia@provinsi.example:5672/jabar",
        "exchange": EXCHANGE,
        "backoff_s": 0.01,
    }
    return AmqpSinkConfig.model_validate(base | changes)


@pytest.fixture
async def receiver() -> AsyncIterator[MemoryTransport]:
    """The receiving broker: an exchange with one queue bound to everything from Jawa Barat."""
    topology = Topology(
        prefix="jabar",
        exchanges=(ExchangeSpec(EXCHANGE),),
        queues=(QueueSpec("jabar.central"),),
        bindings=(BindingSpec(EXCHANGE, "jabar.central", "*.*.32.#"),),
    )
    transport = MemoryTransport(topology)
    await transport.start()
    yield transport
    await transport.close()


def _sink(tmp_path: Path, receiver: MemoryTransport, **changes: Any) -> AmqpSink:
    return AmqpSink(_config(**changes), _context(tmp_path), transport=receiver)


async def test_one_message_per_envelope_carries_its_message_id(
    tmp_path: Path, receiver: MemoryTransport
) -> None:
    """Each envelope is one confirmed message: its message id, its routing key, the wire format."""
    sink = _sink(tmp_path, receiver)
    await sink.start()
    envs = [envelope(f"070/{i:04d}/Kesbangpol/2024") for i in range(3)]
    results = await sink.write(envs)
    assert [r.status for r in results] == ["applied"] * 3
    assert [r.idempotency_key for r in results] == [e.idempotency_key for e in envs]
    published = receiver.published
    assert [p.message_id for p in published] == [e.message_id for e in envs]
    assert {p.routing_key for p in published} == {"research_permit.v1.32.01"}
    assert published[0].content_type == codec.CONTENT_TYPE
    assert published[0].headers[codec.COUNT_HEADER] == 1
    assert published[0].headers["x-simpul-forwarded-by"] == "kab-bogor"
    (item,) = codec.split_batch(published[0].body)
    assert Envelope.model_validate(item) == envs[0]


async def test_batched_mode_groups_by_routing_key_within_caps(
    tmp_path: Path, receiver: MemoryTransport
) -> None:
    """Batched: envelopes share messages per routing key, at most batch_max_records each, ids derived."""
    sink = _sink(tmp_path, receiver, mode="batched", batch_max_records=2)
    envs = [envelope(f"B{i}", kode="32.01" if i % 2 else "32.73") for i in range(5)]
    messages = sink.pack(envs)
    assert sorted((m.routing_key, m.count) for m in messages) == [
        ("research_permit.v1.32.01", 2),
        ("research_permit.v1.32.73", 1),
        ("research_permit.v1.32.73", 2),
    ]
    assert sink.pack(envs)[0].message_id == messages[0].message_id  # same grouping, same id
    await sink.write(envs)
    bodies = [codec.split_batch(p.body) for p in receiver.published]
    assert sorted(i["source_record_id"] for body in bodies for i in body) == [f"B{i}" for i in range(5)]


def test_byte_cap_splits_batches(tmp_path: Path, receiver: MemoryTransport) -> None:
    """A body never exceeds batch_max_bytes when envelopes fit one by one."""
    sink = _sink(tmp_path, receiver, mode="batched", batch_max_bytes=4096)
    messages = sink.pack([envelope(f"C{i}") for i in range(6)])
    assert len(messages) > 1 and all(len(m.body) <= 4096 for m in messages)
    assert sum(m.count for m in messages) == 6


async def test_write_waits_through_a_broker_outage_then_returns_after_the_confirm(
    tmp_path: Path, receiver: MemoryTransport
) -> None:
    """Unconfirmed publishes are retried inside write; it returns only once the receiver confirmed."""
    sink = _sink(tmp_path, receiver, max_attempts=50, backoff_s=0.01, backoff_cap_s=0.02)
    receiver.set_ready(False)
    write = asyncio.create_task(sink.write([envelope("D1"), envelope("D2")]))
    await asyncio.sleep(0.2)
    assert not write.done() and receiver.published == []
    receiver.set_ready(True)
    results = await asyncio.wait_for(write, 5)
    assert len(results) == 2 and len(receiver.published) == 2


async def test_write_fails_after_max_attempts_so_the_delivery_is_retried(
    tmp_path: Path, receiver: MemoryTransport
) -> None:
    """With the receiver down for good, write raises BrokerUnavailable after max_attempts."""
    sink = _sink(tmp_path, receiver, max_attempts=3, backoff_s=0.01)
    receiver.set_ready(False)
    with pytest.raises(BrokerUnavailable, match="after 3 attempts"):
        await sink.write([envelope("E1")])
    assert receiver.published == []


async def test_unroutable_envelope_fails_the_write_at_once(tmp_path: Path, receiver: MemoryTransport) -> None:
    """An envelope no receiver queue is bound for (Aceh) raises Unroutable without retrying."""
    sink = _sink(tmp_path, receiver, max_attempts=5, backoff_s=5)
    with pytest.raises(Unroutable):
        await asyncio.wait_for(sink.write([envelope("F1", kode="11.01")]), 2)


async def test_fixed_routing_key_overrides_the_envelope_key(
    tmp_path: Path, receiver: MemoryTransport
) -> None:
    """routing_key set: every message goes under that key."""
    sink = _sink(tmp_path, receiver, routing_key="skp.v1.32.01")
    await sink.write([envelope("G1", kode="32.73")])
    assert [p.routing_key for p in receiver.published] == ["skp.v1.32.01"]


def test_config_and_plugin() -> None:
    """Unknown keys and non-AMQP URLs are refused; the password never shows in a repr; plugin is a sink."""
    with pytest.raises(ValidationError):
        _config(prefetch=3)
    with pytest.raises(ValidationError, match="amqp"):
        _config(url="https://x")
    assert "rahasia" not in repr(_config())
    assert all(f.description for f in AmqpSinkConfig.model_fields.values())
    registry.register(PLUGIN)
    assert registry.get("amqp_sink").role == "sink"
