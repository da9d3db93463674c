"""A poison record inside a batched AMQP message: one bad record among 100 in one message.

The publisher groups records by routing key, so 100 records POSTed together travel as one AMQP message.
The hub's publish is intercepted once to alter one record of that message on its way to the broker (the
HTTP client still gets 202 for all 100: the broker confirmed the message). Two kinds of poison:

- the record no longer passes the sink's checks (its payload was changed after the first hub signed it, so
  the verifier refuses it as ``signature_invalid`` before the schema would): only that record may be
  quarantined, with its reason; the other 99 are applied;
- the sink itself cannot store one record (it raises on any group holding it, every time): only that
  record may end in the dead queue or quarantine. The sink worker halves a failing group until the healthy
  records are written, and quarantines the one it cannot store (``sink_refused``) on its message's last
  delivery before the limit; its 99 message-mates are applied. (Before that fix the consumer isolated per
  AMQP message, and the 99 were dead-lettered with it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import orjson
import pytest

from adapters.sqlite_sink.sink import SqliteSink
from hub.model import codec
from hub.node import Node
from schemas.envelope import Envelope
from tests.faults import harness as h
from tests.faults.ledger import Ledger, assert_ok, key_for
from tests.helpers import KEY_BOGOR, item

pytestmark = pytest.mark.broker
N, POISON = 100, 37
SYSTEM = "sitimdu-bogor"  # the system of KEY_BOGOR in tests.helpers.node_settings


async def _post_100(node: Node, ledger: Ledger, prefix: str) -> None:
    batch = [item("ormas_registration", f"{prefix}-{i:03d}") for i in range(N)]
    ledger.offer(key_for("ormas_registration", SYSTEM, x["id"], 1) for x in batch)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{node.http_port}/v1/records/ormas_registration",
            data=orjson.dumps(batch),
            headers={"Content-Type": "application/json", "X-API-Key": KEY_BOGOR},
        ) as resp,
    ):
        answer = await resp.json()
        assert resp.status == 202 and not answer.get("quarantined"), answer


async def _dead(amqp_url: str, queue: str) -> set[str]:
    keys: set[str] = set()
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        while (message := await q.get(no_ack=True, fail=False)) is not None:
            keys.update(str(x["idempotency_key"]) for x in codec.split_batch(message.body))
    return keys


@pytest.mark.fault("one record of a 100-record AMQP message altered after signing (refused at the sink)")
async def test_a_record_refused_at_the_sink_inside_a_batch_is_quarantined_alone(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """1 of 100 records in one message is quarantined with its reason; the other 99 are applied."""
    ledger = Ledger("poison inside a 100-record message (record refused by the sink checks)")
    config = h.settings(tmp_path, amqp_url, management_url)
    node = Node(config, sink=SqliteSink(config.sink.sqlite_path))
    counts: list[int] = []
    real = node.transport.publish

    async def poison_once(exchange: str, routing_key: str, body: bytes, **kw: Any) -> None:
        if exchange.endswith(".ingest") and not counts:
            items = codec.split_batch(body)
            counts.append(len(items))
            items[POISON]["payload"]["tanggal_terbit"] = "bukan tanggal"
            body = codec.join_batch([codec.dumps(x) for x in items])
        await real(exchange, routing_key, body, **kw)

    node.transport.publish = poison_once  # type: ignore[method-assign]
    ledger.watch(node)
    async with node:
        await _post_100(node, ledger, "pv")
        store = h.warehouse(node)
        assert await h.wait_for(lambda: len(store.applied_keys()) >= N - 1, timeout=20)
        assert await h.wait_for(lambda: node.quarantine_store.count() >= 1, timeout=20)
        entries = node.quarantine_store.list()
        applied = store.applied_keys()
        dead = await _dead(amqp_url, node.topology.dead_queue)
    assert counts == [N], f"the 100 records must have shared one AMQP message, got {counts}"
    poison = key_for("ormas_registration", SYSTEM, f"pv-{POISON:03d}", 1).idempotency_key
    assert [e.source_record_id for e in entries] == [f"pv-{POISON:03d}"]
    assert not dead, "nothing may be dead-lettered for a record-level problem"
    ledger.parked = {poison}  # quarantined, kept with its reason
    report = h.final_report(ledger, config)
    report.notes["quarantined"] = len(entries)
    report.notes["reason"] = entries[0].reason
    print(report.notes)
    assert report.applied == N - 1 and poison not in applied
    assert_ok(report)


@pytest.mark.fault("the sink raises on one record of a 100-record AMQP message, each time (delivery limit 3)")
async def test_a_record_the_sink_cannot_store_parks_only_itself(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """1 of 100 records in one message can never be written: it alone is parked; 99 are applied."""
    ledger = Ledger("poison inside a 100-record message (sink raises)")
    config = h.settings(tmp_path, amqp_url, management_url, broker={"delivery_limit": 3})
    node = Node(config, sink=SqliteSink(config.sink.sqlite_path))
    assert node.sink is not None
    real_write = node.sink.write
    poison_id = f"ps-{POISON:03d}"

    async def write(envelopes: Sequence[Envelope]) -> Any:
        if any(e.source_record_id == poison_id for e in envelopes):
            raise RuntimeError("the sink cannot store this record")
        return await real_write(envelopes)

    node.sink.write = write  # type: ignore[method-assign]
    ledger.watch(node)
    async with node:
        await _post_100(node, ledger, "ps")
        store = h.warehouse(node)
        dead: set[str] = set()
        for _ in range(60):  # the poison reaches the dead queue after 3 deliveries, about a second
            dead |= await _dead(amqp_url, node.topology.dead_queue)
            if dead or node.quarantine_store.count(reason="sink_refused"):
                break
            await h.wait_for(lambda: False, timeout=0.25)
        await h.wait_for(lambda: len(store.applied_keys()) >= N - 1, timeout=3)
        quarantined = {e.source_record_id for e in node.quarantine_store.list()}
    poison = key_for("ormas_registration", SYSTEM, poison_id, 1).idempotency_key
    assert poison in dead or poison_id in quarantined, "the poison must be kept, not dropped"
    ledger.parked = dead | ({poison} if poison_id in quarantined else set())
    report = h.final_report(ledger, config)
    report.notes["parked_with_poison"] = len(dead - {poison})
    assert report.applied == N - 1, f"{N - 1 - report.applied} healthy records parked with the poison"
    assert_ok(report)
