"""Confirmed-publish throughput of AmqpTransport on a local RabbitMQ.

Creates a throw-away vhost through the management API, publishes N messages of SIZE bytes with
CONCURRENCY publishes in flight (each waits for its confirm), reports confirmed publishes per second and
latency percentiles, then deletes the vhost.

    .venv/bin/python bench/transport_publish.py --messages 5000 --size 1024 --concurrency 200
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import time
import uuid

import structlog

from hub.transport.amqp import AmqpTransport
from hub.transport.management import ManagementClient
from hub.transport.topology import default_topology


async def run(args: argparse.Namespace) -> None:
    vhost = f"simpul-bench-{uuid.uuid4().hex[:8]}"
    async with ManagementClient(args.management_url) as api:
        await api.create_vhost(vhost, description="simpul publish benchmark (safe to delete)")
        await api.set_permissions(vhost, args.user)
        transport = AmqpTransport(
            f"{args.amqp_base}/{vhost}",
            default_topology("bench", delivery_limit=5),
            management_url=args.management_url,
            max_inflight=args.max_inflight or args.concurrency,
            name="simpul-bench",
        )
        try:
            await transport.start()
            body = os.urandom(args.size // 2).hex().encode()[: args.size]
            latencies: list[float] = []
            next_index = 0

            async def worker() -> None:
                nonlocal next_index
                while next_index < args.messages:
                    i = next_index
                    next_index += 1
                    started = time.perf_counter()
                    await transport.publish("bench.ingest", f"32.01.{i % 50}", body, message_id=f"b-{i}")
                    latencies.append(time.perf_counter() - started)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(args.concurrency)))
            elapsed = time.perf_counter() - started
            latencies.sort()
            rate = args.messages / elapsed
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
            print(
                f"{args.messages} x {args.size} B, {args.concurrency} concurrent: {elapsed:.2f} s, "
                f"{rate:,.0f} confirmed publishes/s, latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            )
        finally:
            await transport.close()
            await api.delete_vhost(vhost)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--max-inflight", type=int, default=0, help="default: equal to --concurrency")
    parser.add_argument("--amqp-base", default="amqp://guest:guest@127.0.0.1:5672")
    parser.add_argument("--management-url", default="http://guest:guest@127.0.0.1:15672")
    parser.add_argument("--user", default="guest")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
