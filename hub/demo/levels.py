"""Three levels: kab/kota nodes forward to their province, the province to pusat, over RabbitMQ shovels.

Each level is its own node with its own broker: a vhost of the local RabbitMQ in ``simpul demo`` (levels
part), separate RabbitMQ nodes in the link-cut test. The shovel from a node's ``uplink`` queue to its
parent's ingest exchange is the one ``simpul topology render`` writes for the node's settings, so the demo
and a deployment use one definition of the link.

The plan per kab/kota office: ormas registrations and a submitted report (forwarded and applied at pusat),
a draft report and a SANGAT_RAHASIA early warning (held at kab/kota), a RAHASIA conflict report (forwarded by
kab/kota, held by the province, whose rules hold RAHASIA too). The province sends its own report. Halfway,
the link province -> pusat is cut; records wait in the province's broker and arrive when it is restored.
The check is record by record against the plan, on pusat's warehouse and the held queues.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from hub.demo.check import Warehouse, warehouse_of
from hub.demo.levels_broker import drop_vhosts, fresh_vhosts, put_shovel, queue_depth, shovel_switch
from hub.demo.levels_plan import LevelNode, Planned, node_settings, plan, single_broker_layout
from hub.logging import configure_logging
from hub.node import Node
from hub.settings import Settings
from schemas.envelope import make_record_key


@dataclass
class LevelsReport:
    """What the check found."""

    planned_pusat: int = 0
    applied: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    wrong_lineage: list[str] = field(default_factory=list)
    duplicates_applied: int = 0
    redeliveries: int = 0
    held: dict[str, tuple[int, int]] = field(default_factory=dict)  # node -> (expected, found)
    waited_in_parent_broker: int = 0
    pusat_rows_while_cut: int = 0
    sample_trail: str = ""
    cut_s: float = 0.0
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            not self.missing
            and not self.unexpected
            and not self.wrong_lineage
            and self.duplicates_applied == 0
            and all(expected == found for expected, found in self.held.values())
        )


async def push(http: aiohttp.ClientSession, node: Node, key: str, records: list[Planned]) -> None:
    """POST the records to the node's HTTP ingest by schema, 200 at a time; every one must be accepted."""
    base = f"http://127.0.0.1:{node.http_port}"
    by_schema: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        body: dict[str, Any] = {"id": r.rid, "revision": 1, "data": r.data}
        if r.classification:
            body["classification"] = r.classification
        by_schema.setdefault(r.schema, []).append(body)
    for schema, items in by_schema.items():
        for start in range(0, len(items), 200):
            chunk = items[start : start + 200]
            async with http.post(
                f"{base}/v1/records/{schema}", json=chunk, headers={"X-API-Key": key}
            ) as resp:
                answer = await resp.json()
                if resp.status != 202 or answer.get("quarantined"):
                    raise RuntimeError(f"{schema} at {node.settings.node}: HTTP {resp.status}: {answer}")


def check(report: LevelsReport, planned: list[Planned], store: Warehouse, held: dict[str, int]) -> None:
    """Fill ``report`` from pusat's warehouse and the held counts, against ``planned``."""
    wanted = {make_record_key(p.schema, p.system, p.rid): p for p in planned if p.ends == "pusat"}
    report.planned_pusat = len(wanted)
    report.missing, report.wrong_lineage = [], []
    for key, p in wanted.items():
        row = store.get(key)
        if row is None:
            report.missing.append(f"{p.node}/{p.schema}/{p.rid}")
            continue
        lineage = row["envelope"].get("lineage", [])
        hops = tuple(h["node"] for h in lineage)
        if len(hops) > len(report.sample_trail.split(" -> ")):
            trail = [f"{h['node']} ({h['level']}, {h['status']})" for h in lineage]
            report.sample_trail = f"{p.schema} {p.rid}: " + " -> ".join([*trail, "pusat"])
        if hops != p.path:
            report.wrong_lineage.append(f"{p.node}/{p.rid}: {hops}")
    report.applied = store.count()
    report.unexpected = [f"{store.count() - len(wanted)} rows"] if store.count() > len(wanted) else []
    counts = store.delivery_counts()
    report.redeliveries = sum(counts.values()) - len(counts)
    # One revision per record in this plan: an applied key beyond one per row would be a second apply.
    report.duplicates_applied = max(0, len(store.applied_keys()) - report.applied)
    expected_held: dict[str, int] = {}
    for p in planned:
        if p.ends != "pusat":
            expected_held[p.ends] = expected_held.get(p.ends, 0) + 1
    report.held = {name: (expected_held.get(name, 0), held.get(name, 0)) for name in held}


