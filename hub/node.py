"""One Simpul node: transport, pipeline, HTTP face, quarantine filing and the warehouse sink, in order.

Startup validates everything before it opens a port; shutdown runs in the reverse order: stop intake
(HTTP), drain records awaiting confirms, stop consumers after their current group, close the sink and
stores, close the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from hub.adapters.build import build_sink, build_source, check_adapters
from hub.adapters.runner import SourceRunner
from hub.adapters.state import StateStore
from hub.admin.audit import AdminAudit
from hub.admin.observer import NodeObserver
from hub.admin.redrive import Redriver
from hub.catalog.http import CatalogApi
from hub.consume.consumer import BatchConsumer
from hub.consume.sink import Sink
from hub.consume.sink_worker import SinkWorker
from hub.errors import ConfigError, NotFound
from hub.feeds.face import FeedFace
from hub.feeds.replay_jobs import ReplayJobs, amqp_replay_transports
from hub.http.admin import AdminApi
from hub.http.app import build_app
from hub.http.ingest import IngestHandler
from hub.http.server import JsonErrorRunner
from hub.http.status_page import status_page_routes
from hub.ingest.pipeline import Pipeline
from hub.ingest.publisher import BatchingPublisher
from hub.ingest.validation import Validator
from hub.levels.forwarder import LevelWorker
from hub.levels.rules import LevelRules
from hub.metrics import Metrics
from hub.model.records import Mapper
from hub.quarantine.filer import Quarantiner
from hub.quarantine.sealing import Sealer
from hub.quarantine.store import QuarantineStore
from hub.quarantine.worker import QuarantineWorker
from hub.settings import Settings, SourceEntry
from hub.transport.base import Transport
from hub.transport.factory import amqp_transport_for, topology_for
from hub.transport.topology import sink_queue
from hub.trust import build_signer, build_verifier
from hub.trust.evidence import EvidenceLog
from hub.trust.ratelimit import RegionRateLimiter
from schemas.pii import NikTokenizer
from schemas.regions import default_index

log = structlog.get_logger(__name__)


@dataclass
class _Parts:
    consumers: list[BatchConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class Node:
    """A running node. ``start`` then ``stop``; or ``async with Node(settings):``."""

    def __init__(
        self, settings: Settings, *, transport: Transport | None = None, sink: Sink | None = None
    ) -> None:
        self.settings = settings
        self.metrics = Metrics()
        # Every adapter config is valid before anything starts.
        check_adapters(settings.sources, settings.sinks)
        if transport is None:
            transport = amqp_transport_for(settings, topology_for(settings))
        self.transport = transport
        self.topology = transport.topology
        self._sink = sink
        self._parts = _Parts()
        self._runner: web.AppRunner | None = None
        self.http_port: int | None = None
        state = settings.state_dir
        state.mkdir(parents=True, exist_ok=True)
        self.quarantine_store = QuarantineStore(state / "quarantine.sqlite3")
        self.source_state = StateStore(state / "sources.sqlite3")
        self.audit = AdminAudit(state / "admin-audit.sqlite3")
        self.runners: list[SourceRunner] = []
        self._runner_tasks: dict[str, asyncio.Task[None]] = {}
        self._mappers: dict[str, Mapper] = {}
        self._extra_sinks: list[Sink] = []
        self._adapters: dict[str, object] = {}
        self.observer = NodeObserver(self)
        self.feeds = FeedFace(settings)  # ministry feeds and completeness over the warehouse
        self.replays = (  # replays started from the admin API
            ReplayJobs(amqp_replay_transports(settings), settings.broker.prefix)
            if settings.feed.stream
            else None
        )
        tokenizer = NikTokenizer(settings.key_bytes("token_key"))
        sealer = Sealer(hashlib.sha256(b"simpul-quarantine:" + settings.key_bytes("quarantine_key")).digest())
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
            self.transport, self.topology.quarantine_exchange, sealer, settings.node, self.metrics
        )
        self.signer = build_signer(settings)  # records are signed once, by the first hub that builds them
        self.verifier = build_verifier(settings, self.signer)
        self.evidence = EvidenceLog(state / "evidence.sqlite3") if settings.trust.evidence else None
        validator = Validator(default_index(), tokenizer, max_record_bytes=b.max_bytes, signer=self.signer)
        self.pipeline = Pipeline(
            validator, self.publisher, self.quarantiner, self.metrics, evidence=self.evidence
        )
        self.redriver = Redriver(
            self.quarantine_store, sealer, self.pipeline, self.publisher, self._mappers, signer=self.signer
        )

    @property
    def sink(self) -> Sink | None:
        return self._sink

    async def start(self) -> None:
        """Connect, declare topology, start consumers, then open the HTTP port."""
        await self.transport.start()
        if self._sink is None and self.settings.sink.enabled:
            from adapters.sqlite_sink.sink import SqliteSink

            self._sink = SqliteSink(self.settings.sink.sqlite_path)
        if self.settings.quarantine_consumer:  # worker processes leave filing to the node (one store)
            self._consume(
                self.topology.quarantine_queue, QuarantineWorker(self.quarantine_store), "quarantine"
            )
        if self._sink is not None:
            s = self.settings.sink
            self._consume(
                self.topology.central_queue,
                SinkWorker(
                    self._sink,
                    self.quarantiner,
                    self.metrics,
                    verifier=self.verifier,
                    evidence=self.evidence,
                    delivery_limit=self.settings.broker.delivery_limit,
                ),
                self._sink.name,
                prefetch=s.prefetch,
                max_messages=s.batch_messages,
                linger_s=s.linger_ms / 1000,
                concurrency=s.concurrency,
            )
        await self._start_sinks()
        self._start_level_worker()
        await self._start_http()
        self._start_sources()
        log.info(
            "node_started", node=self.settings.node, node_level=self.settings.level, http_port=self.http_port
        )

    async def _start_sinks(self) -> None:
        for entry in self.settings.sinks:
            if not entry.enabled:
                continue
            sink = build_sink(
                entry, self.source_state, self.settings.state_dir, self.metrics, self.settings.node
            )
            await sink.start()
            self._extra_sinks.append(sink)
            worker = SinkWorker(
                sink,
                self.quarantiner,
                self.metrics,
                verifier=self.verifier,
                delivery_limit=self.settings.broker.delivery_limit,
            )
            queue = sink_queue(self.topology.prefix, entry.name)
            self._consume(
                queue, worker, entry.name, prefetch=entry.prefetch, max_messages=entry.batch_messages
            )

    def _start_level_worker(self) -> None:
        """Below pusat: verify what reaches this level and forward it upward (or hold it here)."""
        up = self.settings.uplink
        if not up.enabled:
            return
        rules = LevelRules(
            self.settings.node,
            self.settings.level,
            self.settings.region,
            frozenset(up.hold_classifications),
        )
        worker = LevelWorker(
            self.transport,
            self.topology,
            rules,
            self.quarantiner,
            self.metrics,
            verify=self.verifier.verify,
            max_batch_bytes=self.settings.batch.max_bytes,
        )
        self._consume(
            self.topology.forward_queue, worker, "level", prefetch=up.prefetch, max_messages=up.batch_messages
        )

    def _start_sources(self) -> None:
        for entry in self.settings.sources:
            if entry.enabled:
                self._launch(entry)

    def _launch(self, entry: SourceEntry) -> SourceRunner:
        adapter, mapper = build_source(
            entry, self.source_state, self.settings.state_dir, self.metrics, lambda: self.transport.ready
        )
        self._mappers[entry.name] = mapper
        self._adapters[entry.name] = adapter
        runner = SourceRunner(
            entry.name, adapter, self.pipeline, mapper, fatal_retry_s=self.settings.source_fatal_retry_s
        )
        self.runners = [r for r in self.runners if r.name != entry.name] + [runner]
        self._runner_tasks[entry.name] = asyncio.create_task(runner.run(), name=f"source-{entry.name}")
        return runner

    async def restart_source(self, name: str) -> None:
        """Stop one source adapter (its unconfirmed batch is re-read) and start a fresh instance."""
        entry = next((e for e in self.settings.sources if e.name == name), None)
        if entry is None:
            raise NotFound(f"no source adapter named {name!r}")
        task = self._runner_tasks.pop(name, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._launch(entry)

    def _consume(
        self,
        queue: str,
        handler: SinkWorker | QuarantineWorker | LevelWorker,
        name: str,
        *,
        prefetch: int = 64,
        max_messages: int = 32,
        linger_s: float = 0.01,
        concurrency: int = 1,
    ) -> None:
        consumer = BatchConsumer(
            self.transport,
            queue,
            handler,
            name=name,
            prefetch=prefetch,
            max_messages=max_messages,
            linger_s=linger_s,
            concurrency=concurrency,
        )
        self._parts.consumers.append(consumer)
        self._parts.tasks.append(asyncio.create_task(consumer.run(), name=f"consumer-{name}"))

    async def _start_http(self) -> None:
        h = self.settings.http
        t = self.settings.trust
        limiter = RegionRateLimiter(t.ingest_rate_per_s, t.ingest_burst) if t.ingest_rate_per_s > 0 else None
        ingest = IngestHandler(
            self.pipeline, self.transport, h, limiter=limiter, max_depth=t.max_nesting_depth
        )
        admin = AdminApi(
            self.settings.admin_tokens,
            lambda: self.runners,
            self.restart_source,
            self.status,
            self.quarantine_store,
            self.redriver,
            self.audit,
            overview=self.overview,
            lineage=self.lineage,
            replays=self.replays,
        )
        app = build_app(
            ingest,
            self.metrics,
            self.readiness,
            h.max_body_bytes,
            admin,
            self.refresh_metrics,
            extra_routes=[*status_page_routes(), *self.feeds.routes()],
            before_scrape_async=self._refresh_scrape_metrics,
            catalog=CatalogApi(self.settings, self.topology),
        )
        self._runner = JsonErrorRunner(
            app, shutdown_timeout=self.settings.shutdown_timeout_s, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, h.host, h.port, ssl_context=_tls_context(h.tls_cert, h.tls_key))
        await site.start()
        server = site._server  # aiohttp keeps the bound socket here; needed to learn an ephemeral port
        sockets = getattr(server, "sockets", None) or []
        self.http_port = sockets[0].getsockname()[1] if sockets else h.port

    def status(self) -> dict[str, Any]:
        """A summary for operators: identity, readiness and quarantine counts."""
        return self.observer.status()

    def refresh_metrics(self) -> None:
        """Set the gauges that describe current state, just before a scrape."""
        self.observer.refresh_metrics()

    async def refresh_broker_metrics(self) -> None:
        """Queue depth and consumer count from the broker (cached a few seconds)."""
        await self.observer.refresh_broker_metrics()

    async def _refresh_scrape_metrics(self) -> None:
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
        """Named readiness checks: broker connected and unblocked, consumers alive."""
        checks = {"broker": self.transport.ready}
        for consumer, task in zip(self._parts.consumers, self._parts.tasks, strict=True):
            checks[f"consumer:{consumer.name}"] = not task.done()
        return checks

    async def stop(self) -> None:
        """Graceful shutdown, bounded by ``shutdown_timeout_s`` per step."""
        timeout = self.settings.shutdown_timeout_s
        for task in self._runner_tasks.values():  # stop intake: sources first (unconfirmed batches re-read)
            task.cancel()
        await asyncio.gather(*self._runner_tasks.values(), return_exceptions=True)
        self.feeds.stop_live()  # live feeds would hold the HTTP shutdown for its whole timeout
        if self._runner is not None:
            await self._runner.cleanup()  # stops accepting, lets handlers finish within the timeout
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.publisher.drain(), timeout)
        for consumer in self._parts.consumers:
            await consumer.stop()
        if self._parts.tasks:  # let each finish the group in hand; unacked ones are redelivered anyway
            _done, pending = await asyncio.wait(self._parts.tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._parts.tasks, return_exceptions=True)
        for sink in [self._sink, *self._extra_sinks]:
            if sink is not None:
                await sink.close()
        await self.feeds.close()
        if self.replays is not None:
            await self.replays.close()
        await asyncio.to_thread(self.quarantine_store.close)
        await asyncio.to_thread(self.source_state.close)
        await asyncio.to_thread(self.audit.close)
        if self.evidence is not None:
            await asyncio.to_thread(self.evidence.close)
        await self.observer.close()
        await self.transport.close()
        log.info("node_stopped", node=self.settings.node)

    async def __aenter__(self) -> Node:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()


def _tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """A server TLS context from PEM files (TLS 1.2+), or None for plain HTTP."""
    if cert is None or key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the TLS certificate or key ({type(exc).__name__})", key="http.tls_cert"
        ) from None
    return context
