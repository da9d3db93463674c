"""The node's consumers: which worker reads which queue, with what batching, and who each queue's figures
are labelled with. ``hub.node`` starts them once its stores and sinks are open and stops them, together,
when it stops.

:class:`NodeConsumers` holds the consumers of one start and their tasks (``Node._parts``);
:func:`start_consumers` starts the quarantine filer, the warehouse sink's worker, one worker per enabled
``[[sinks]]`` entry and, below pusat, the level worker; :func:`queue_roles_for` gives each work queue the
``adapter`` label its broker figures carry. Takes what the node opened as arguments and imports nothing of
``hub.node``: it sits in the layer just below it, over ``hub.levels``, ``hub.consume``, ``hub.quarantine``,
``hub.trust``, the transport and the foundations.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hub.consume.consumer import BatchConsumer
from hub.consume.sink import Sink
from hub.consume.sink_worker import SinkWorker
from hub.levels.forwarder import LevelWorker
from hub.levels.rules import LevelRules
from hub.metrics import Metrics
from hub.quarantine.filer import Quarantiner
from hub.quarantine.store import QuarantineStore
from hub.quarantine.worker import QuarantineWorker
from hub.settings import Settings, SinkEntry
from hub.transport.base import Transport
from hub.transport.topology import Topology, sink_queue
from hub.trust import Verifier
from hub.trust.evidence import EvidenceLog

__all__ = ["NodeConsumers", "queue_roles_for", "start_consumers"]


@dataclass
class NodeConsumers:
    """The consumers one ``Node.start`` started, each with its task (same order), on ``transport``."""

    transport: Transport
    consumers: list[BatchConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def consume(
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
        self.consumers.append(consumer)
        self.tasks.append(asyncio.create_task(consumer.run(), name=f"consumer-{name}"))

    async def stop(self, timeout_s: float) -> None:
        """Let each consumer finish the group in hand (unacked ones are redelivered anyway), then cancel
        whatever still runs after ``timeout_s`` (the node's ``shutdown_timeout_s``)."""
        for consumer in self.consumers:
            await consumer.stop()
        tasks = self.tasks
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def start_consumers(
    consumers: NodeConsumers,
    settings: Settings,
    topology: Topology,
    *,
    quarantiner: Quarantiner,
    metrics: Metrics,
    verifier: Verifier,
    evidence: EvidenceLog | None,
    quarantine_store: QuarantineStore,
    sink: Sink | None,
    extra_sinks: list[Sink],
) -> None:
    """Start the node's consumers on ``consumers``: ``sink`` is the warehouse sink (or None), ``extra_sinks``
    the opened sinks of the enabled ``[[sinks]]`` entries, in their order."""
    if settings.quarantine_consumer:  # worker processes leave filing to the node (one store)
        consumers.consume(topology.quarantine_queue, QuarantineWorker(quarantine_store), "quarantine")
    if sink is not None:
        s = settings.sink
        consumers.consume(
            topology.central_queue,
            SinkWorker(
                sink,
                quarantiner,
                metrics,
                verifier=verifier,
                evidence=evidence,
                delivery_limit=settings.broker.delivery_limit,
            ),
            sink.name,
            prefetch=s.prefetch,
            max_messages=s.batch_messages,
            linger_s=s.linger_ms / 1000,
            concurrency=s.concurrency,
        )
    enabled = [e for e in settings.sinks if e.enabled]
    for entry, extra in zip(enabled, extra_sinks, strict=True):
        worker = SinkWorker(
            extra,
            quarantiner,
            metrics,
            verifier=verifier,
            delivery_limit=settings.broker.delivery_limit,
        )
        queue = sink_queue(topology.prefix, entry.name)
        consumers.consume(
            queue, worker, entry.name, prefetch=entry.prefetch, max_messages=entry.batch_messages
        )
    _start_level_worker(consumers, settings, topology, quarantiner, metrics, verifier)


def _start_level_worker(
    consumers: NodeConsumers,
    settings: Settings,
    topology: Topology,
    quarantiner: Quarantiner,
    metrics: Metrics,
    verifier: Verifier,
) -> None:
    """Below pusat: verify what reaches this level and forward it upward (or hold it here)."""
    up = settings.uplink
    if not up.enabled:
        return
    rules = LevelRules(
        settings.node,
        settings.level,
        settings.region,
        frozenset(up.hold_classifications),
    )
    worker = LevelWorker(
        consumers.transport,
        topology,
        rules,
        quarantiner,
        metrics,
        verify=verifier.verify,
        max_batch_bytes=settings.batch.max_bytes,
    )
    consumers.consume(
        topology.forward_queue, worker, "level", prefetch=up.prefetch, max_messages=up.batch_messages
    )


def queue_roles_for(topology: Topology, sink: Sink | None, sinks: list[SinkEntry]) -> dict[str, str]:
    """Broker queue name -> the ``adapter`` label its figures carry (whoever consumes the queue)."""
    t = topology
    roles = {
        t.central_queue: sink.name if sink is not None else "central",
        t.quarantine_queue: "quarantine",
        t.dead_queue: "dead_letter",
    }
    for entry in sinks:
        if entry.enabled:
            roles[sink_queue(t.prefix, entry.name)] = entry.name
    return roles
