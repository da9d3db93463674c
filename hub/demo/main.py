"""The demo's run: a fresh vhost, one node fed by several kinds of source at once, a record-by-record check.

Kinds (``--only`` picks some): ``http`` (offices pushing over HTTP ingest), ``rest`` (rest_poll against
the SITIMDU simulator with faults), ``webhook`` (signed pushes from the early-warning simulator),
``files`` (file_drop on a folder receiving register CSVs and a recap workbook), ``sql`` (sql_poll on a
PostgreSQL table made for the run; skipped, saying so, without PostgreSQL). Exits 0 only if, for every
kind that ran, every good record was applied exactly once at its final revision and state, nothing
unexpected reached the warehouse or the quarantine, and every bad record is in quarantine with the
expected reason.

The run leaves nothing behind unless asked to (``keep``): its temporary state folder (warehouse,
quarantine, drop folders) and its vhost are removed at the end, pass or fail.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hub.demo.check import Warehouse, check, settled, warehouse_of
from hub.demo.expect import KindExpect
from hub.demo.files import FilesDemo
from hub.demo.ingest import HttpDemo
from hub.demo.progress import Progress
from hub.demo.report import KindFigures, Report, render
from hub.demo.rest import RestDemo
from hub.demo.sources import KINDS, DemoSource, Skipped
from hub.demo.sql import SqlDemo
from hub.demo.webhook import WebhookDemo
from hub.errors import ConfigError
from hub.logging import configure_logging
from hub.node import Node
from hub.settings import Settings, load_settings
from hub.transport.management import ManagementClient

VHOST = "simpul-demo"
_PULLED: dict[str, type[DemoSource]] = {
    "rest": RestDemo,
    "webhook": WebhookDemo,
    "files": FilesDemo,
    "sql": SqlDemo,
}


def parse_only(only: str | None) -> list[str]:
    """The kinds named in ``--only`` (comma-separated), in the demo's order; all when None."""
    if not only:
        return list(KINDS)
    names = {n.strip() for n in only.split(",") if n.strip()}
    unknown = sorted(names - set(KINDS))
    if unknown or not names:
        raise ConfigError(f"unknown source kinds {unknown}; choose from {', '.join(KINDS)}", key="--only")
    return [k for k in KINDS if k in names]


async def run_demo(
    *,
    offices: int,
    records: int,
    bad_every: int,
    timeout: float,
    broker_url: str,
    management_url: str,
    vhost: str = VHOST,
    only: str | None = None,
    source_records: int = 300,
    keep: bool = False,
) -> int:
    """Run the demo and print its summary; returns the process exit code. ``keep``: leave the state
    folder and the vhost for inspection (removed otherwise)."""
    kinds = parse_only(only)
    configure_logging("error", "auto")  # faults are switched on purpose: their warnings would be noise
    async with ManagementClient(management_url) as mgmt:
        await mgmt.wait_until_ready(timeout=30)
        await mgmt.delete_vhost(vhost)
        await mgmt.create_vhost(vhost, description="simpul demo (recreated by every run)")
        await mgmt.set_permissions(vhost, "guest")
    state = Path(tempfile.mkdtemp(prefix="simpul-demo-"))
    started = time.monotonic()
    sources = [
        HttpDemo(records, state, offices=offices, bad_every=bad_every)
        if kind == "http"
        else _PULLED[kind](source_records, state)
        for kind in kinds
    ]
    try:
        try:
            running, skipped = await _prepare(sources)
            settings = _settings(running, state, broker_url, management_url, vhost)
            report = await _run(running, settings, timeout)
        finally:
            for source in sources:
                await source.close()
        for figures in report.kinds:  # notes again: closing tells more (e.g. the SQL schema dropped)
            figures.notes = next(s for s in running if s.kind == figures.kind).notes()
    finally:  # after the notes, which may count files in the state folder
        if not keep:
            await _clean_up(state, management_url, vhost)
    report.kinds = sorted(report.kinds + skipped, key=lambda k: KINDS.index(k.kind))
    report.elapsed_s, report.vhost = time.monotonic() - started, vhost
    report.left = (
        f"kept: the state folder {state} and the vhost '{vhost}'"
        if keep
        else f"removed: the state folder {state} and the vhost '{vhost}' (--keep keeps them)"
    )
    print(render(report))
    return 0 if report.ok else 1


