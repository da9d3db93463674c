"""CPU per record of each stage of the path, measured in isolation (no broker, no database round trip).

    .venv/bin/python -m bench.per_record [--records 20000]

Stages, in path order: the bench source making a record; ``Pipeline.prepare`` (map, validate the
payload, region checks, identity hashes, envelope, serialise); the publisher's batch join; the consumer's
``split_batch``; the sink worker's checks (signature, envelope, upcast; the payload of a verified record
is not validated again: the full path without verifier for comparison); the PostgreSQL sink's row
preparation (canonical payload, content hash, typed columns, JSON for jsonb); the whole sink worker call
(split, checks, evidence, metrics) around a null sink, in process CPU time. Printed in microseconds per
record; the end-to-end profile (py-spy) in docs/performance.md adds the I/O side.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import SCHEMA, kab_kota_codes, payload


def _time(
    fn: Callable[[], Any], n: int, repeat: int = 3, clock: Callable[[], float] = time.perf_counter
) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best / n * 1e6


def measure(n: int) -> dict[str, float]:
    """Microseconds per record per stage (best of 3)."""
    from adapters.postgres_sink.rows import prepare as pg_prepare
    from hub import gc_tuning
    from hub.consume.sink_worker import SinkWorker
    from hub.consume.upcast import VersionsSeen
    from hub.ingest.pipeline import Pipeline
    from hub.ingest.validation import Validator
    from hub.logging import configure_logging
    from hub.metrics import Metrics
    from hub.model import codec
    from hub.model.records import SourceRecord, passthrough
    from hub.settings import load_settings
    from hub.trust import build_signer, build_verifier
    from hub.trust.evidence import EvidenceLog
    from schemas.envelope import Envelope, SourceIdentity
    from schemas.pii import NikTokenizer
    from schemas.regions import default_index

    configure_logging("warning", "json")  # as the benchmark nodes run (bench/node_proc.py)
    metrics = Metrics()
    settings = load_settings(None, dev_mode=True)  # as the benchmark nodes run: dev keys, signatures on
    signer = build_signer(settings)
    verifier = build_verifier(settings, signer)
    tokenizer = NikTokenizer(hashlib.sha256(b"k").digest())
    validator = Validator(default_index(), tokenizer, signer=signer)
    unsigned = Validator(default_index(), tokenizer)
    pipeline = Pipeline(validator, None, None, metrics)  # type: ignore[arg-type]  # prepare only
    worker = SinkWorker(_NullSink(), None, metrics, verifier=verifier)  # type: ignore[arg-type]  # _check only
    source = SourceIdentity(system="bench", office="pusat", adapter="bench")
    regions = kab_kota_codes()
    out: dict[str, float] = {}

    def make() -> list[SourceRecord]:
        return [
            SourceRecord(SCHEMA, payload(i, regions[i % 514]), source, source_record_id=f"vp-{i}", revision=1)
            for i in range(n)
        ]

    # As a running node does (``hub.gc_tuning``): start-up objects frozen, collections spaced out.
    gc_tuning.settle_after_start()
    out["source: make record"] = _time(make, n)
    records = make()
    prepared: list[Any] = []

    def prepare_all() -> None:  # as sources offer them: batches prepared (and signed) together
        prepared[:] = [p for i in range(0, n, 500) for p in pipeline.prepare_many(records[i : i + 500])]

    out["prepare: map+validate+envelope+serialise"] = _time(prepare_all, n)
    spec = validator.spec_for(records[0])
    out["  of which payload model_validate"] = _time(
        lambda: [spec.model.model_validate(dict(r.raw), context=validator._context) for r in records], n
    )
    envs = [p.envelope for p in prepared]
    out["  of which envelope serialise"] = _time(
        lambda: [codec.dumps(e.model_dump(mode="json")) for e in envs], n
    )
    dumped = [e.model_dump(mode="json") for e in envs]
    out["  of which signature (Ed25519, one per 64 records)"] = _time(
        lambda: [signer.sign_many(dumped[i : i + 500]) for i in range(0, n, 500)], n
    )
    out["  (one Ed25519 signature per record)"] = _time(lambda: [signer.sign(d) for d in dumped], n)
    out["prepare without signer"] = _time(
        lambda: [unsigned.prepare(r, passthrough(r), spec, envs[0].received_at) for r in records], n
    )
    bodies = [codec.join_batch([p.body for p in prepared[i : i + 100]]) for i in range(0, n, 100)]
    out["wire: bytes per record"] = sum(len(b) for b in bodies) / n
    out["consume: split_batch"] = _time(lambda: [codec.split_batch(b) for b in bodies], n)
    items = [it for b in bodies for it in codec.split_batch(b)]

    checked: list[Any] = []
    seen = VersionsSeen(metrics)

    def check_all() -> None:
        now = verifier.now()
        checked[:] = [worker._check(it, "guest", now, seen)[0] for it in items]  # type: ignore[index]
        seen.flush()

    # Once: the verifier remembers verified signatures, a second pass would not verify again. The payload
    # of a verified record is not validated again; the full path (no verifier) is the line after.
    out["consume: check (verify+envelope+payload)"] = _time(check_all, n, repeat=1)
    plain = SinkWorker(_NullSink(), None, metrics)  # type: ignore[arg-type]  # _check only
    out["  full path (envelope+payload model_validate)"] = _time(
        lambda: [plain._check(it, "guest", None, seen) for it in items], n
    )
    out["  of which envelope model_validate"] = _time(
        lambda: [Envelope.model_validate(it) for it in items], n
    )

    # A fresh verifier per pass: it remembers verified roots, so one verifier would verify nothing twice.
    def verify_all() -> None:
        fresh = build_verifier(settings, signer)
        for it in items:
            fresh.verify(it)

    out["  of which signature verify (path + one Ed25519 per batch)"] = _time(verify_all, n)
    out["sink: row preparation"] = _time(lambda: [pg_prepare(e) for e in checked], n)

    # The whole worker call as the node runs it, the sink aside: groups of 8 messages of 100 records
    # through split, checks, evidence (SQLite, synchronous=FULL), metrics and acks. Process CPU time
    # (the evidence thread included, the fsync wait not); a fresh worker and verifier per pass.
    groups = [[BenchDelivery(b) for b in bodies[i : i + 8]] for i in range(0, len(bodies), 8)]

    def worker_all() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            evidence = EvidenceLog(Path(tmp) / "evidence.sqlite3")
            fresh = SinkWorker(
                _NullSink(),
                None,  # type: ignore[arg-type]  # nothing is quarantined here
                Metrics(),
                verifier=build_verifier(settings, signer),
                evidence=evidence,
            )

            async def run() -> None:
                for group in groups:
                    await fresh(group)

            asyncio.run(run())
            evidence.close()

    out["consume: worker call (split+check+evidence+metrics, CPU)"] = _time(
        worker_all, n, clock=time.process_time
    )
    # --- begin: ingest21 lines (HTTP ingest body handling, pipeline+publisher); keys above unchanged ---
    out.update(_ingest_lines(n, pipeline, metrics, regions))
    # --- end: ingest21 lines ---
    return out


class BenchDelivery:
    """A delivery of one bench body, always acked (shared with ``bench.instructions``)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.message_id = "bench"
        self.user_id = "guest"
        self.delivery_count = 0

    async def ack(self) -> None:
        return None

    async def reject(self, *, requeue: bool) -> None:
        raise AssertionError("the bench batches are well formed")


