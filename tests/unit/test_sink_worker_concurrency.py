"""Two groups handled at once by one ``SinkWorker`` (``BatchConsumer`` concurrency 2) each write exactly
their own evidence before their own ack: the decision lists of concurrent calls do not mix."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hub.consume.sink_worker import SinkWorker
from hub.metrics import Metrics
from hub.model import codec
from schemas.envelope import Envelope, SourceIdentity, make_idempotency_key, make_message_id, make_record_key
from schemas.payloads.voter_participation import EXAMPLE

T0 = datetime(2029, 2, 14, tzinfo=UTC)


def _env(rid: str) -> Envelope:
    record_key = make_record_key("voter_participation", "sys-a", rid)
    idem = make_idempotency_key(record_key, 1)
    return Envelope(
        message_id=make_message_id(idem),
        schema_name="voter_participation",
        schema_version="1.0.0",
        source_record_id=rid,
        revision=1,
        record_key=record_key,
        idempotency_key=idem,
        source=SourceIdentity(system="sys-a", office="pusat", adapter="test"),
        kode_wilayah=EXAMPLE["kode_wilayah"],
        region_ref="2024",
        reported_at=T0,
        received_at=T0,
        payload=EXAMPLE,
    )


class _Delivery:
    def __init__(self, envs: list[Envelope], order: list[str]) -> None:
        self.body = codec.join_batch([e.model_dump_json().encode() for e in envs])
        self.message_id = envs[0].message_id
        self.user_id = None
        self._order = order

    async def ack(self) -> None:
        self._order.append(f"ack:{self.message_id}")

    async def reject(self, *, requeue: bool) -> None:
        raise AssertionError("nothing here is rejected")


class _Result:
    def __init__(self, env: Envelope) -> None:
        self.idempotency_key = env.idempotency_key
        self.status = "applied"


class _SlowSink:
    """Holds the first write until the second has started, so the two calls overlap."""

    name = "slow"

    def __init__(self) -> None:
        self.writing = 0
        self.both = asyncio.Event()

    async def write(self, envelopes: Sequence[Envelope]) -> list[_Result]:
        self.writing += 1
        if self.writing == 2:
            self.both.set()
        await asyncio.wait_for(self.both.wait(), 5)
        return [_Result(e) for e in envelopes]

    async def close(self) -> None:
        return None


class _Evidence:
    def __init__(self, order: list[str]) -> None:
        self.appended: list[list[str]] = []
        self._order = order

    def append(self, entries: Any, at: Any = None) -> None:
        ids = [i for e in entries for i in (e.covers if e.covers is not None else (e.message_id,))]
        self.appended.append(ids)
        self._order.append(f"evidence:{ids[0]}")


class _Quarantiner:
    async def put(self, err: Any, **fields: Any) -> None:
        await asyncio.sleep(0)  # a confirm round trip: the other group runs meanwhile


async def test_concurrent_groups_keep_their_own_evidence() -> None:
    order: list[str] = []
    evidence = _Evidence(order)
    worker = SinkWorker(_SlowSink(), _Quarantiner(), Metrics(), evidence=evidence)  # type: ignore[arg-type]
    bad = _env("a0").model_copy(update={"payload": {**EXAMPLE, "dpt": -1}})  # quarantined at the sink
    a = [bad, _env("a1"), _env("a2")]
    b = [_env("b1"), _env("b2"), _env("b3")]
    da, db = _Delivery(a, order), _Delivery(b, order)
    await asyncio.gather(asyncio.create_task(worker([da])), asyncio.create_task(worker([db])))
    assert sorted(evidence.appended) == sorted([[e.message_id for e in a], [e.message_id for e in b]])
    for d in (da, db):  # each group's evidence is on disk before its ack
        assert order.index(f"evidence:{d.message_id}") < order.index(f"ack:{d.message_id}")
