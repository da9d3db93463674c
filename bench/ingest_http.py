"""End-to-end figure for the core bus: HTTP ingest -> RabbitMQ (confirms) -> SQLite warehouse (fsync).

Starts a node in a fresh vhost, pushes N records of one schema in batches from C concurrent clients,
and prints records/s until every record was confirmed (202) and until every record was applied.

    .venv/bin/python bench/ingest_http.py --records 50000 --batch 500 --clients 8
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.sqlite_sink.sink import SqliteSink
from hub.node import Node
from hub.settings import load_settings
from hub.transport.management import ManagementClient
from schemas.payloads.conflict_incident import EXAMPLE

MGMT = "http://guest:guest@127.0.0.1:15672"


async def main(records: int, batch: int, clients: int) -> None:
    vhost = f"simpul-bench-{uuid.uuid4().hex[:8]}"
    async with ManagementClient(MGMT) as mgmt:
        await mgmt.create_vhost(vhost)
        await mgmt.set_permissions(vhost, "guest")
    state = Path(tempfile.mkdtemp(prefix="simpul-bench-"))
    settings = load_settings(
        None,
        dev_mode=True,
        state_dir=str(state),
        log_level="warning",
        broker={"url": f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}", "management_url": MGMT},
        http={"port": 0, "api_keys": {"bench": {"system": "bench", "office": "pusat"}}},
        sink={"sqlite_path": str(state / "warehouse.sqlite3"), "prefetch": 256, "batch_messages": 64},
    )
    from hub.logging import configure_logging

    configure_logging("warning", "json")
    bodies = []
    for start in range(0, records, batch):
        items = []
        for i in range(start, min(start + batch, records)):
            data = copy.deepcopy(EXAMPLE)
            items.append({"id": f"B-{i}", "revision": 1, "data": data})
        bodies.append(orjson.dumps(items))
    try:
        async with Node(settings) as node:
            sink = node.sink
            assert isinstance(sink, SqliteSink)
            url = f"http://127.0.0.1:{node.http_port}/v1/records/conflict_incident"
            queue = list(bodies)
            started = time.perf_counter()

            async def client(http: aiohttp.ClientSession) -> None:
                while queue:
                    body = queue.pop()
                    async with http.post(
                        url, data=body, headers={"X-API-Key": "bench", "Content-Type": "application/json"}
                    ) as r:
                        assert r.status == 202, await r.text()

            async with aiohttp.ClientSession() as http:
                await asyncio.gather(*(client(http) for _ in range(clients)))
            confirmed = time.perf_counter() - started
            while sink.store.count() < records:  # noqa: ASYNC110  (polling the warehouse file)
                await asyncio.sleep(0.05)
            applied = time.perf_counter() - started
    finally:
        async with ManagementClient(MGMT) as mgmt:
            await mgmt.delete_vhost(vhost)
    print(f"records={records} batch={batch} clients={clients}")
    print(f"confirmed (202) after {confirmed:.2f} s: {records / confirmed:,.0f} records/s")
    print(f"applied (warehouse) after {applied:.2f} s: {records / applied:,.0f} records/s end to end")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.records, args.batch, args.clients))
