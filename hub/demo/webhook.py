"""``webhook``: the SiDini early-warning app of Kabupaten Banggai pushing signed events.

The simulated app (``adapters.webhook.simulator``) pushes every event signed, retrying on 5xx/409 and
timeouts. Some events are bad in ways the example mapping ``ops/examples/sidini_early_warning.toml``
must catch (they are answered 202 too: quarantined is as durable as published). Then the app retries
events it already delivered (its answers got lost: 200 duplicate), sends a few events twice at once (a
retry racing its original: 409, then 200), and a forged push with a wrong signature arrives (401).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from adapters.webhook.signature import sign
from adapters.webhook.simulator import Delivery, EarlyWarningApp
from hub.demo.expect import KindExpect, wib_ms
from hub.demo.sources import DemoSource, example_source, until
from hub.node import Node

SECRET = b"rahasia-sidini-banggai-demo"
# (dotted path, bad value, reason, field rule)
BAD = (
    ("laporan.kategori", "Lain-lain", "mapping_failed", "value_unmapped"),
    ("laporan.lokasi.kel", "Kelurahan Fiktif", "mapping_failed", "region_unknown"),
    ("laporan.lokasi.lat", "utara", "mapping_failed", "number_format"),
    ("laporan.judul", "", "validation_failed", "missing"),
    ("laporan.lokasi.lat", "95.5", "validation_failed", "less_than_equal"),
)
BAD_EVERY = 15


class WebhookDemo(DemoSource):
    """See the module docstring."""

    kind = "webhook"
    title = "webhook: SiDini early-warning app, Kab. Banggai"

    def __init__(self, records: int, workdir: Path) -> None:
        super().__init__(records, workdir)
        self._entry: dict[str, Any] = {}
        self.deliveries: list[Delivery] = []
        self._bad: dict[str, tuple[str, str]] = {}  # event id -> (reason, rule)
        self.resent: list[Delivery] = []
        self.raced: list[Delivery] = []
        self.forged: list[int] = []

    async def prepare(self) -> None:
        self._entry = example_source("sidini_early_warning")
        self.adapters = [self._entry["name"]]

    def entries(self) -> list[dict[str, Any]]:
        config = {"secret": SECRET.decode(), "port": 0, "confirm_timeout_s": 10.0, "retry_after_s": 1}
        return [{**self._entry, "config": config}]

    def planned(self) -> int:
        return self.records + max(2, self.records // 50)

    async def drive(self, node: Node, deadline: float) -> None:
        port = await self._port(node, deadline)
        if port is None:
            self.problems.append(f"{self._entry['name']}: the receiver did not start listening")
            return
        app = EarlyWarningApp(f"http://127.0.0.1:{port}/webhook", SECRET, seed=5, retry_after_cap_s=0.5)
        events = [self._maybe_bad(n, *app.event()) for n in range(self.records)]
        raced = [app.event() for _ in range(max(2, self.records // 50))]
        forged = [app.event() for _ in range(2)]
        gate = asyncio.Semaphore(16)  # pushes in flight at once, as a busy app has
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:

            async def push(event_id: str, body: bytes) -> Delivery:
                async with gate:
                    return await app.push(http, event_id, body)

            self.deliveries = list(await asyncio.gather(*(push(e, b) for e, b in events)))
            # Retries of delivered events whose answers the app never saw: recognised, answered 200.
            again = self.deliveries[:: max(1, len(self.deliveries) // max(1, self.records // 10))]
            self.resent = list(await asyncio.gather(*(push(d.event_id, d.body) for d in again)))
            # An event sent twice at once: the second one races the first (409, retried, then 200).
            pairs = await asyncio.gather(*(push(e, b) for e, b in raced for _ in range(2)))
            self.raced = list(pairs)
            self.deliveries += self.raced[::2]
            self.forged = [await self._forge(http, app, e, b) for e, b in forged]
        self._judge()

    async def _port(self, node: Node, deadline: float) -> int | None:
        """The receiver's port (the adapter binds a free one)."""
        name = self._entry["name"]

        def bound() -> int | None:
            runner = next((r for r in node.runners if r.name == name), None)
            return getattr(getattr(runner, "_adapter", None), "port", None)

        await until(lambda: bound() is not None or self._failed(node), deadline)
        return bound()

    def _failed(self, node: Node) -> bool:
        return any(r.name == self._entry["name"] and r.state == "failed" for r in node.runners)

    def _maybe_bad(self, n: int, event_id: str, body: bytes) -> tuple[str, bytes]:
        if n % BAD_EVERY != BAD_EVERY - 4:
            return event_id, body
        path, value, reason, rule = BAD[(n // BAD_EVERY) % len(BAD)]
        data = orjson.loads(body)
        *parents, leaf = path.split(".")
        holder = data
        for step in parents:
            holder = holder[step]
        holder[leaf] = value
        self._bad[event_id] = (reason, rule)
        return event_id, orjson.dumps(data)

    async def _forge(
        self, http: aiohttp.ClientSession, app: EarlyWarningApp, event_id: str, body: bytes
    ) -> int:
        """A push signed with the wrong secret: it must be refused (401) and never recorded."""
        headers = {**app.headers(event_id, body), "X-Signature": sign(b"bukan-rahasianya", body)}
        async with http.post(app.url, data=body, headers=headers) as resp:
            return resp.status

    def _judge(self) -> None:
        name = self._entry["name"]
        undelivered = sum(1 for d in [*self.deliveries, *self.resent, *self.raced] if not d.delivered)
        if undelivered:
            self.problems.append(f"{name}: {undelivered} pushes never got a 2xx")
        if any(d.statuses[-1:] != [200] for d in self.resent):
            self.problems.append(f"{name}: a retry of a delivered event was not answered 200 duplicate")
        if any(status != 401 for status in self.forged):
            self.problems.append(f"{name}: a push with a forged signature was not refused with 401")

    def expected(self) -> KindExpect:
        ledger = KindExpect(adapters=set(self.adapters))
        schema, system = self._entry["schema"], self._entry["system"]
        for delivery in self.deliveries:
            if delivery.event_id in self._bad:
                ledger.quarantined(self._entry["name"], delivery.event_id, *self._bad[delivery.event_id])
                continue
            sent = datetime.fromisoformat(orjson.loads(delivery.body)["dikirim"])
            ledger.serve((schema, system, delivery.event_id), wib_ms(sent))
        return ledger

    def notes(self) -> str:
        races = sum(1 for d in self.raced if 409 in d.statuses)
        retried = sum(1 for d in self.deliveries if len(d.statuses) > 1)
        return (
            f"{len(self.deliveries)} events pushed ({retried} retried by the app), {len(self.resent)} "
            f"re-sent after delivery (200 duplicate), {len(self.raced) // 2} sent twice at once "
            f"({races} answered 409 first), {len(self.forged)} forged pushes refused "
            f"({sum(1 for s in self.forged if s == 401)} with 401)"
        )
