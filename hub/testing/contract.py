"""The adapter contract test kit: what every source and sink must do, as functions a team calls from its
own tests (``pytest`` with ``asyncio_mode = "auto"``)::

    from hub.testing.contract import check_source_contract, check_sink_contract, example_envelopes

    async def test_contract(tmp_path):
        await check_source_contract(PLUGIN, {"path": str(sample)}, schema="ormas_registration",
                                    expect_records=3, mapping=MAPPING)

``check_source_contract``: the config model forbids unknown keys and describes every field; the factory
builds; ``start``/``read``/``stop`` work; every record carries the schema and the source identity and,
through the mapping (or as given), an id and a revision; the adapter writes no state while being read (it
must commit only from ``SourceBatch.commit``, which the hub calls after the broker confirmed); the records
pass through a real ``hub.node.Node`` on ``MemoryTransport`` into a ``FakeSink``; and, for cursor-based
sources, reading again after those commits emits nothing. ``check_sink_contract``: results come in
order, one per envelope; redelivery is ``duplicate``; a newer revision is ``applied`` and the older one is
then ``stale``; the same revision with other content is ``conflict``; and (``durable=True``) a reopened
sink still knows what it stored. Each returns a small report; each raises ``AssertionError`` listing
every broken rule. Registering the plugin (``hub.adapters.registry.register``) is done for you.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from hub.adapters.model import AdapterContext, AdapterPlugin, SinkAdapter, SourceAdapter
from hub.adapters.state import StateStore
from hub.errors import MappingError
from hub.metrics import Metrics
from hub.model.records import Mapper, SourceRecord, passthrough
from hub.testing.contract_source import SOURCE_NAME, Expected, reread_count, source_context, through_node
from hub.testing.contract_support import (
    SpyStateStore,
    Violations,
    bump_revision,
    collect,
    config_model_problems,
    example_envelopes,
    flip_op,
    validate_config,
)
from hub.testing.fakes import FakeSink
from schemas.envelope import Envelope, SourceIdentity

__all__ = ["SinkReport", "SourceReport", "check_config_model", "check_sink_contract", "check_source_contract",
           "example_envelopes"]  # fmt: skip


@dataclass(frozen=True)
class SourceReport:
    """What the source contract run saw."""

    records_read: int
    batches: int
    applied: int
    quarantined: int
    reread: int | None


@dataclass(frozen=True)
class SinkReport:
    """Statuses per round of the sink contract run, e.g. ``{"redelivery": ["duplicate", ...]}``."""

    rounds: dict[str, list[str]]


def check_config_model(plugin: AdapterPlugin) -> None:
    """Fail if the plugin's config model accepts unknown keys or has a field without a description."""
    out = Violations(f"adapter {plugin.name!r}")
    for problem in config_model_problems(plugin.config_model):
        out.check(False, problem)
    out.raise_if_any()


async def check_source_contract(
    plugin: AdapterPlugin,
    config: dict[str, Any],
    *,
    schema: str,
    expect_records: int | None = None,
    mapping: dict[str, Any] | None = None,
    system: str = "contract-test",
    office: str = "pusat",
    cursor_based: bool = True,
    expect_quarantined: int = 0,
    timeout_s: float = 10.0,
    idle_s: float = 0.5,
) -> SourceReport:
    """Check a source adapter end to end (see the module docstring); ``AssertionError`` on any breach."""
    out = Violations(f"source adapter {plugin.name!r}")
    out.check(plugin.role == "source", f"role is {plugin.role!r}, not 'source'")
    for problem in config_model_problems(plugin.config_model):
        out.check(False, problem)
    parsed = validate_config(plugin.config_model, config, out)
    out.raise_if_any()
    mapper: Mapper = passthrough
    if mapping is not None:
        from hub.mapping import compile_mapping

        mapper = compile_mapping(mapping)
    identity = SourceIdentity(system=system, office=office, adapter=SOURCE_NAME)
    with tempfile.TemporaryDirectory(prefix="simpul-contract-") as tmp:
        work = Path(tmp)
        spy = SpyStateStore(work / "direct.sqlite3")
        context = source_context(schema, identity, spy, work / "direct", mapper)
        try:
            adapter = cast(SourceAdapter, plugin.factory(parsed, context))
            await asyncio.wait_for(adapter.start(), timeout_s)
            batches, _ended = await collect(adapter, expect_records, timeout_s, idle_s)
            await asyncio.wait_for(adapter.stop(), timeout_s)
        finally:
            spy.close()
        records = [r for b in batches for r in b.records]
        out.check(spy.writes == 0, f"wrote source state {spy.writes} time(s) while being read (commit only)")
        if expect_records is not None:
            out.check(
                len(records) == expect_records, f"read {len(records)} record(s), expected {expect_records}"
            )
        ids, unmappable = _check_records(records, schema, identity, mapper, out)
        out.raise_if_any()
        rows = len(ids) - max(0, expect_quarantined - unmappable)  # assumes quarantined ids are distinct
        expect = Expected(len(records), rows, expect_quarantined, len(ids) + unmappable)
        node_dir = work / "node"
        applied, quarantined = await through_node(
            plugin, config, schema, system, office, mapping, node_dir, expect, timeout_s, out
        )
        out.raise_if_any()
        reread = None
        if cursor_based:
            reread = await reread_count(
                plugin, parsed, schema, identity, mapper, work / "node", timeout_s, idle_s
            )
            out.check(reread == 0, f"emitted {reread} record(s) again after they were committed")
    out.raise_if_any()
    return SourceReport(len(records), len(batches), applied, quarantined, reread)


