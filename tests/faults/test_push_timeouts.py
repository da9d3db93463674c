"""HTTP push sources that time out mid-request and send again.

The hub reaches its broker through a slow link (``FaultyLink``, 0.4 s per chunk each way), so a publisher
confirm takes about a second. The regional clients give up after 0.5 s on their first two attempts (the
connection is closed while the hub still waits for the confirm: the client cannot know whether its records
were taken); once every client has abandoned two requests the link heals, and they send the same records
again with a patient timeout. Whatever the hub had already published for an abandoned request must be
recognised as a duplicate; nothing a client got a 202 for may be missing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.faults import harness as h
from tests.faults.ledger import Ledger, assert_ok, key_for
from tests.helpers import KEY_BOGOR, item
from tests.proxy import FaultyLink

pytestmark = pytest.mark.broker
CLIENTS, PER_CLIENT = 40, 25
SYSTEM = "sitimdu-bogor"  # the system of KEY_BOGOR in tests.helpers.node_settings


@pytest.mark.fault("hub -> broker link 0.4 s per chunk; clients time out after 0.5 s twice, then resend")
async def test_push_clients_timing_out_mid_request_resend_without_loss_or_double_apply(
    tmp_path: Path, broker_vhost: str, management_url: str, tcp_proxy: FaultyLink
) -> None:
    """Abandoned requests (maybe published, never answered) and their resends: each record applied once."""
    ledger = Ledger("HTTP push clients time out mid-request, resend")
    # Every client's request is admitted (no early 503), so the slow link really cuts requests short.
    config = h.settings(
        tmp_path, tcp_proxy.url_for(broker_vhost), management_url, http={"max_concurrent_requests": CLIENTS}
    )
    outcomes: Counter[str] = Counter()
    impatient_done: set[int] = set()
    healed = asyncio.Event()

    async def post(http: aiohttp.ClientSession, port: int, body: bytes, timeout: float) -> int | None:
        """The status, or None when the client gave up waiting (the request was cut short)."""
        try:
            async with http.post(
                f"http://127.0.0.1:{port}/v1/records/ormas_registration",
                data=body,
                headers={"Content-Type": "application/json", "X-API-Key": KEY_BOGOR},
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                await resp.read()
        except TimeoutError:
            outcomes["client_timeout"] += 1
            return None
        outcomes[str(resp.status)] += 1
        assert resp.status in (202, 429, 503), resp.status
        return resp.status

    async def client(http: aiohttp.ClientSession, port: int, c: int) -> None:
        batch = [item("ormas_registration", f"TO-{c:02d}-{i:02d}") for i in range(PER_CLIENT)]
        ledger.offer(key_for("ormas_registration", SYSTEM, x["id"], 1) for x in batch)
        body = orjson.dumps(batch)
        status, cut = None, 0
        for _ in range(60):  # impatient: until two requests were cut short (a 503 is simply retried)
            status = await post(http, port, body, 0.5)
            cut += status is None
            if cut >= 2 or status == 202:
                break
            await asyncio.sleep(0.1)
        impatient_done.add(c)
        if len(impatient_done) == CLIENTS:  # every client has given up twice: the link heals
            tcp_proxy.heal()
            ledger.healed()
            healed.set()
        await healed.wait()
        for _ in range(60):  # patient: the same records again until a 202
            if status == 202:
                return
            status = await post(http, port, body, 60)
            await asyncio.sleep(0.2)
        raise AssertionError(f"client {c} never got a 202: {dict(outcomes)}")

    async with h.make_node(config, ledger) as node:
        store = h.warehouse(node)
        tcp_proxy.latency_s = 0.4
        ledger.fault()
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(client(http, node.http_port or 0, c) for c in range(CLIENTS)))
        assert await h.wait_for(lambda: h.covered(ledger, store), timeout=60)
        await asyncio.sleep(1.0)  # late confirms of abandoned requests land before the check
    report = h.final_report(ledger, config)
    report.notes.update(outcomes)
    assert outcomes["client_timeout"] >= CLIENTS, outcomes  # the fault really cut requests short
    assert outcomes["202"] == CLIENTS
    assert report.redeliveries > 0, "abandoned requests were published too: their resends are duplicates"
    assert_ok(report)