class Applied:
    """A sink result saying ``applied`` (shared with ``bench.instructions``)."""

    __slots__ = ("idempotency_key", "status")

    def __init__(self, key: str) -> None:
        self.idempotency_key = key
        self.status = "applied"


# --- begin: ingest21 helpers ---------------------------------------------------------------------------
def _ingest_lines(n: int, pipeline: Any, metrics: Any, regions: list[str]) -> dict[str, float]:
    """HTTP ingest's body handling (parse, checks, prepare: everything before the publish) in 500-record
    bodies, one-call validation vs item by item; and ``offer_many`` (prepare, publisher, outcomes) against
    a transport that confirms at once, 4 sources x 500 records, 100 consecutive records per kab/kota."""
    import orjson

    from hub.http.ingest import IngestHandler
    from hub.ingest.items import BodyItems, parse_body, validate_batch, validate_body
    from hub.ingest.pipeline import Pipeline
    from hub.ingest.publisher import BatchingPublisher
    from hub.logging import configure_logging
    from hub.model.records import SourceRecord
    from hub.settings import HttpSettings
    from hub.trust.limits import depth_exceeds
    from schemas.catalog import get as get_schema
    from schemas.envelope import SourceIdentity

    configure_logging("warning", "json")  # as the benchmark nodes run: no per-record debug lines
    out: dict[str, float] = {}
    handler = IngestHandler(pipeline, None, HttpSettings())  # type: ignore[arg-type]  # body handling only
    spec = get_schema(SCHEMA)
    source = SourceIdentity(system="kpu", office="pusat", adapter="http_ingest")
    bodies = [
        orjson.dumps(
            [{"id": f"h-{j}", "revision": 1, "data": payload(j, regions[s % 514])} for j in range(s, s + 500)]
        )
        for s in range(0, n, 500)
    ]

    def one_call() -> None:
        for body in bodies:
            items = parse_body(body, "application/json", 5000)
            typed = validate_batch(items, spec, pipeline.validation_context, 32)
            assert typed is not None
            handler._check_typed(BodyItems.of(items), typed, SCHEMA, source, None)

    def from_bytes() -> None:  # what the handler does since issue 21's fifth round
        for body in bodies:
            typed = validate_body(body, "application/json", spec, pipeline.validation_context, 32, 5000)
            assert typed is not None
            handler._check_typed(BodyItems(body, "application/json", 5000), typed, SCHEMA, source, None)

    def per_item() -> None:
        for body in bodies:
            items = parse_body(body, "application/json", 5000)
            assert not any(depth_exceeds(i, 32) for i in items)
            handler._check(items, SCHEMA, source, None)

    out["http: body -> prepared (one pass on the bytes)"] = _time(from_bytes, len(bodies) * 500)
    out["http: body -> prepared (one validation call)"] = _time(one_call, len(bodies) * 500)
    out["http: body -> prepared (item by item)"] = _time(per_item, len(bodies) * 500)

    class _Confirming:
        ready = True

        async def publish(self, *args: Any, **kwargs: Any) -> None:
            await asyncio.sleep(0)

    records = [
        SourceRecord(
            SCHEMA, payload(i, regions[(i // 100) % 514]), source, source_record_id=f"o-{i}", revision=1
        )
        for i in range(n)
    ]

    async def offer_all() -> None:
        publisher = BatchingPublisher(_Confirming(), "x", metrics)  # type: ignore[arg-type]
        offering = Pipeline(pipeline._validator, publisher, None, metrics)  # type: ignore[arg-type]

        async def source_task(k: int) -> None:
            for i in range(k * 500, n, 2000):
                await offering.offer_many(records[i : i + 500])

        await asyncio.gather(*(source_task(k) for k in range(4)))

    out["pipeline: offer_many (prepare+publisher, confirms at once)"] = _time(
        lambda: asyncio.run(offer_all()), n
    )
    return out


# --- end: ingest21 helpers -----------------------------------------------------------------------------


class _NullSink:
    name = "null"

    async def write(self, envelopes: Any) -> list[Any]:
        return [Applied(e.idempotency_key) for e in envelopes]

    async def close(self) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    result = measure(args.records)
    for stage, us in result.items():
        unit = "B" if stage.startswith("wire") else "us/record"
        print(f"{stage:<45} {us:8.1f} {unit}")
    print(json.dumps({k: round(v, 1) for k, v in result.items()}))


if __name__ == "__main__":
    main()
