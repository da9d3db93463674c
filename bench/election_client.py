"""The election-day load: every region's system pushes its voter_participation records through HTTP ingest.

``python -m bench.election_client '<json spec>'`` (spec: ``url``, ``records``, ``batch``, ``regions``). Each
region (38 provinces + 514 kab/kota) is one client with its own API key (``key-<kode>``), sending its
share of the records in batches of ``batch``, all regions at once. A 503 or 429 is retried after its
``Retry-After``; any other answer than 202 counts as a failure (the records of that batch are then
missing from the warehouse and show up as lost). Bodies are built before ``READY`` is printed; the
figures are printed as ``DONE {json}`` at the end.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp
import orjson

from bench.common import payload


def shares(total: int, regions: list[str]) -> dict[str, int]:
    base, extra = divmod(total, len(regions))
    return {code: base + (1 if i < extra else 0) for i, code in enumerate(regions)}


def bodies_for(code: str, count: int, batch: int) -> list[bytes]:
    out = []
    for start in range(0, count, batch):
        items = [
            {"id": f"{code}-{j}", "revision": 1, "data": payload(j, code)}
            for j in range(start, min(start + batch, count))
        ]
        out.append(orjson.dumps(items))
    return out


async def main(spec: dict[str, Any]) -> None:
    url: str = spec["url"]
    # Ask before sending each 300 KB body (as curl does for large bodies): a busy hub refuses unread.
    expect100: bool = spec.get("expect100", True)
    regions: list[str] = spec["regions"]
    plan = {code: bodies_for(code, n, spec["batch"]) for code, n in shares(spec["records"], regions).items()}
    stats: dict[str, float] = {"requests": 0, "accepted": 0, "busy_503": 0, "limited_429": 0, "failed": 0}
    print("READY " + json.dumps({"requests": sum(len(b) for b in plan.values())}), flush=True)
    started = time.monotonic()

    async def region(http: aiohttp.ClientSession, code: str, bodies: list[bytes]) -> None:
        headers = {"X-API-Key": f"key-{code}", "Content-Type": "application/json"}
        for body in bodies:
            while True:
                stats["requests"] += 1
                async with http.post(url, data=body, headers=headers, expect100=expect100) as r:
                    await r.read()
                    if r.status == 202:
                        stats["accepted"] += 1
                        break
                    if r.status in (429, 503):
                        stats["busy_503" if r.status == 503 else "limited_429"] += 1
                        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                        continue
                    stats["failed"] += 1
                    print(f"batch of {code} refused: {r.status}", file=sys.stderr)
                    break

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(*(region(http, code, bodies) for code, bodies in plan.items()))
    stats["send_s"] = round(time.monotonic() - started, 2)
    print("DONE " + json.dumps(stats), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
