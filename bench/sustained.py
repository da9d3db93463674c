"""Sustained end to end through real Simpul nodes: bench source -> mapping -> validation -> envelope ->
publish with confirm -> consume -> PostgreSQL warehouse (idempotent upsert, COMMIT) -> ack.

``procs=1``: one node process does everything. ``procs=2``: a publishing node (sources, no sink) and a
consuming node (the warehouse sink on the central queue, no sources) in separate processes. The rate is
taken on the warehouse's clock: rows / (last ``applied_at`` - first ``received_at``), so process start-up
is not counted; ``wall_s`` (start of the nodes to the last row seen) is reported beside it.

    .venv/bin/python -m bench.sustained --records 200000 --procs 2
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
    hub_process,
    pg_schema,
    service_pids,
    vhost,
)
from bench.source import source_entry

# The settings the benchmarks run the hub with (see docs/performance.md for why these values).
HUB_SETTINGS: dict[str, Any] = {
    "batch": {"max_records": 100, "linger_ms": 2, "max_pending_records": 20_000},
    "broker": {"max_inflight": 256},
    "sink": {"prefetch": 128, "batch_messages": 32, "linger_ms": 0, "concurrency": 2},
}


def _sources(records: int, sources: int, batch: int, rate: float, prefix: str) -> list[dict[str, Any]]:
    share = -(-records // sources)
    out = []
    for s in range(sources):
        offset = s * share
        n = min(share, records - offset)
        if n > 0:
            out.append(
                source_entry(
                    f"bench-{s}", records=n, offset=offset, batch=batch, rate=rate / sources, prefix=prefix
                )
            )
    return out


async def run(
    records: int,
    *,
    procs: int = 1,
    sources: int = 4,
    batch: int = 2000,
    rate: float = 0.0,
    settings: dict[str, Any] | None = None,
    rss_at: tuple[int, ...] = (),
    timeout: float = 300.0,
) -> dict[str, Any]:
    """One run; returns the figures (rate, latency percentiles, peak RSS per process, RSS at marks)."""
    hub = {**HUB_SETTINGS, **(settings or {})}
    async with vhost() as amqp_url, pg_schema() as schema:
        entries = _sources(records, sources, batch, rate, "vp")
        procs_list: list[Proc] = []
        if procs == 1:
            procs_list.append(
                hub_process(
                    "node",
                    {"amqp_url": amqp_url, "pg_schema": schema, "settings": {**hub, "sources": entries}},
                )
            )
        else:
            procs_list.append(
                hub_process("sink", {"amqp_url": amqp_url, "pg_schema": schema, "settings": hub})
            )
            procs_list.append(
                hub_process(
                    "publisher",
                    {"amqp_url": amqp_url, "pg_schema": None, "settings": {**hub, "sources": entries}},
                )
            )
        wh = Warehouse(schema)
        marks: dict[str, dict[str, float]] = {}
        pending = sorted(rss_at)
        sampler: RssSampler | None = None
        started = time.monotonic()
        at_ready: dict[str, float] = {}
        try:
            for p in procs_list:  # the sink first, so its queue is consumed from the first record
                await p.start()
                # CPU is counted from READY: interpreter start, imports and node start-up (1-2 s of CPU
                # per process, ~100 us per record of a 20,000-record run) are not the path's cost.
                at_ready[p.name] = cpu_s(p.pid)
            services = service_pids()
            before_pid = {pid: cpu_s(pid) for group in services.values() for pid in group}
            sampler = RssSampler({p.name: p.pid for p in procs_list})
            sampler.start()

            def tick(seen: int) -> None:
                while pending and seen >= pending[0]:
                    assert sampler is not None
                    marks[str(pending.pop(0))] = sampler.sample()

            seen, done_at = await wh.wait_for(records, timeout, tick, tuple(pending))
            cpu = {p.name: cpu_s(p.pid) - at_ready[p.name] for p in procs_list}
            # Sessions opened during the run count from zero.
            services_after = service_pids()
            old = {pid for group in services.values() for pid in group}
            poll_s = wh.poll_cpu_s()  # the bench's own counting: not the path's cost, reported apart
            for name, group in services_after.items():
                if group:
                    used = sum(
                        cpu_s(pid) - (before_pid.get(pid, 0.0) if pid in old else 0.0)
                        for pid in group
                        if pid != wh.backend_pid
                    )
                    cpu[name] = used
            span = await wh.span()
        finally:
            if sampler is not None:
                await sampler.stop()
            for p in reversed(procs_list):
                await p.stop()
            await wh.close()
        return {
            "records": records,
            "rows": seen,
            "procs": procs,
            "rate": round(span["rate"]),
            "wall_s": round(done_at - started, 2),
            "span_s": round(span["span_s"], 2),
            "p50_ms": round(span["p50_ms"], 1),
            "p99_ms": round(span["p99_ms"], 1),
            "max_ms": round(span["max_ms"], 1),
            "cpu_us_per_record": {k: round(v / max(seen, 1) * 1e6) for k, v in cpu.items()},
            "startup_cpu_s": {k: round(v, 2) for k, v in at_ready.items()},
            "poll_cpu_s": round(poll_s, 2),
            "peak_rss_mb": {k: round(v) for k, v in (sampler.peak if sampler else {}).items()},
            "rss_at_mb": {k: {n: round(v) for n, v in m.items()} for k, m in marks.items()},
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--procs", type=int, default=1, choices=(1, 2))
    parser.add_argument("--sources", type=int, default=4)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=0.0, help="records/s in total; 0 = as fast as it goes")
    parser.add_argument("--settings", default="{}", help="JSON merged into the hub settings")
    args = parser.parse_args()
    result = asyncio.run(
        run(
            args.records,
            procs=args.procs,
            sources=args.sources,
            batch=args.batch,
            rate=args.rate,
            settings=json.loads(args.settings),
        )
    )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
