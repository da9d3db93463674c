"""Source adapters run by the node: commit only after confirms, back off on broker loss, stop on fatal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import orjson
import pytest
from structlog.testing import capture_logs

from hub.adapters import registry
from hub.adapters.model import AdapterContext, AdapterPlugin, SourceBatch
from hub.adapters.runner import Backoff, SourceRunner
from hub.admin.client import AdminClient
from hub.admin.client import status as admin_status
from hub.errors import ConfigError, SourceUnavailable, Unroutable
from hub.node import Node
from hub.testing.fakes import FakeSink, FakeSource, FakeSourceConfig, fake_source_plugin
from hub.transport.memory import MemoryTransport
from hub.transport.topology import default_topology
from tests.helpers import TOKEN_READ, item, node_settings, until


def _source_entry(name: str, batches: list[list[dict[str, Any]]], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "fake_source",
        "schema": "ormas_registration",
        "system": f"sys-{name}",
        "office": "32.01",
        "config": {"batches": batches},
        **extra,
    }


@pytest.fixture(autouse=True)
def _fake_plugin() -> None:
    registry.register(fake_source_plugin)


async def _node(tmp_path: Path, sources: list[dict[str, Any]]) -> tuple[Node, MemoryTransport, FakeSink]:
    settings = node_settings(tmp_path, sources=sources)
    transport = MemoryTransport(default_topology(settings.broker.prefix))
    sink = FakeSink()
    node = Node(settings, transport=transport, sink=sink)
    return node, transport, sink


async def test_batches_are_committed_after_their_records_are_applied(tmp_path: Path) -> None:
    """Two batches from a source reach the sink; both commits ran, in order."""
    batches = [
        [item("ormas_registration", f"A{i}") for i in range(3)],
        [item("ormas_registration", "B0"), item("ormas_registration", "bad", kode_wilayah="99.99")],
    ]
    node, _transport, sink = await _node(tmp_path, [_source_entry("src", batches)])
    async with node:
        await until(lambda: node.runners and node.runners[0].state == "stopped")
        await until(lambda: len(sink.rows) == 4 and node.quarantine_store.count() == 1)
        source = node.runners[0]._adapter
        assert isinstance(source, FakeSource)
        assert source.committed == [0, 1]


async def test_no_commit_while_the_broker_is_down_then_recovery(tmp_path: Path) -> None:
    """With the broker unavailable nothing is committed; when it returns, the batch goes and commits."""
    node, transport, sink = await _node(tmp_path, [_source_entry("src", [[item("ormas_registration", "X")]])])
    transport_ready = transport.set_ready
    async with node:
        transport_ready(False)
        runner = node.runners[0]
        runner._backoff = Backoff(base_s=0.01, cap_s=0.05)
        await until(lambda: runner.state == "backing_off")
        source = runner._adapter
        assert isinstance(source, FakeSource) and source.committed == []
        transport_ready(True)
        await until(lambda: source.committed == [0] and len(sink.rows) == 1)


async def test_a_pause_for_a_broker_that_is_down_ends_when_it_is_back(tmp_path: Path) -> None:
    """The default back-off (5-30 s after a few failures) does not hold records once the broker returns:
    the pause ends within a poll of the transport turning ready."""
    node, transport, sink = await _node(tmp_path, [_source_entry("src", [[item("ormas_registration", "X")]])])
    async with node:
        transport.set_ready(False)
        runner = node.runners[0]
        runner._backoff = Backoff(base_s=60.0, cap_s=60.0, jitter=False)  # a minute per pause
        await until(lambda: runner.state == "backing_off")
        await asyncio.sleep(0.3)  # well into the pause
        transport.set_ready(True)
        loop = asyncio.get_running_loop()
        back_at = loop.time()
        source = runner._adapter
        assert isinstance(source, FakeSource)
        await until(lambda: source.committed == [0] and len(sink.rows) == 1, timeout=5)
        assert loop.time() - back_at < 2.0


async def test_a_broker_that_is_ready_but_refuses_keeps_the_back_off(tmp_path: Path) -> None:
    """A full queue (reject-publish) refuses while the link is up: no early wake, the pause runs out."""
    node, transport, sink = await _node(tmp_path, [_source_entry("src", [[item("ormas_registration", "X")]])])
    transport.max_queue_length = 0  # every publish is refused as by a full queue; the broker stays ready
    async with node:
        runner = node.runners[0]
        runner._backoff = Backoff(base_s=60.0, cap_s=60.0, jitter=False)
        await until(lambda: runner.state == "backing_off")
        transport.max_queue_length = 10_000
        await asyncio.sleep(1.0)  # four polls: a wake on readiness would have delivered by now
        source = runner._adapter
        assert isinstance(source, FakeSource)
        assert source.committed == [] and not sink.rows and runner.state == "backing_off"


class _Flaky:
    """A source whose system fails twice before answering."""

    def __init__(self, records: list[Any]) -> None:
        self.failures = 2
        self.records = records
        self.committed = False

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def read(self) -> AsyncIterator[Any]:
        from hub.adapters.model import SourceBatch

        if self.failures:
            self.failures -= 1
            raise SourceUnavailable("HTTP 500 from the regional API")

        async def commit() -> None:
            self.committed = True

        yield SourceBatch(self.records, commit)


async def test_flaky_source_is_retried_with_backoff(memory_node: Node) -> None:
    """SourceUnavailable twice, then data: the runner backs off and delivers."""
    from hub.model.records import SourceRecord, passthrough
    from schemas.envelope import SourceIdentity

    ident = SourceIdentity(system="sipks", office="32.01", adapter="flaky")
    data = item("ormas_registration", "F1")
    flaky = _Flaky(
        [SourceRecord("ormas_registration", data["data"], ident, source_record_id="F1", revision=1)]
    )
    runner = SourceRunner("flaky", flaky, memory_node.pipeline, passthrough, Backoff(base_s=0.01, cap_s=0.02))
    await asyncio.wait_for(runner.run(), 5)
    assert flaky.failures == 0 and flaky.committed and runner.state == "stopped"


async def test_unroutable_blocks_the_adapter_until_fixed(memory_node: Node) -> None:
    """An unroutable publish needs an operator: the runner shows failed with the error, commits nothing,
    and tries the same batch again; once the broker routes it, the batch is committed."""
    from hub.model.records import SourceRecord, passthrough
    from schemas.envelope import SourceIdentity

    transport = memory_node.transport
    assert isinstance(transport, MemoryTransport)

    async def unroutable(*_a: Any, **_k: Any) -> None:
        raise Unroutable("no queue bound")

    real_publish = transport.publish
    transport.publish = unroutable  # type: ignore[method-assign]
    ident = SourceIdentity(system="s", office="32.01", adapter="doomed")
    data = item("ormas_registration", "D1")["data"]
    flaky = _Flaky([SourceRecord("ormas_registration", data, ident, source_record_id="D1", revision=1)])
    flaky.failures = 0
    runner = SourceRunner("doomed", flaky, memory_node.pipeline, passthrough, fatal_retry_s=0.05)
    task = asyncio.create_task(runner.run())
    await until(lambda: runner.state == "failed")
    await asyncio.sleep(0.2)  # several retries, each refused
    assert "Unroutable" in (runner.last_error or "") and not flaky.committed and not task.done()
    transport.publish = real_publish  # type: ignore[method-assign]  # the operator restored the binding
    await asyncio.wait_for(task, 5)
    assert flaky.committed and runner.state == "stopped"


def test_bad_adapter_config_is_named_before_start(tmp_path: Path) -> None:
    """An unknown adapter key or kind is a ConfigError naming the source and key."""
    entry = _source_entry("src", [])
    entry["config"]["surprise"] = 1
    with pytest.raises(ConfigError, match=r"sources\[src\]\.config\.surprise"):
        Node(node_settings(tmp_path, sources=[entry]), transport=MemoryTransport(default_topology()))
    entry = _source_entry("src2", [])
    entry["kind"] = "no_such_adapter"
    with pytest.raises(ConfigError, match=r"sources\[src2\]\.kind"):
        Node(node_settings(tmp_path, sources=[entry]), transport=MemoryTransport(default_topology()))


async def test_configured_sink_gets_its_own_queue_and_records(tmp_path: Path) -> None:
    """A [[sinks]] entry bound to Jawa Barat receives those records only, via its own queue."""
    from hub.adapters import registry
    from hub.testing.fakes import fake_sink_plugin
    from hub.transport.factory import topology_for

    registry.register(fake_sink_plugin)
    settings = node_settings(
        tmp_path,
        sinks=[{"name": "jabar", "kind": "fake_sink", "bindings": ["*.*.32.#"]}],
        http={"api_keys": {"k": {"system": "s", "office": "pusat"}}},
    )
    transport = MemoryTransport(topology_for(settings))
    node = Node(settings, transport=transport)
    async with node:
        jabar = item("ormas_registration", "J1")
        aceh = item("ormas_registration", "A1", kode_wilayah="11.01.01")
        for rec in (jabar, aceh):
            records = [node.pipeline.prepare(r) for r in [_as_record(rec)]]
            await node.pipeline.publish(_as_record(rec), records[0])
        sink = node._extra_sinks[0]
        assert isinstance(sink, FakeSink)
        await until(lambda: len(sink.rows) == 1)
        assert "sink.jabar" in " ".join(q.name for q in transport.topology.queues)


def _as_record(body: dict[str, Any]) -> Any:
    from hub.model.records import SourceRecord
    from schemas.envelope import SourceIdentity

    ident = SourceIdentity(system="s", office="pusat", adapter="t")
    return SourceRecord("ormas_registration", body["data"], ident, source_record_id=body["id"], revision=1)


class _SlowToStart(_Flaky):
    """A source whose system is down for the first two start attempts."""

    def __init__(self, records: list[Any]) -> None:
        super().__init__(records)
        self.failures = 0
        self.start_failures = 2

    async def start(self) -> None:
        if self.start_failures:
            self.start_failures -= 1
            raise SourceUnavailable("the regional database is not up yet")


async def test_source_down_at_start_is_waited_for(memory_node: Node) -> None:
    """SourceUnavailable from start() is retried with back-off, then the data flows."""
    from hub.model.records import SourceRecord, passthrough
    from schemas.envelope import SourceIdentity

    ident = SourceIdentity(system="s", office="32.01", adapter="late")
    data = item("ormas_registration", "L1")["data"]
    late = _SlowToStart([SourceRecord("ormas_registration", data, ident, source_record_id="L1", revision=1)])
    runner = SourceRunner("late", late, memory_node.pipeline, passthrough, Backoff(base_s=0.01, cap_s=0.02))
    await asyncio.wait_for(runner.run(), 10)
    assert late.start_failures == 0 and late.committed and runner.state == "stopped"


# -- a source that dies is seen (issue 15) ---------------------------------------------------------------

NIK_IN_ERROR = "3201010101800099"


class DyingConfig(FakeSourceConfig):
    """``FakeSourceConfig`` plus how many instances die (in ``read``) before one serves its batches."""

    die_runs: int = 1_000_000


class DyingSource(FakeSource):
    """Instance number ``n`` raises an unexpected ``KeyError`` quoting a NIK if ``n < die_runs``."""

    instances: ClassVar[list[DyingSource]] = []

    def __init__(self, config: DyingConfig, context: AdapterContext) -> None:
        super().__init__(config, context)
        self.die = len(DyingSource.instances) < config.die_runs
        DyingSource.instances.append(self)

    async def read(self) -> AsyncIterator[SourceBatch]:
        if self.die:
            raise KeyError(f"no office for NIK {NIK_IN_ERROR}")  # a bug whose message quotes data
        async for batch in super().read():
            yield batch


dying_source_plugin = AdapterPlugin(
    name="dying_source",
    role="source",
    summary="A source whose first instances die of an unexpected error (tests)",
    config_model=DyingConfig,
    factory=lambda config, context: DyingSource(config, context),
)


@pytest.fixture
def _dying_plugin() -> None:
    DyingSource.instances.clear()
    registry.register(dying_source_plugin)


async def _http(node: Node, path: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{node.http_port}{path}", headers=headers) as resp,
    ):
        return resp.status, await resp.text()


@pytest.mark.usefixtures("_dying_plugin")
async def test_a_source_that_dies_unexpectedly_is_failed_counted_shown_and_not_ready(tmp_path: Path) -> None:
    """An adapter raising an unexpected exception: the runner shows failed with the error's type and place
    (not its message), one log line, the failure counter, ``simpul status`` and a 503 from /readyz."""
    entry = {**_source_entry("dying", []), "kind": "dying_source"}
    node, _transport, _sink = await _node(tmp_path, [entry])
    with capture_logs() as logs:
        async with node:
            runner = node.runners[0]
            runner._restart_backoff = Backoff(base_s=60, cap_s=60, jitter=False)  # stays failed here
            await until(lambda: runner.state == "failed")
            assert runner.failure_kind == "unexpected" and runner.failures == 1
            assert runner.last_error is not None and runner.last_error.startswith("KeyError at ")
            assert "test_source_runner.py" in runner.last_error and NIK_IN_ERROR not in runner.last_error
            assert node.readiness()["source:dying"] is False

            status, body = await _http(node, "/readyz")
            assert status == 503
            assert orjson.loads(body)["checks"]["source:dying"] is False
            status, metrics = await _http(node, "/metrics")
            assert 'simpul_source_failures_total{adapter="dying",kind="unexpected"} 1.0' in metrics
            assert 'simpul_adapter_up{adapter="dying"} 0.0' in metrics
            status, body = await _http(node, "/v1/admin/status", TOKEN_READ)
            view = next(a for a in orjson.loads(body)["adapters"] if a["name"] == "dying")
            assert (view["state"], view["failure_kind"], view["failures"]) == ("failed", "unexpected", 1)
            async with AdminClient(f"http://127.0.0.1:{node.http_port}", TOKEN_READ) as client:
                shown = await admin_status(client)
            assert "FAILED source dying (unexpected, 1 failure(s)): KeyError at " in shown
            assert "source:dying DOWN" in shown and NIK_IN_ERROR not in shown
    failed = [e for e in logs if e["event"] == "source_failed"]
    assert len(failed) == 1, "logged once"
    assert failed[0]["adapter"] == "dying" and failed[0]["kind"] == "unexpected"
    assert failed[0]["error"] == "KeyError" and "restart_in_s" in failed[0]
    assert NIK_IN_ERROR not in repr(logs)


@pytest.mark.usefixtures("_dying_plugin")
async def test_a_dead_source_is_restarted_after_a_backoff_and_recovers(tmp_path: Path) -> None:
    """The first instance dies; after the back-off a fresh instance reads, delivers and commits; the node
    is ready again and the counter keeps the one failure."""
    entry = {
        **_source_entry("phoenix", [[item("ormas_registration", "R1")]]),
        "kind": "dying_source",
        "config": {"batches": [[item("ormas_registration", "R1")]], "die_runs": 1},
    }
    node, _transport, sink = await _node(tmp_path, [entry])
    async with node:
        runner = node.runners[0]
        runner._restart_backoff = Backoff(base_s=0.3, cap_s=0.3, jitter=False)
        await until(lambda: runner.state == "failed")
        assert not node.readiness()["source:phoenix"]
        await until(lambda: runner.state == "stopped" and len(sink.rows) == 1)
        assert len(DyingSource.instances) == 2 and DyingSource.instances[0].stopped  # a fresh instance
        assert DyingSource.instances[1].committed == [0]
        assert runner.failures == 1 and runner.failure_kind is None
        assert node.readiness()["source:phoenix"]
        failures = node.metrics.source_failures.labels(adapter="phoenix", kind="unexpected")
        assert failures._value.get() == 1


async def test_a_retriable_error_escaping_the_adapter_restarts_it(memory_node: Node) -> None:
    """A broker error from ``commit`` ends the run as ``retriable``: restarted with the error's hint as a
    floor under the capped back-off; the batch is re-read and committed by the next run."""
    from hub.errors import BrokerUnavailable
    from hub.model.records import SourceRecord, passthrough
    from schemas.envelope import SourceIdentity

    ident = SourceIdentity(system="s", office="32.01", adapter="hiccup")
    data = item("ormas_registration", "H1")["data"]
    record = SourceRecord("ormas_registration", data, ident, source_record_id="H1", revision=1)
    commits: list[str] = []

    class Hiccup:
        async def start(self) -> None:
            return None

        async def stop(self) -> None:
            return None

        async def read(self) -> AsyncIterator[SourceBatch]:
            async def commit() -> None:
                if not commits:
                    commits.append("refused")
                    raise BrokerUnavailable("cursor store unreachable")
                commits.append("ok")

            yield SourceBatch([record], commit)

    runner = SourceRunner(
        "hiccup",
        Hiccup(),
        memory_node.pipeline,
        passthrough,
        metrics=memory_node.metrics,
        restart_backoff=Backoff(base_s=0.01, cap_s=0.05),
    )
    with capture_logs() as logs:
        await asyncio.wait_for(runner.run(), 5)
    assert commits == ["refused", "ok"] and runner.state == "stopped" and runner.failures == 1
    (failed,) = [e for e in logs if e["event"] == "source_failed"]
    assert failed["kind"] == "retriable" and failed["restart_in_s"] >= 0.05  # the hint (1 s) capped at 0.05
    assert memory_node.metrics.source_failures.labels(adapter="hiccup", kind="retriable")._value.get() == 1


async def test_skipped_rows_never_block_the_commit(tmp_path: Path) -> None:
    """Rows a mapping's skip rule drops are done: a batch of only skipped rows is committed too, nothing
    is quarantined, and the rows are counted per adapter."""
    from schemas.payloads.ormas_registration import EXAMPLE

    mapping = {
        "version": "skip-test/1",
        "fields": {key: key for key in EXAMPLE},
        "skip": [{"reason": "test row", "when": {"path": "nama", "matches": "^test"}}],
    }
    batches = [
        [item("ormas_registration", "A0"), item("ormas_registration", "T1", nama="TEST abaikan")],
        [item("ormas_registration", "T2", nama="Test lagi")],
    ]
    node, _transport, sink = await _node(tmp_path, [_source_entry("src", batches, mapping=mapping)])
    async with node:
        await until(lambda: node.runners and node.runners[0].state == "stopped")
        source = node.runners[0]._adapter
        assert isinstance(source, FakeSource)
        await until(lambda: source.committed == [0, 1] and len(sink.rows) == 1)
        assert node.quarantine_store.count() == 0
        assert 'simpul_records_skipped_total{adapter="src"} 2.0' in node.metrics.render().decode()


async def test_content_revisions_are_kept_in_the_source_state(tmp_path: Path) -> None:
    """revision = { from_content = true }: the same content read again keeps its revision (a duplicate),
    changed content gets a higher one (stored, no conflict); the revisions are in the source state."""
    from hub.model import codec
    from schemas.payloads.ormas_registration import EXAMPLE

    mapping = {
        "version": "content/1",
        "id": "nomor_registrasi",
        "revision": {"from_content": True},
        "fields": {key: key for key in EXAMPLE},
    }
    batches = [
        [item("ormas_registration", "x", nomor_registrasi="A/1")],
        [item("ormas_registration", "x", nomor_registrasi="A/1")],
        [item("ormas_registration", "x", nomor_registrasi="A/1", status="dibekukan")],
    ]
    node, transport, sink = await _node(tmp_path, [_source_entry("src", batches, mapping=mapping)])
    async with node:
        source = node.runners[0]._adapter
        assert isinstance(source, FakeSource)
        await until(lambda: source.committed == [0, 1, 2])
        await until(lambda: any(row[2].payload["status"] == "dibekukan" for row in sink.rows.values()))
        sent = [
            env["revision"]
            for m in transport.published
            if m.exchange.endswith(".ingest")
            for env in codec.split_batch(m.body)
        ]
        assert len(sent) == 3 and sent[0] == sent[1] < sent[2]
        assert node.quarantine_store.count() == 0  # no revision conflict
        keys = node.source_state._conn.execute(
            "SELECT value FROM cursors WHERE adapter = 'src' AND key LIKE 'content_revision:%'"
        ).fetchall()
        assert [int(v.split()[1]) for (v,) in keys] == [sent[2]]
