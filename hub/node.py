"""One Simpul node: transport, pipeline, HTTP face, quarantine filing and the warehouse sink, in order.

``Node(settings)`` validates and builds, and opens nothing: no file, no connection, no task. ``start``
opens each part in order and pushes that part's close onto an ``AsyncExitStack`` as it goes, so a start
that fails half-way closes what it opened, in reverse, and re-raises. ``stop`` unwinds the same stack,
which gives the shutdown order: stop intake (sources, then HTTP), drain records awaiting confirms, stop
consumers after their current group, close the sinks and stores, close the transport.

The node keeps the order and what it opened; its parts, in the layer just below it, do one job each:
``hub.node_consumers`` which worker consumes which queue (and the queues' labels), ``hub.node_http`` the
HTTP application it serves (and its TLS context), ``hub.node_sources`` the source runners (a mixin).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from typing import Any, TypeVar

import structlog
from aiohttp import web

from hub.adapters.build import build_sink, check_adapters, validate_config
from hub.adapters.model import SinkAdapter
from hub.adapters.runner import SourceRunner
from hub.adapters.state import StateStore
from hub.admin.audit import AdminAudit
from hub.admin.observer import NodeObserver, ObserverInputs
from hub.admin.redrive import Redriver
from hub.consume.sink import Sink
from hub.feeds.face import FeedFace
from hub.feeds.replay_jobs import ReplayJobs, amqp_replay_transports
from hub.http.server import JsonErrorRunner
from hub.ingest.pipeline import Pipeline
from hub.ingest.publisher import BatchingPublisher
from hub.ingest.validation import Validator
from hub.metrics import Metrics
from hub.model.records import Mapper
from hub.node_consumers import NodeConsumers, queue_roles_for, start_consumers
from hub.node_http import node_app, tls_context
from hub.node_sources import NodeSources
from hub.quarantine.filer import Quarantiner
from hub.quarantine.sealing import Sealer
from hub.quarantine.store import QuarantineStore
from hub.settings import Settings, SinkEntry
from hub.transport.base import Transport
from hub.transport.factory import amqp_transport_for, topology_for
from hub.trust import build_signer, build_verifier
from hub.trust.evidence import EvidenceLog
from schemas.pii import NikTokenizer
from schemas.regions import default_index

log = structlog.get_logger(__name__)

T = TypeVar("T")

WAREHOUSE_SINK = "sqlite_warehouse"
"""The instance name of the default warehouse sink (``[sink]``), built by the ``sqlite`` adapter plugin."""


class Node(NodeSources):
    """A running node. ``start`` then ``stop``; or ``async with Node(settings):``. A node starts once:
    ``stop`` (or a ``start`` that failed) closes its transport, stores and sinks, a given sink included,
    so starting the same object again raises ``RuntimeError``; build a new ``Node`` instead.

    The stores (``quarantine_store``, ``source_state``, ``audit``, ``evidence``) and what is built on
    them (``pipeline``, ``redriver``) exist from ``start`` on; asking for them before raises
    ``RuntimeError``.
    """

    def __init__(
        self, settings: Settings, *, transport: Transport | None = None, sink: Sink | None = None
    ) -> None:
        self.settings = settings
        self.metrics = Metrics()
        # Every adapter config is valid before anything starts, the default warehouse sink's too.
        check_adapters(settings.sources, settings.sinks)
        self._warehouse = self._warehouse_entry() if sink is None and settings.sink.enabled else None
        if self._warehouse is not None:
            validate_config(self._warehouse)
        self._tls = tls_context(settings.http.tls_cert, settings.http.tls_key)
        if transport is None:
            transport = amqp_transport_for(settings, topology_for(settings))
        self.transport = transport
        self.topology = transport.topology
        self._sink = sink
        self._parts = NodeConsumers(transport)
        self._stack: contextlib.AsyncExitStack | None = None
        self._started_once = False
        self.http_port: int | None = None
        self._http_runner: web.AppRunner | None = None
        self.runners: list[SourceRunner] = []
        self._runner_tasks: dict[str, asyncio.Task[None]] = {}
        self._mappers: dict[str, Mapper] = {}
        self._extra_sinks: list[Sink] = []
        # Opened by start():
        self._quarantine_store: QuarantineStore | None = None
        self._source_state: StateStore | None = None
        self._audit: AdminAudit | None = None
        self.evidence: EvidenceLog | None = None
        self._pipeline: Pipeline | None = None
        self._redriver: Redriver | None = None
        self.feeds = FeedFace(settings)  # ministry feeds and completeness over the warehouse (opens lazily)
        self.replays = (  # replays started from the admin API
            ReplayJobs(amqp_replay_transports(settings), settings.broker.prefix)
            if settings.feed.stream
            else None
        )
        self._tokenizer = NikTokenizer(settings.key_bytes("token_key"))
        self._sealer = Sealer(
            hashlib.sha256(b"simpul-quarantine:" + settings.key_bytes("quarantine_key")).digest()
        )
        b = settings.batch
        self.publisher = BatchingPublisher(
            self.transport,
            self.topology.ingest_exchange,
            self.metrics,
            max_records=b.max_records,
            max_bytes=b.max_bytes,
            linger_s=b.linger_ms / 1000,
            max_pending=b.max_pending_records,
        )
        self.quarantiner = Quarantiner(
            self.transport, self.topology.quarantine_exchange, self._sealer, settings.node, self.metrics
        )
        self.signer = build_signer(settings)  # records are signed once, by the first hub that builds them
        self.verifier = build_verifier(settings, self.signer)
        self.observer = NodeObserver(
            ObserverInputs(
                node=settings.node,
                level=settings.level,
                metrics=self.metrics,
                transport=self.transport,
                readiness=self.readiness,
                quarantine=lambda: self.quarantine_store,
                runners=lambda: self.runners,
                queue_roles=self.queue_roles,
                refresh_extra=self.feeds.refresh_metrics,
            )
        )

    # -- what start() opens ------------------------------------------------------------------------------

    @property
    def sink(self) -> Sink | None:
        return self._sink

    @property
    def quarantine_store(self) -> QuarantineStore:
        return _opened(self._quarantine_store, "quarantine_store")

    @property
    def source_state(self) -> StateStore:
        return _opened(self._source_state, "source_state")

    @property
    def audit(self) -> AdminAudit:
        return _opened(self._audit, "audit")

    @property
    def pipeline(self) -> Pipeline:
        return _opened(self._pipeline, "pipeline")

    @property
    def redriver(self) -> Redriver:
        return _opened(self._redriver, "redriver")

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, declare topology, open the stores and sinks, start consumers, open the HTTP port, start
        the sources. If any step raises, what the earlier steps opened is closed (in reverse) first."""
        if self._stack is not None:
            raise RuntimeError("the node is already started")
        if self._started_once:  # what the first start opened is closed now, a given sink included
            raise RuntimeError("a node starts once: build a new Node to start again")
        self._started_once = True
        async with contextlib.AsyncExitStack() as stack:
            # Pushed before start: a transport that fails half-way (connected, then a topology error)
            # still closes its connections.
            stack.push_async_callback(self.transport.close)
            await self.transport.start()
            self._open_stores(stack)
            if self.replays is not None:
                stack.push_async_callback(self.replays.close)
            stack.push_async_callback(self.feeds.close)
            await self._open_sinks(stack)
            self._parts = NodeConsumers(self.transport)
            stack.push_async_callback(self._stop_consumers)
            self._start_consumers()
            stack.push_async_callback(self._drain_publisher)
            await self._start_http(stack)
            stack.push_async_callback(self._stop_sources)
            self._start_sources()
            self._stack = stack.pop_all()
        log.info(
            "node_started", node=self.settings.node, node_level=self.settings.level, http_port=self.http_port
        )

    async def stop(self) -> None:
        """Graceful shutdown, bounded by ``shutdown_timeout_s`` per step: what ``start`` opened, closed in
        reverse. Idempotent; a node never started has nothing to close."""
        stack, self._stack = self._stack, None
        if stack is None:
            return
        await stack.aclose()
        log.info("node_stopped", node=self.settings.node)

    async def __aenter__(self) -> Node:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def _open_stores(self, stack: contextlib.AsyncExitStack) -> None:
        """The node's SQLite files under ``state_dir``, each closed (off the loop) when the stack unwinds."""
        state = self.settings.state_dir
        state.mkdir(parents=True, exist_ok=True)
        self._quarantine_store = _closing(stack, QuarantineStore(state / "quarantine.sqlite3"))
        self._source_state = _closing(stack, StateStore(state / "sources.sqlite3"))
        self._audit = _closing(stack, AdminAudit(state / "admin-audit.sqlite3"))
        if self.settings.trust.evidence:
            self.evidence = _closing(stack, EvidenceLog(state / "evidence.sqlite3"))
        b = self.settings.batch
        validator = Validator(
            default_index(), self._tokenizer, max_record_bytes=b.max_bytes, signer=self.signer
        )
        self._pipeline = Pipeline(
            validator, self.publisher, self.quarantiner, self.metrics, evidence=self.evidence
        )
        self._redriver = Redriver(
            self._quarantine_store,
            self._sealer,
            self._pipeline,
            self.publisher,
            self._mappers,
            signer=self.signer,
        )

    def _warehouse_entry(self) -> SinkEntry:
        """``[sink]`` as an instance of the ``sqlite`` sink adapter (found through the adapter registry)."""
        path = self.settings.sink.sqlite_path.absolute()  # relative to the working directory, as always
        return SinkEntry(name=WAREHOUSE_SINK, kind="sqlite", config={"path": str(path)})

    async def _open_sinks(self, stack: contextlib.AsyncExitStack) -> None:
        """The warehouse sink (given, or built from ``[sink]``) and every enabled ``[[sinks]]`` entry, each
        closed when the stack unwinds; a given sink is closed too (the node owns it once started)."""
        if self._warehouse is not None and self._sink is None:
            warehouse = self._build_sink(self._warehouse)
            stack.push_async_callback(warehouse.close)
            await warehouse.start()
            self._sink = warehouse
        elif self._sink is not None:
            stack.push_async_callback(self._sink.close)
        self._extra_sinks = []
        for entry in self.settings.sinks:
            if entry.enabled:
                sink = self._build_sink(entry)
                stack.push_async_callback(sink.close)
                await sink.start()
                self._extra_sinks.append(sink)

    def _build_sink(self, entry: SinkEntry) -> SinkAdapter:
        return build_sink(entry, self.source_state, self.settings.state_dir, self.metrics, self.settings.node)

    def _start_consumers(self) -> None:
        start_consumers(
            self._parts,
            self.settings,
            self.topology,
            quarantiner=self.quarantiner,
            metrics=self.metrics,
            verifier=self.verifier,
            evidence=self.evidence,
            quarantine_store=self.quarantine_store,
            sink=self._sink,
            extra_sinks=self._extra_sinks,
        )

    async def _stop_consumers(self) -> None:
        await self._parts.stop(self.settings.shutdown_timeout_s)

    async def _drain_publisher(self) -> None:
        """Wait (up to ``shutdown_timeout_s``) for the records already offered to be confirmed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.publisher.drain(), self.settings.shutdown_timeout_s)

    async def _start_http(self, stack: contextlib.AsyncExitStack) -> None:
        h = self.settings.http
        app = node_app(self, before_scrape=self._refresh_scrape_metrics)
        runner = JsonErrorRunner(app, shutdown_timeout=self.settings.shutdown_timeout_s, access_log=None)
        await runner.setup()
        self._http_runner = runner
        stack.push_async_callback(runner.cleanup)  # stops accepting, lets handlers finish within the timeout
        await web.TCPSite(runner, h.host, h.port, ssl_context=self._tls).start()
        # Unwound before the cleanup: live feeds would hold the HTTP shutdown for its whole timeout.
        stack.callback(self.feeds.stop_live)
        self.http_port = int(runner.addresses[0][1])  # the bound port, also when h.port is 0 (ephemeral)

    # -- what operators see ----------------------------------------------------------------------------

    def queue_roles(self) -> dict[str, str]:
        """Broker queue name -> the ``adapter`` label its figures carry (whoever consumes the queue)."""
        return queue_roles_for(self.topology, self._sink, self.settings.sinks)

    async def status(self) -> dict[str, Any]:
        """A summary for operators: identity, readiness and quarantine counts."""
        return await self.observer.status()

    async def refresh_metrics(self) -> None:
        """Set the gauges that describe current state, just before a scrape."""
        await self.observer.refresh_metrics()

    async def refresh_broker_metrics(self) -> None:
        """Queue depth and consumer count from the broker (cached a few seconds)."""
        await self.observer.refresh_broker_metrics()

    async def _refresh_scrape_metrics(self) -> None:
        await self.refresh_metrics()
        await self.refresh_broker_metrics()
        await self.feeds.refresh_metrics(self.metrics)

    async def lineage(self, message_id: str) -> dict[str, Any]:
        """Where one record came from and what happened to it here (``hub.admin.lineage``)."""
        from hub.admin.lineage import trace_record

        return await trace_record(
            message_id,
            node=self.settings.node,
            level=self.settings.level,
            quarantine=self.quarantine_store,
            sinks=[s for s in [self._sink, *self._extra_sinks] if s is not None],
        )

    async def overview(self) -> dict[str, Any]:
        """What the status page shows."""
        return await self.observer.overview()

    def readiness(self) -> dict[str, bool]:
        """Named readiness checks: broker connected and unblocked, consumers alive, no source failed."""
        checks = {"broker": self.transport.ready}
        for consumer, task in zip(self._parts.consumers, self._parts.tasks, strict=True):
            checks[f"consumer:{consumer.name}"] = not task.done()
        for runner in self.runners:
            checks[f"source:{runner.name}"] = runner.state != "failed"
        return checks


def _opened(value: T | None, what: str) -> T:
    if value is None:
        raise RuntimeError(f"Node.{what} is opened by Node.start()")
    return value


C = TypeVar("C", QuarantineStore, StateStore, AdminAudit, EvidenceLog)


def _closing(stack: contextlib.AsyncExitStack, store: C) -> C:
    """``store``, its blocking ``close`` pushed onto ``stack`` to run in a thread."""
    stack.push_async_callback(asyncio.to_thread, store.close)
    return store
