"""Instructions per record of the hub's CPU-bound stages, counted by callgrind: a figure that does not move
with the machine's minutes (on the shared benchmark machine timings moved by 20 % from one 20-second run
to the next; instruction counts repeat to a few hundred per record).

    .venv/bin/python -m bench.instructions [--records 2000] [--stages prepare,worker,parse]

Each stage runs in a fresh interpreter under ``valgrind --tool=callgrind`` twice: once set up but with no
record, once over ``--records`` records. Start-up and set-up are the same in both, so the difference over
the count is the stage's own instructions per record. Stages:

* ``prepare``: ``Pipeline.prepare_many``, 500 ``voter_participation`` records at a time, signer on (map,
  validate, region checks, identity hashes, envelope, serialise, batch signature);
* ``worker``: the sink worker's call on groups of 8 messages of 100 records (split, signature check,
  checked form, metrics, acks) around a checked sink that only answers ``applied``: no I/O;
* ``parse``: ``codec.split_batch`` of the same 100-record bodies;
* ``rows``: the PostgreSQL warehouse's rows of those records (``prepare_checked`` of their checked form);
* ``ingest``: HTTP ingest's handling of 400-record JSON bodies before the publish, as the handler does it
  (``validate_body`` on the bytes, then ``_check_typed``: envelope, serialise, batch signature);
* ``ingest_parsed``: the same bodies the way before the fifth round of issue 21 (and NDJSON's now):
  ``parse_body`` to dicts, ``validate_batch``, ``_check_typed``.
* ``trickle_offer``: ``Pipeline.offer_many`` of one record at a time, as a source at a low rate offers
  them (each its own batch signature), through the batching publisher to a transport that confirms at
  once: the per-call work a record pays when it travels alone;
* ``trickle_worker``: the sink worker's call on groups of one message of one record (each signed alone),
  evidence log (SQLite, in a temporary directory) included, around the same answering sink.

Instructions are not microseconds (a cache miss or a system call costs more than its count says), so
this compares code with code, not Simpul with its peers: run it on two commits (``git worktree add``)
and set the figures side by side. Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any

from bench.common import ROOT, SCHEMA, kab_kota_codes, payload
from bench.per_record import Applied, BenchDelivery

STAGES = ("prepare", "worker", "parse", "rows", "ingest", "ingest_parsed", "trickle_offer", "trickle_worker")
_BATCH = 500  # records prepared together, as a source offers them
_MESSAGE = 100  # records per AMQP message
_BODY = 400  # records per HTTP ingest body (the election bench sends 500; 400 divides the record counts)


def _records(n: int) -> list[Any]:
    from hub.model.records import SourceRecord
    from schemas.envelope import SourceIdentity

    source = SourceIdentity(system="bench", office="pusat", adapter="bench")
    regions = kab_kota_codes()
    return [
        SourceRecord(SCHEMA, payload(i, regions[i % 514]), source, source_record_id=f"vp-{i}", revision=1)
        for i in range(n)
    ]


def _child(stage: str, count: int, total: int) -> None:
    """Set up ``total`` records for ``stage``, then run the stage over the first ``count`` of them."""
    from hub import gc_tuning
    from hub.ingest.pipeline import Pipeline
    from hub.ingest.validation import Validator
    from hub.logging import configure_logging
    from hub.metrics import Metrics
    from hub.model import codec
    from hub.settings import load_settings
    from hub.trust import build_signer, build_verifier
    from schemas.pii import NikTokenizer
    from schemas.regions import default_index

    configure_logging("warning", "json")  # as the benchmark nodes run
    settings = load_settings(None, dev_mode=True)
    signer = build_signer(settings)
    validator = Validator(default_index(), NikTokenizer(hashlib.sha256(b"k").digest()), signer=signer)
    pipeline = Pipeline(validator, None, None, Metrics())  # type: ignore[arg-type]  # prepare only
    records = _records(total + _BATCH)
    pipeline.prepare_many(records[total:])  # warm: caches, the first signature, lazy imports
    if stage in ("ingest", "ingest_parsed"):
        _ingest(stage, pipeline, count, total)
        return
    if stage in ("trickle_offer", "trickle_worker"):
        _trickle(stage, pipeline, records, count, total, settings, signer)
        return
    if stage == "prepare":
        gc_tuning.settle_after_start()
        for i in range(0, count, _BATCH):
            pipeline.prepare_many(records[i : min(i + _BATCH, count)])
        return
    prepared = [p for i in range(0, total, _BATCH) for p in pipeline.prepare_many(records[i : i + _BATCH])]
    bodies = [
        codec.join_batch([p.body for p in prepared[i : i + _MESSAGE]]) for i in range(0, total, _MESSAGE)
    ]
    used = bodies[: count // _MESSAGE]
    if stage == "rows":  # the checked forms are set up for every record; only ``count`` rows are made
        from adapters.postgres_sink.rows import prepare_checked
        from hub.consume.checked import checked_form

        forms = [checked_form(item) for body in bodies for item in codec.split_batch(body)]
        gc_tuning.settle_after_start()
        for form in forms[:count]:
            prepare_checked(form)  # type: ignore[arg-type]  # every bench record has the checked form
        return
    gc_tuning.settle_after_start()  # as a running node: set-up objects frozen, collections spaced out
    if stage == "parse":
        for body in used:
            codec.split_batch(body)
        return

    from hub.consume.sink_worker import SinkWorker

    worker = SinkWorker(_AppliedSink(), None, Metrics(), verifier=build_verifier(settings, signer))  # type: ignore[arg-type]

    async def run() -> None:
        for i in range(0, len(used), 8):
            await worker([BenchDelivery(b) for b in used[i : i + 8]])

    asyncio.run(run())


def _ingest(stage: str, pipeline: Any, count: int, total: int) -> None:
    import orjson

    from hub.http.ingest import IngestHandler
    from hub.ingest.items import BodyItems, parse_body, validate_batch, validate_body
    from hub.settings import HttpSettings
    from schemas.catalog import get as get_schema
    from schemas.envelope import SourceIdentity

    handler = IngestHandler(pipeline, None, HttpSettings())  # type: ignore[arg-type]  # body handling only
    spec, context = get_schema(SCHEMA), pipeline.validation_context
    source = SourceIdentity(system="kpu", office="pusat", adapter="http_ingest")
    regions = kab_kota_codes()
    bodies = [
        orjson.dumps(
            [
                {"id": f"h-{j}", "revision": 1, "data": payload(j, regions[j % 514])}
                for j in range(s, s + _BODY)
            ]
        )
        for s in range(0, total + _BODY, _BODY)
    ]
    handle = bodies[: count // _BODY]
    warm = bodies[-1]  # the schema's batch validator, lazy imports
    typed = validate_body(warm, "application/json", spec, context, 32, 5000)
    handler._check_typed(BodyItems(warm, "application/json", 5000), typed, SCHEMA, source, None)  # type: ignore[arg-type]
    from hub import gc_tuning

    gc_tuning.settle_after_start()
    for body in handle:
        if stage == "ingest":
            typed = validate_body(body, "application/json", spec, context, 32, 5000)
            items = BodyItems(body, "application/json", 5000)
        else:
            parsed = parse_body(body, "application/json", 5000)
            typed = validate_batch(parsed, spec, context, 32)
            items = BodyItems.of(parsed)
        handler._check_typed(items, typed, SCHEMA, source, None)  # type: ignore[arg-type]


def _trickle(
    stage: str, pipeline: Any, records: list[Any], count: int, total: int, settings: Any, signer: Any
) -> None:
    """The ``trickle_*`` stages: records one at a time (see the module docstring)."""
    import tempfile
    from pathlib import Path

    from hub import gc_tuning
    from hub.consume.sink_worker import SinkWorker
    from hub.ingest.pipeline import Pipeline
    from hub.ingest.publisher import BatchingPublisher
    from hub.metrics import Metrics
    from hub.trust import build_verifier
    from hub.trust.evidence import EvidenceLog

    if stage == "trickle_offer":

        class Confirming:
            ready = True

            async def publish(self, *args: Any, **kwargs: Any) -> None:
                await asyncio.sleep(0)  # a confirm arrives on a later turn of the loop

        async def offer() -> None:
            metrics = Metrics()
            publisher = BatchingPublisher(Confirming(), "x", metrics, linger_s=0.002)  # type: ignore[arg-type]
            offering = Pipeline(pipeline._validator, publisher, None, metrics)  # type: ignore[arg-type]
            await offering.offer_many(records[total : total + 1])  # warm: the publisher's first batch
            gc_tuning.settle_after_start()
            for record in records[:count]:
                await offering.offer_many([record])

        asyncio.run(offer())
        return
    bodies = [p.body for r in records[:total] for p in pipeline.prepare_many([r])]  # one signature each
    with tempfile.TemporaryDirectory() as tmp:
        evidence = EvidenceLog(Path(tmp) / "evidence.sqlite3")
        worker = SinkWorker(
            _AppliedSink(),
            None,
            Metrics(),
            verifier=build_verifier(settings, signer),
            evidence=evidence,  # type: ignore[arg-type]
        )

        async def run() -> None:
            await worker([BenchDelivery(codec_join(bodies[-1]))])  # warm: the evidence thread, caches
            gc_tuning.settle_after_start()
            for body in bodies[:count]:
                await worker([BenchDelivery(codec_join(body))])

        asyncio.run(run())
        evidence.close()


def codec_join(body: bytes) -> bytes:
    """A one-record AMQP body."""
    from hub.model import codec

    return codec.join_batch([body])


class _AppliedSink:
    """A checked sink that stores nothing and answers ``applied`` for every record."""

    name = "null"

    async def write(self, envelopes: Any) -> list[Applied]:
        return [Applied(e.idempotency_key) for e in envelopes]

    async def write_checked(self, records: Any) -> list[Applied]:
        return [Applied(r.data["idempotency_key"]) for r in records]

    async def close(self) -> None:
        return None


def _instructions(stage: str, count: int, total: int) -> int:
    argv = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, "-m", "bench.instructions", "--child", stage, str(count), str(total),
    ]  # fmt: skip
    # A fixed hash seed: string hashes decide dict and set probing, which moved counts by ~4k per record.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{stage}: callgrind run failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--records", type=int, default=2000, help="a multiple of 800 (worker: groups of 8 x 100)"
    )
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--child", nargs=3, metavar=("STAGE", "COUNT", "TOTAL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stage, count, total = args.child
        _child(stage, int(count), int(total))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    n = max(800, args.records // 800 * 800)  # whole groups of 8 messages of 100 records
    out: dict[str, float] = {}
    for stage in args.stages.split(","):
        if stage not in STAGES:
            raise SystemExit(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
        base, full = _instructions(stage, 0, n), _instructions(stage, n, n)
        out[stage] = round((full - base) / n / 1000, 2)
        print(f"{stage:<10} {out[stage]:10.2f} k instructions/record  ({n} records)", flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