def _check_records(
    records: list[SourceRecord], schema: str, identity: SourceIdentity, mapper: Mapper, out: Violations
) -> tuple[set[str], int]:
    """Every record is a SourceRecord of the schema and identity, and maps to an id and a revision.
    Returns the distinct ids and how many records failed their mapping otherwise (quarantined later)."""
    ids: set[str] = set()
    unmappable = 0
    for n, record in enumerate(records, start=1):
        if not isinstance(record, SourceRecord):
            out.check(False, f"record {n} is a {type(record).__name__}, not a SourceRecord")
            continue
        out.check(record.schema == schema, f"record {n} has schema {record.schema!r}, not {schema!r}")
        out.check(record.source == identity, f"record {n} does not carry the context's source identity")
        try:
            mapped = mapper(record)
        except MappingError as exc:
            missing = [i.loc for i in exc.issues if i.loc.lstrip("$") in ("id", "revision")]
            out.check(not missing, f"record {n} has no {' or '.join(missing)} (set it, or map it)")
            unmappable += 1
            continue
        ids.add(mapped.source_record_id)
    return ids, unmappable


async def check_sink_contract(
    plugin: AdapterPlugin,
    config: dict[str, Any],
    envelopes: Sequence[Envelope],
    *,
    durable: bool = True,
    check_conflict: bool = True,
    timeout_s: float = 10.0,
) -> SinkReport:
    """Check a sink adapter's revision rules against the reference (``hub.testing.fakes.FakeSink``)."""
    out = Violations(f"sink adapter {plugin.name!r}")
    out.check(plugin.role == "sink", f"role is {plugin.role!r}, not 'sink'")
    out.check(len(envelopes) > 0, "give at least one envelope (see example_envelopes)")
    for problem in config_model_problems(plugin.config_model):
        out.check(False, problem)
    parsed = validate_config(plugin.config_model, config, out)
    out.raise_if_any()
    rounds: dict[str, list[str]] = {}
    reference = FakeSink()
    with tempfile.TemporaryDirectory(prefix="simpul-contract-") as tmp:
        work = Path(tmp)
        state = StateStore(work / "state.sqlite3")
        identity = SourceIdentity(system="contract", office="pusat", adapter="contract-sink")
        context = AdapterContext("contract-sink", "*", identity, state, work / "sink", Metrics())
        context.state_dir.mkdir(parents=True, exist_ok=True)

        async def open_sink() -> SinkAdapter:
            sink = cast(SinkAdapter, plugin.factory(parsed, context))
            await asyncio.wait_for(sink.start(), timeout_s)
            return sink

        async def round_(name: str, batch: Sequence[Envelope], sink: SinkAdapter) -> None:
            got = list(await asyncio.wait_for(sink.write(batch), timeout_s))
            want = [r.status for r in await reference.write(batch)]
            rounds[name] = [getattr(r, "status", "?") for r in got]
            out.check(len(got) == len(batch), f"{name}: {len(got)} result(s) for {len(batch)} envelope(s)")
            for i, (env, result) in enumerate(zip(batch, got, strict=False)):
                out.check(
                    result.idempotency_key == env.idempotency_key, f"{name}: result {i} is out of order"
                )
            out.check(rounds[name] == want, f"{name}: statuses {rounds[name]}, expected {want}")

        newest = {e.record_key: e for e in sorted(envelopes, key=lambda e: e.revision)}
        newer = [bump_revision(e) for e in newest.values()]
        sink = await open_sink()
        try:
            await round_("first write", envelopes, sink)
            await round_("redelivery", envelopes, sink)
            await round_("newer revision", newer, sink)
            await round_("older revision after newer", list(newest.values()), sink)
            if check_conflict:
                await round_("same revision, other content", [flip_op(e) for e in newer], sink)
            if durable:
                await sink.close()
                sink = await open_sink()
                await round_("redelivery after reopening", newer, sink)
        finally:
            await sink.close()
            state.close()
    out.raise_if_any()
    return SinkReport(rounds)
