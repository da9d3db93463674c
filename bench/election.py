"""Election day: 820,000 voter_participation records from 552 regions (38 provinces + 514 kab/kota) pushed
through HTTP ingest at once, in batches, land in the PostgreSQL warehouse.

Hub: an ingest node (HTTP, publishing) and a warehouse node (consuming) in two processes (``--procs 1``:
one node does both). Load: ``bench.election_client`` in its own process, one client per region, each
with its own API key scoped to its region; 503/429 answers are retried after ``Retry-After``. Reported:
seconds from the first request to the last row present, records lost (expected minus rows present),
duplicates (rows beyond one per record id; the ledger's redeliveries beside it), the HTTP answers, the
peak RSS of every hub process (VmRSS sampled every 0.2 s) and each hub process's CPU per record from the
burst's start to the last row (``cpu_us_per_record``: which node bounds the day).

    .venv/bin/python -m bench.election [--records 820000] [--batch 500] [--procs 2]
    .venv/bin/python -m bench.election --records 60000      # quick: one 108-record batch per region
    .venv/bin/python -m bench.election --waiting 0          # 503 at once beyond the limit (no line)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from bench.common import (
    Proc,
    RssSampler,
    Warehouse,
    cpu_s,
    election_regions,
    hub_process,
    pg_schema,
    vhost,
)
from bench.sustained import HUB_SETTINGS


async def run(
    records: int = 820_000,
    *,
    batch: int = 500,
    procs: int = 2,
    concurrent: int = 8,
    timeout: float = 1200,
    expect100: bool = True,
    waiting: int | None = None,
    wait_s: float | None = None,
) -> dict[str, Any]:
    regions = election_regions()
    keys = {f"key-{code}": {"system": f"kpu-{code}", "office": code} for code in regions}
    # ``concurrent``: http.max_concurrent_requests, the ingest node's admission limit (its memory bound);
    # ``waiting``/``wait_s``: the line of requests waiting for a place (None: the node's defaults).
    http: dict[str, Any] = {"api_keys": keys, "max_concurrent_requests": concurrent}
    if waiting is not None:
        http["max_waiting_requests"] = waiting
    if wait_s is not None:
        http["max_wait_s"] = wait_s
    hub = {**HUB_SETTINGS, "http": http}
    async with vhost() as amqp_url, pg_schema() as schema:
        nodes: list[Proc] = []
        if procs == 1:
            nodes.append(hub_process("node", {"amqp_url": amqp_url, "pg_schema": schema, "settings": hub}))
        else:
            nodes.append(hub_process("sink", {"amqp_url": amqp_url, "pg_schema": schema, "settings": hub}))
            nodes.append(hub_process("ingest", {"amqp_url": amqp_url, "pg_schema": None, "settings": hub}))
        wh = Warehouse(schema)
        sampler: RssSampler | None = None
        client: Proc | None = None
        try:
            for node in nodes:
                await node.start()
            port = nodes[-1].info["http_port"]
            spec = {
                "url": f"http://127.0.0.1:{port}/v1/records/voter_participation",
                "records": records,
                "batch": batch,
                "regions": regions,
                "expect100": expect100,
            }
            client = Proc("client", "bench.election_client", json.dumps(spec))
            sampler = RssSampler({n.name: n.pid for n in nodes})
            sampler.start()
            await client.start(timeout=300)  # READY once its bodies are built: the burst starts now
            started = time.monotonic()
            cpu_at_start = {n.name: cpu_s(n.pid) for n in nodes}
            rss_marks: dict[str, dict[str, float]] = {}

            def tick(seen: int) -> None:
                if seen >= 100_000 and "100000" not in rss_marks:
                    assert sampler is not None
                    rss_marks["100000"] = sampler.sample()

            seen, done_at = await wh.wait_for(records, timeout, tick, (100_000,))
            cpu = {n.name: cpu_s(n.pid) - cpu_at_start[n.name] for n in nodes}
            rss_marks[str(seen)] = sampler.sample()
            http = await client.finish()
            rows = await wh.count()
            distinct = await wh.distinct_ids()
            keys_logged, deliveries = await wh.deliveries()
        finally:
            if sampler is not None:
                await sampler.stop()
            if client is not None:
                await client.stop()
            for node in reversed(nodes):
                await node.stop()
            await wh.close()
    return {
        "records": records,
        "regions": len(regions),
        "batch": batch,
        "procs": procs,
        "max_concurrent_requests": concurrent,
        "max_waiting_requests": waiting,
        "max_wait_s": wait_s,
        "expect_100_continue": expect100,
        "seconds": round(done_at - started, 1),
        "rate": round(seen / (done_at - started)),
        "lost": records - rows,
        "duplicates": rows - distinct,
        "redeliveries": deliveries - keys_logged,
        "http": http,
        "cpu_us_per_record": {k: round(v / max(seen, 1) * 1e6) for k, v in cpu.items()},
        "peak_rss_mb": {k: round(v) for k, v in sampler.peak.items()},
        "rss_at_mb": {k: {n: round(v) for n, v in m.items()} for k, m in rss_marks.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=820_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--procs", type=int, default=2, choices=(1, 2))
    parser.add_argument("--concurrent", type=int, default=8, help="http.max_concurrent_requests")
    parser.add_argument(
        "--waiting", type=int, default=None, help="http.max_waiting_requests (default: the node's)"
    )
    parser.add_argument("--wait-s", type=float, default=None, help="http.max_wait_s (default: the node's)")
    parser.add_argument(
        "--no-expect100",
        action="store_true",
        help="clients send bodies without asking (Expect: 100-continue)",
    )
    args = parser.parse_args()
    result = run(
        args.records,
        batch=args.batch,
        procs=args.procs,
        concurrent=args.concurrent,
        expect100=not args.no_expect100,
        waiting=args.waiting,
        wait_s=args.wait_s,
    )
    print(json.dumps(asyncio.run(result), indent=1))


if __name__ == "__main__":
    main()
