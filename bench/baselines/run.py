"""Runs one peer pipeline end to end: consumer and producer in two processes, fresh vhost and warehouse
schema, the rate taken on the warehouse's clock like Simpul's (rows / first received_at -> last applied_at).

    .venv/bin/python -m bench.baselines.run aiopika --records 20000
    .venv/bin/python -m bench.baselines.run faststream --records 100000 --per-message 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from bench.common import Proc, RssSampler, Warehouse, cpu_s, pg_schema, vhost

MODULES = {"aiopika": "bench.baselines.aiopika_pipeline", "faststream": "bench.baselines.faststream_pipeline"}


async def run(kind: str, records: int, per_message: int = 1, timeout: float = 300.0) -> dict[str, Any]:
    module = MODULES[kind]
    async with vhost() as url, pg_schema() as schema:
        common = ["--url", url, "--records", str(records), "--per-message", str(per_message)]
        consumer = Proc("consumer", module, "--role", "consumer", "--schema", schema, *common)
        producer = Proc("producer", module, "--role", "producer", *common)
        wh = Warehouse(schema)
        sampler: RssSampler | None = None
        started = time.monotonic()
        try:
            await consumer.start()
            await producer.start()
            # CPU from READY on, as for Simpul's nodes (bench.sustained): start-up is not the path's cost.
            at_ready = {p.name: cpu_s(p.pid) for p in (consumer, producer)}
            sampler = RssSampler({"consumer": consumer.pid, "producer": producer.pid})
            sampler.start()
            seen, done_at = await wh.wait_for(records, timeout)
            cpu = {p.name: cpu_s(p.pid) - at_ready[p.name] for p in (consumer, producer)}
            span = await wh.span()
        finally:
            if sampler is not None:
                await sampler.stop()
            await producer.stop()
            await consumer.stop()
            await wh.close()
    return {
        "pipeline": kind,
        "per_message": per_message,
        "records": records,
        "rows": seen,
        "rate": round(span["rate"]),
        "wall_s": round(done_at - started, 2),
        "p50_ms": round(span["p50_ms"], 1),
        "p99_ms": round(span["p99_ms"], 1),
        "cpu_us_per_record": {k: round(v / max(seen, 1) * 1e6) for k, v in cpu.items()},
        "startup_cpu_s": {k: round(v, 2) for k, v in at_ready.items()},
        "peak_rss_mb": {k: round(v) for k, v in (sampler.peak if sampler else {}).items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=sorted(MODULES))
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--per-message", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.kind, args.records, args.per_message)), indent=1))


if __name__ == "__main__":
    main()
