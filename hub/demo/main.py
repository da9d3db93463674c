"""The demo's run: a fresh vhost, a node, offices pushing concurrently, then a record-by-record check.

Exits 0 only if every good record was applied exactly once at its final revision and state, nothing
unexpected reached the warehouse, and every bad record is in quarantine with the expected reason.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import aiohttp

from adapters.sqlite_sink.sink import SqliteSink
from hub.demo.offices import push_office
from hub.demo.plan import Expected, Office, build_plan
from hub.demo.progress import Progress
from hub.demo.report import Report, render
from hub.logging import configure_logging
from hub.node import Node
from hub.settings import load_settings
from hub.transport.management import ManagementClient
from schemas.envelope import make_idempotency_key, make_record_key
from schemas.regions import default_index

VHOST = "simpul-demo"


async def run_demo(
    *,
    offices: int,
    records: int,
    bad_every: int,
    timeout: float,
    broker_url: str,
    management_url: str,
    vhost: str = VHOST,
) -> int:
    """Run the demo and print its summary; returns the process exit code."""
    configure_logging("warning", "auto")
    async with ManagementClient(management_url) as mgmt:
        await mgmt.wait_until_ready(timeout=30)
        await mgmt.delete_vhost(vhost)
        await mgmt.create_vhost(vhost, description="simpul demo (recreated by every run)")
        await mgmt.set_permissions(vhost, "guest")
    plan, expected = build_plan(default_index(), offices=offices, records=records, bad_every=bad_every)
    state = Path(tempfile.mkdtemp(prefix="simpul-demo-"))
    settings = load_settings(
        None,
        dev_mode=True,
        node="pusat-demo",
        state_dir=state,
        broker={
            "url": broker_url.rstrip("/") + "/" + quote(vhost, safe=""),
            "management_url": management_url,
        },
        http={
            "port": 0,
            "api_keys": {o.api_key: {"system": o.system, "office": o.region.code} for o in plan},
        },
        sink={"sqlite_path": str(state / "warehouse.sqlite3")},
    )
    sent = sum(len(v) for o in plan for v in (*o.items.values(), *o.resend.values()))
    print(
        f"Simpul demo: {len(plan)} offices push {sent} records (some bad, some resent) through RabbitMQ "
        f"vhost '{vhost}' into the central warehouse at {state}"
    )
    async with Node(settings) as node:
        assert isinstance(node.sink, SqliteSink)
        progress = Progress(sent, "pushing ")
        started = time.monotonic()
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{node.http_port}"
            await asyncio.gather(*(push_office(http, base, office, progress) for office in plan))
        progress.done()
        report = await _settle(node, node.sink, plan, expected, timeout)
        report.elapsed_s = time.monotonic() - started
        report.sent = sent
        report.confirmed = progress.counts.get("confirmed", 0)
    print(render(report))
    return 0 if report.ok else 1


async def _settle(
    node: Node, sink: SqliteSink, plan: list[Office], expected: Expected, timeout: float
) -> Report:
    deadline = time.monotonic() + timeout
    progress = Progress(len(expected.final) + len(expected.bad), "settling")
    while True:
        report = await asyncio.to_thread(_check, node, sink, plan, expected)
        progress.counts = {"applied": report.rows, "quarantined": report.quarantined}
        progress.show()
        if report.ok or time.monotonic() > deadline:
            progress.done()
            return report
        await asyncio.sleep(0.25)


def _check(node: Node, sink: SqliteSink, plan: list[Office], expected: Expected) -> Report:
    store = sink.store
    report = Report(offices=len(plan), expected_good=len(expected.final), expected_bad=len(expected.bad))
    report.rows = store.count()
    report.withdrawn = store.count(state="withdrawn")
    for (system, schema, rid), (revision, state) in expected.final.items():
        row = store.get(make_record_key(schema, system, rid))
        if row is None:
            report.missing += 1
        elif (row["revision"], row["state"]) != (revision, state):
            report.wrong += 1
    want = {make_idempotency_key(make_record_key(s, sy, r), rev) for sy, s, r, rev in expected.revisions_sent}
    applied = store.applied_keys()
    report.applied_revisions = len(applied)
    report.unexpected = len(applied - want) + max(0, report.rows - len(expected.final))
    deliveries = store.delivery_counts()
    report.duplicates = sum(n - 1 for n in deliveries.values() if n > 1)
    report.quarantined = node.quarantine_store.count()
    filed = {
        (e.source_record_id, e.reason) for e in node.quarantine_store.list(limit=len(expected.bad) + 1000)
    }
    report.bad_missing = sum(1 for b in expected.bad if (b.rid, b.reason) not in filed)
    report.reasons = dict(node.quarantine_store.counts_by_reason())
    report.expected_reasons = dict(Counter(b.reason for b in expected.bad))
    report.ok = (
        report.bad_missing == 0
        and report.missing == 0
        and report.wrong == 0
        and report.unexpected == 0
        and applied >= want
        and report.reasons == report.expected_reasons
    )
    return report