async def run_levels(
    nodes: list[LevelNode],
    state: Path,
    *,
    per_office: int,
    timeout: float,
    cut: Callable[[dict[str, Settings]], Awaitable[None]],
    restore: Callable[[dict[str, Settings]], Awaitable[None]],
    parent_uris: dict[str, str] | None = None,
    say: Callable[[str], None] = print,
) -> LevelsReport:
    """Start every node, link each to its parent, send the plan with the link cut (by ``cut``) for the
    second half, restore it, and check. ``parent_uris`` (node name -> URI) says how a node's shovel reaches
    its parent when not directly (through a faulty link in the tests)."""
    started = time.monotonic()
    report = LevelsReport()
    uris = parent_uris or {}
    settings = {n.name: node_settings(n, nodes, state, uris.get(n.name)) for n in nodes}
    running: dict[str, Node] = {}
    planned = plan(nodes, per_office)
    try:
        for n in sorted(nodes, key=lambda n: ["pusat", "provinsi", "kabkota", "kecamatan"].index(n.level)):
            running[n.name] = await Node(settings[n.name]).__aenter__()
        for n in nodes:
            if n.parent:
                await put_shovel(n, settings[n.name])
        say(f"levels: {', '.join(f'{n.name} ({n.level})' for n in nodes)}; shovels up")
        half = len(planned) // 2
        async with aiohttp.ClientSession() as http:
            for part, records in enumerate((planned[:half], planned[half:])):
                if part == 1:
                    # The first half has reached pusat (or 20 s passed) before the link goes down.
                    first_half = sum(1 for r in planned[:half] if r.ends == "pusat")
                    pusat = _warehouse_of(running, nodes)
                    for _ in range(100):
                        if pusat.count() >= first_half:
                            break
                        await asyncio.sleep(0.2)
                    say(f"first half at pusat: {pusat.count()} rows")
                    await cut(settings)
                    cut_at = time.monotonic()
                    say("link provinsi -> pusat cut; sending the second half")
                for name, node in running.items():
                    mine = [r for r in records if r.node == name]
                    if mine:
                        await push(http, node, f"key-{name}", mine)
            province = next(n for n in nodes if n.level == "provinsi")
            report.waited_in_parent_broker = await _wait_for_backlog(province, timeout=20)
            say(f"while cut: {report.waited_in_parent_broker} messages wait in {province.name}'s broker")
            report.pusat_rows_while_cut = _warehouse_of(running, nodes).count()
            await restore(settings)
            report.cut_s = time.monotonic() - cut_at
            say("link restored")
        pusat = _warehouse_of(running, nodes)
        deadline = time.monotonic() + timeout
        while True:
            held = {
                n.name: await queue_depth(n, running[n.name].topology.held_queue) for n in nodes if n.parent
            }
            check(report, planned, pusat, held)
            if report.ok or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        for name in reversed(list(running)):
            await running[name].__aexit__(None, None, None)
    report.elapsed_s = time.monotonic() - started
    return report


def _warehouse_of(running: dict[str, Node], nodes: list[LevelNode]) -> Warehouse:
    """Pusat's warehouse (the store behind its node's sink)."""
    return warehouse_of(running[next(n.name for n in nodes if n.level == "pusat")].sink)


async def _wait_for_backlog(node: LevelNode, *, timeout: float) -> int:
    """The messages waiting in ``node``'s uplink queue once they show (management stats lag ~5 s)."""
    deadline = time.monotonic() + timeout
    depth = 0
    while time.monotonic() < deadline:
        depth = await queue_depth(node, "simpul.uplink")
        if depth:
            return depth
        await asyncio.sleep(0.5)
    return depth


async def run_levels_demo(
    *,
    broker_url: str,
    management_url: str,
    per_office: int,
    timeout: float,
    prefix: str = "simpul-levels",
    keep: bool = False,
) -> int:
    """``simpul demo --part levels``: the three levels as vhosts of the local broker; prints the summary.
    The state folder and the vhosts are removed at the end unless ``keep``."""
    configure_logging("error", "auto")
    nodes = single_broker_layout(broker_url, management_url, prefix)
    await fresh_vhosts(nodes)
    cut, restore = shovel_switch(next(n for n in nodes if n.level == "provinsi"))
    print("Simpul demo, levels: kab/kota -> provinsi -> pusat, each level its own vhost, joined by shovels")
    state = Path(tempfile.mkdtemp(prefix="simpul-levels-"))
    try:
        report = await run_levels(
            nodes, state, per_office=per_office, timeout=timeout, cut=cut, restore=restore
        )
    finally:
        if not keep:
            shutil.rmtree(state, ignore_errors=True)
            await drop_vhosts(nodes)
    names = ", ".join(f"'{n.vhost}'" for n in nodes)
    print(  # before the summary, whose last line is the verdict
        f"kept: the state folder {state} and the vhosts {names}"
        if keep
        else f"removed: the state folder {state} and the vhosts {names} (--keep keeps them)"
    )
    print(render_report(report, nodes))
    return 0 if report.ok else 1


def render_report(report: LevelsReport, nodes: list[LevelNode]) -> str:
    """The levels summary as printed by the demo and the link-cut test."""
    held = {name: f"{expected}/{found}" for name, (expected, found) in report.held.items()}
    lineage = "every row carries the hops of its path" if not report.wrong_lineage else "WRONG"
    lines = [
        f"  {'node':<14}{'level':<10}{'held here (expected/found)':>28}",
        *(f"  {n.name:<14}{n.level:<10}{held.get(n.name, '0/0'):>28}" for n in nodes if n.parent),
        f"  pusat warehouse   {report.applied:,} rows; expected {report.planned_pusat:,}",
        f"  lineage           {lineage}",
        f"  link cut          {report.cut_s:.1f} s; {report.waited_in_parent_broker} AMQP messages waited in "
        f"the provinsi broker; pusat held {report.pusat_rows_while_cut:,} rows until the link came back",
        f"  a trail           {report.sample_trail}",
        f"  redeliveries      {report.redeliveries} recognised at pusat, duplicates applied "
        f"{report.duplicates_applied}",
        f"  missing/unexpected/wrong lineage  {len(report.missing)}/{len(report.unexpected)}/"
        f"{len(report.wrong_lineage)}",
        f"  elapsed           {report.elapsed_s:.1f} s",
    ]
    for label, items in (
        ("missing", report.missing),
        ("unexpected", report.unexpected),
        ("wrong lineage", report.wrong_lineage),
    ):
        if items:
            lines.append(f"  {label}: {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}")
    verdict = (
        "PASS: every record reached pusat once with its lineage, or is held where its level's rules hold it"
        if report.ok
        else "FAIL"
    )
    return "\n".join([*lines, verdict])
