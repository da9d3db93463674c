"""One hub node in its own process, for the benchmarks: ``python -m bench.node_proc '<json spec>'``.

Spec keys: ``amqp_url``; ``pg_schema`` (the PostgreSQL warehouse sink on the central queue, or null for
a node without a sink); ``settings`` (merged into the node's settings: ``batch``, ``broker``, ``sink``,
``http``, ``sources``...). Prints ``READY {"http_port": ..., "pid": ...}`` once the node runs, and stops
the node gracefully on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
from typing import Any

from bench import source as bench_source
from bench.common import MGMT, PG


async def main(spec: dict[str, Any]) -> None:
    from adapters.postgres_sink import PostgresSink, PostgresSinkConfig
    from hub import gc_tuning
    from hub.adapters.registry import register
    from hub.logging import configure_logging
    from hub.node import Node
    from hub.settings import load_settings

    register(bench_source.PLUGIN)
    configure_logging("warning", "json")
    overrides: dict[str, Any] = dict(spec.get("settings", {}))
    sink_cfg = dict(overrides.pop("sink", {}))
    broker = {"url": spec["amqp_url"], "management_url": MGMT, **overrides.pop("broker", {})}
    http = {"port": 0, **overrides.pop("http", {})}  # an ephemeral port: several nodes may run at once
    pg_schema = spec.get("pg_schema")
    settings = load_settings(
        None,
        dev_mode=True,
        state_dir=tempfile.mkdtemp(prefix="simpul-bench-"),
        log_level="warning",
        log_format="json",
        broker=broker,
        http=http,
        sink={**sink_cfg, "enabled": pg_schema is not None},
        **overrides,
    )
    sink = None
    if pg_schema is not None:
        sink = PostgresSink(PostgresSinkConfig(**PG, db_schema=pg_schema, pool_max=4), name="warehouse")
        await sink.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with Node(settings, sink=sink) as node:
        gc_tuning.settle_after_start()  # as `simpul run` does once the node has started
        print("READY " + json.dumps({"http_port": node.http_port, "pid": os.getpid()}), flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
