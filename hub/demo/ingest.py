"""``http``: simulated Kesbangpol offices across the archipelago pushing records over HTTP ingest.

The offices and what they send come from ``hub.demo.plan`` (good records, retries, edits, withdrawals,
bad records of every kind); ``hub.demo.offices`` pushes them. The plan is the ledger.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp

from hub.demo.expect import KindExpect
from hub.demo.offices import push_office
from hub.demo.plan import Expected, Office, build_plan
from hub.demo.sources import DemoSource
from hub.http.ingest import ADAPTER
from hub.node import Node
from schemas.regions import default_index


class HttpDemo(DemoSource):
    """See the module docstring."""

    kind = "http"
    title = "HTTP ingest: Kesbangpol offices pushing JSON and NDJSON batches"

    def __init__(self, records: int, workdir: Path, *, offices: int, bad_every: int) -> None:
        super().__init__(records, workdir)
        self._offices = offices
        self._bad_every = bad_every
        self.plan: list[Office] = []
        self._expected = Expected()
        self.counts: Counter[str] = Counter()
        self.sent = 0

    async def prepare(self) -> None:
        self.plan, self._expected = build_plan(
            default_index(), offices=self._offices, records=self.records, bad_every=self._bad_every
        )
        self.adapters = [ADAPTER]
        self.sent = sum(len(v) for o in self.plan for v in (*o.items.values(), *o.resend.values()))

    def api_keys(self) -> dict[str, dict[str, str]]:
        return {o.api_key: {"system": o.system, "office": o.region.code} for o in self.plan}

    def planned(self) -> int:
        return self.sent

    def offered(self, counted: int) -> int:
        # Items without an id or revision never become records the metrics count; they were offered.
        return self.sent

    async def drive(self, node: Node, deadline: float) -> None:
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{node.http_port}"
            await asyncio.gather(*(push_office(http, base, office, self.counts) for office in self.plan))

    def expected(self) -> KindExpect:
        ledger = KindExpect(adapters=set(self.adapters))
        for (system, schema, rid), (revision, state) in self._expected.final.items():
            ledger.final[(schema, system, rid)] = (revision, state)
        for system, schema, rid, revision in self._expected.revisions_sent:
            ledger.revisions.add(((schema, system, rid), revision))
        for bad in self._expected.bad:
            ledger.quarantined(ADAPTER, bad.rid, bad.reason)
        return ledger

    def notes(self) -> str:
        return (
            f"{len(self.plan)} offices pushed {self.sent:,} items (incl. retries, edits, withdrawals); "
            f"answered: {self.counts['confirmed']:,} published, {self.counts['quarantined']:,} quarantined"
        )
