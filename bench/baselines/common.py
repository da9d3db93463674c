"""What the peer pipelines share with each other and with Simpul: the records, the envelope, the pydantic
validation at both ends, and a PostgreSQL warehouse writer of their own (``bench.baselines.warehouse``:
Simpul's batched-upsert write path as it was before issue 21, frozen).

A team without Simpul would validate the payload with the same pydantic model before publishing and again
after consuming, wrap it with the same identity rules, and write it to the same warehouse table; only the
messaging code differs between the pipelines, so the comparison is about that.

``GroupWriter`` gives the per-message handlers batched upserts: each handler awaits the commit of the
batch that holds its record (group commit), so an ack still follows the durable write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from bench.baselines.warehouse import BaselineWarehouse
from bench.common import PG, kab_kota_codes, payload
from schemas.envelope import (
    Envelope,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)
from schemas.payloads.voter_participation import VoterParticipation

QUEUE = "bench.records"
QUEUE_ARGS = {"x-queue-type": "quorum"}  # the same queue type as Simpul's work queues
SOURCE = SourceIdentity(system="bench", office="pusat", adapter="bench")


class Records:
    """Record ``i`` of the workload as raw payloads (same regions and blocks as ``bench.source``)."""

    def __init__(self, block: int = 500) -> None:
        self._regions = kab_kota_codes()
        self._block = block

    def raw(self, i: int) -> dict[str, Any]:
        return payload(i, self._regions[(i // self._block) % len(self._regions)])


def envelope(i: int, raw: dict[str, Any]) -> Envelope:
    """Validate the payload (producer side) and wrap it; ``received_at`` is now, as in Simpul's prepare."""
    model = VoterParticipation.model_validate(raw)
    source_id = f"vp-{i}"
    record_key = make_record_key("voter_participation", SOURCE.system, source_id)
    idem = make_idempotency_key(record_key, 1)
    now = datetime.now(UTC)
    return Envelope(
        message_id=make_message_id(idem),
        schema_name="voter_participation",
        schema_version="1.0.0",
        source_record_id=source_id,
        revision=1,
        record_key=record_key,
        idempotency_key=idem,
        source=SOURCE,
        kode_wilayah=model.kode_wilayah,
        region_ref="bench",
        reported_at=now,
        received_at=now,
        payload=model.model_dump(mode="json"),
    )


def check(env: Envelope) -> Envelope:
    """Consumer side: the payload is re-validated (nothing on the wire is trusted)."""
    VoterParticipation.model_validate(env.payload)
    return env


def make_sink(schema: str) -> BaselineWarehouse:
    return BaselineWarehouse(PG, schema, pool_max=4)


class GroupWriter:
    """Group commit over a sink: ``put`` returns once a committed batch held the envelopes."""

    def __init__(self, sink: BaselineWarehouse, max_rows: int = 3200) -> None:
        self._sink = sink
        self._max_rows = max_rows
        self._pending: list[tuple[Envelope, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def put(self, envs: Sequence[Envelope]) -> None:
        loop = asyncio.get_running_loop()
        futures = []
        for env in envs:
            fut: asyncio.Future[None] = loop.create_future()
            self._pending.append((env, fut))
            futures.append(fut)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await asyncio.gather(*futures)

    async def _flush(self) -> None:
        await asyncio.sleep(0.002)  # a moment for company: concurrent handlers join this batch
        while self._pending:
            batch, self._pending = self._pending[: self._max_rows], self._pending[self._max_rows :]
            try:
                await self._sink.write([env for env, _ in batch])
            except Exception as exc:  # every waiter learns it; the handler then nacks/rejects
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            for _, fut in batch:
                fut.set_result(None)


def ready(**info: Any) -> None:
    """Tell the orchestrator this process is set up (one line on stdout)."""
    print("READY " + json.dumps(info), flush=True)
    sys.stdout.flush()


def run_role(
    doc: str | None,
    producer: Callable[[str, int, int], Coroutine[Any, Any, None]],
    consumer: Callable[[str, str, int, int], Coroutine[Any, Any, None]],
) -> None:
    """The command line both baselines share: ``--role producer|consumer --url --records [--schema]
    [--per-message]``; runs the chosen side."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", choices=("producer", "consumer"), required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--schema", default="")
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--per-message", type=int, default=1)
    args = parser.parse_args()
    if os.environ.get("SIMPUL_BENCH_BASELINE_GC") == "tuned":  # to see what Simpul's GC setting gives them
        from hub import gc_tuning

        gc_tuning.settle_after_start()
    if args.role == "producer":
        asyncio.run(producer(args.url, args.records, args.per_message))
    else:
        asyncio.run(consumer(args.url, args.schema, args.records, args.per_message))