async def _clean_up(state: Path, management_url: str, vhost: str) -> None:
    """Remove the run's state folder and its vhost (the node is stopped by now)."""
    shutil.rmtree(state, ignore_errors=True)
    async with ManagementClient(management_url) as mgmt:
        await mgmt.delete_vhost(vhost)


async def _prepare(sources: list[DemoSource]) -> tuple[list[DemoSource], list[KindFigures]]:
    """Start the simulators; a kind that cannot run here is reported as skipped, with its reason."""
    running: list[DemoSource] = []
    skipped: list[KindFigures] = []
    for source in sources:
        try:
            await source.prepare()
        except Skipped as exc:
            skipped.append(KindFigures(source.kind, source.title, skipped=str(exc)))
            print(f"{source.kind}: skipped: {exc}")
            continue
        running.append(source)
    return running, skipped


def _settings(
    sources: list[DemoSource], state: Path, broker_url: str, management_url: str, vhost: str
) -> Settings:
    keys: dict[str, Any] = {}
    for source in sources:
        keys.update(source.api_keys())
    return load_settings(
        None,
        dev_mode=True,
        node="pusat-demo",
        state_dir=state,
        broker={
            "url": broker_url.rstrip("/") + "/" + quote(vhost, safe=""),
            "management_url": management_url,
        },
        http={"port": 0, "api_keys": keys},
        sink={"sqlite_path": str(state / "warehouse.sqlite3")},
        sources=[entry for source in sources for entry in source.entries()],
    )


async def _run(sources: list[DemoSource], settings: Settings, timeout: float) -> Report:
    print(
        f"Simpul demo: sources {', '.join(s.kind for s in sources)} feed one node through RabbitMQ into "
        f"the central warehouse at {settings.state_dir}"
    )
    deadline = time.monotonic() + timeout
    async with Node(settings) as node:
        store = warehouse_of(node.sink)
        progress = Progress(sum(s.planned() for s in sources), "flowing ")
        ticker = asyncio.create_task(_tick(node, sources, progress))
        try:
            await asyncio.gather(*(_drive(s, node, deadline) for s in sources))
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
        progress.done()
        ledgers = [s.expected() for s in sources]
        return await _settle(node, store, sources, ledgers, deadline)


async def _drive(source: DemoSource, node: Node, deadline: float) -> None:
    """Run one kind; an error there is one of its problems, not the end of the demo."""
    try:
        await source.drive(node, deadline)
    except Exception as exc:
        source.problems.append(f"{type(exc).__name__}: {exc}")


async def _tick(node: Node, sources: list[DemoSource], progress: Progress) -> None:
    """Redraw the progress line: records confirmed (published or quarantined) per kind."""
    while True:
        confirmed: dict[str, int] = {}
        for metric in node.metrics.records.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    adapter = sample.labels["adapter"]
                    for s in sources:
                        if adapter in s.adapters:
                            confirmed[s.kind] = confirmed.get(s.kind, 0) + int(sample.value)
        progress.counts = confirmed
        progress.show()
        await asyncio.sleep(0.2)


async def _settle(
    node: Node, store: Warehouse, sources: list[DemoSource], ledgers: list[KindExpect], deadline: float
) -> Report:
    """Check until everything is where it belongs, or the deadline; the last check is the report."""
    quarantine = node.quarantine_store
    deadline = max(deadline, time.monotonic() + 10)  # a slow source must not leave no time to settle
    total = sum(len(ledger.final) for ledger in ledgers)
    progress = Progress(total + sum(len(ledger.bad) for ledger in ledgers), "settling")
    while True:
        late = time.monotonic() > deadline
        if late or await asyncio.to_thread(settled, store, quarantine, ledgers):
            report = await asyncio.to_thread(check, store, quarantine, node.metrics, sources, ledgers)
            if report.ok or late:
                progress.counts = {"rows": report.rows, "quarantined": report.quarantine_entries}
                progress.done()
                return report
        progress.counts = {"rows": store.count(), "quarantined": quarantine.count()}
        progress.show()
        await asyncio.sleep(0.25)
