"""The simulated offices: each pushes its items to the hub over HTTP, as a regional system would.

Batches alternate between a JSON array and NDJSON; bad records ride in the same batches as good ones
(``on_invalid=quarantine``); a 503 is retried after its ``Retry-After``, as a well-behaved client does.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import orjson

from hub.demo.plan import Item, Office

BATCH = 50


async def push_office(
    http: aiohttp.ClientSession, base_url: str, office: Office, counts: Counter[str]
) -> None:
    """Send every item of one office, then its resends (retries, new revisions, withdrawals)."""
    for schema, items in office.items.items():
        await _send_all(http, base_url, office, schema, items, counts)
    for schema, items in office.resend.items():
        await _send_all(http, base_url, office, schema, items, counts)


async def _send_all(
    http: aiohttp.ClientSession,
    base_url: str,
    office: Office,
    schema: str,
    items: list[Item],
    counts: Counter[str],
) -> None:
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        ndjson = (start // BATCH) % 2 == 1
        if ndjson:
            body = b"\n".join(orjson.dumps(i.body) for i in chunk)
            ctype = "application/x-ndjson"
        else:
            body = orjson.dumps([i.body for i in chunk])
            ctype = "application/json"
        result = await _post(
            http, f"{base_url}/v1/records/{schema}?on_invalid=quarantine", body, ctype, office.api_key
        )
        counts["confirmed"] += result.get("accepted", 0)
        counts["quarantined"] += result.get("quarantined", 0)


async def _post(http: aiohttp.ClientSession, url: str, body: bytes, ctype: str, key: str) -> dict[str, int]:
    for attempt in range(30):
        async with http.post(url, data=body, headers={"Content-Type": ctype, "X-API-Key": key}) as resp:
            if resp.status == 202:
                data: dict[str, int] = await resp.json()
                return data
            if resp.status == 503:
                await asyncio.sleep(
                    min(float(resp.headers.get("Retry-After", "1")), 2.0) * (1 + attempt / 10)
                )
                continue
            text = await resp.text()
            raise RuntimeError(f"unexpected HTTP {resp.status} from the hub: {text[:300]}")
    raise RuntimeError("the hub kept answering 503")
