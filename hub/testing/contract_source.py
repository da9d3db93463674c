"""The source half of the contract kit that runs a real node: ``Node`` on ``MemoryTransport`` into a
``FakeSink``, then a fresh adapter instance reading with the committed state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from hub.adapters import registry
from hub.adapters.model import AdapterContext, AdapterPlugin, SourceAdapter
from hub.adapters.state import StateStore
from hub.metrics import Metrics
from hub.model.records import Mapper
from hub.node import Node
from hub.settings import load_settings
from hub.testing.contract_support import Violations, collect, until
from hub.testing.fakes import FakeSink, MemoryTransport
from hub.transport.factory import topology_for
from schemas.envelope import SourceIdentity

SOURCE_NAME = "contract-source"


@dataclass(frozen=True)
class Expected:
    """What a node run must show: records the source offers, rows in the sink, quarantined records, and
    distinct outcomes (rows + quarantined) after which the run has settled."""

    total: int
    rows: int
    quarantined: int
    outcomes: int


def source_context(
    schema: str, identity: SourceIdentity, state: StateStore, folder: Path, mapper: Mapper
) -> AdapterContext:
    """The context the kit hands a source: its own folder and metrics, the given state store."""
    folder.mkdir(parents=True, exist_ok=True)
    return AdapterContext(SOURCE_NAME, schema, identity, state, folder, Metrics(), mapper)


async def through_node(
    plugin: AdapterPlugin,
    config: dict[str, Any],
    schema: str,
    system: str,
    office: str,
    mapping: dict[str, Any] | None,
    state_dir: Path,
    expect: Expected,
    timeout_s: float,
    out: Violations,
) -> tuple[int, int]:
    """Run the source in a Node on MemoryTransport into a FakeSink; (applied rows, quarantined)."""
    registry.register(plugin)
    entry = {"name": SOURCE_NAME, "kind": plugin.name, "schema": schema, "system": system, "office": office,
             "config": config, "mapping": mapping}  # fmt: skip
    settings = load_settings(
        None, dev_mode=True, node="contract", state_dir=str(state_dir), http={"port": 0}, sources=[entry]
    )
    sink = FakeSink()
    node = Node(settings, transport=MemoryTransport(topology_for(settings)), sink=sink)
    async with node:
        runner = node.runners[0]

        def settled() -> bool:
            # Every record committed by the source and accounted for: in the sink or in quarantine.
            landed = len(sink.rows) + node.quarantine_store.count() >= expect.outcomes
            return runner.state == "failed" or (landed and runner.records_offered >= expect.total)

        await until(settled, timeout_s)
        out.check(runner.state != "failed", f"the source failed in the node: {runner.last_error}")
        quarantined = node.quarantine_store.count()
    out.check(
        len(sink.rows) == expect.rows,
        f"{len(sink.rows)} record(s) reached the sink, expected {expect.rows}",
    )
    out.check(
        quarantined == expect.quarantined,
        f"{quarantined} record(s) quarantined, expected {expect.quarantined}",
    )
    for _revision, _digest, env in sink.rows.values():
        out.check(
            env.schema_name == schema and env.source.system == system, "an envelope lost its schema/system"
        )
    return len(sink.rows), quarantined


async def reread_count(
    plugin: AdapterPlugin,
    parsed: Any,
    schema: str,
    identity: SourceIdentity,
    mapper: Mapper,
    state_dir: Path,
    timeout_s: float,
    idle_s: float,
) -> int:
    """Records a fresh instance emits with the node's committed state."""
    state = StateStore(state_dir / "sources.sqlite3")
    try:
        context = source_context(schema, identity, state, state_dir / "adapters" / SOURCE_NAME, mapper)
        adapter = cast(SourceAdapter, plugin.factory(parsed, context))
        await asyncio.wait_for(adapter.start(), timeout_s)
        batches, _ = await collect(adapter, None, timeout_s, idle_s)
        await asyncio.wait_for(adapter.stop(), timeout_s)
    finally:
        state.close()
    return sum(len(b.records) for b in batches)
