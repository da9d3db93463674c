"""The broker topology the hub declares, as plain data (no broker library here).

The hub, not its consumers, owns the topology: exchanges, quorum queues, bindings, and the policies that
give every work queue a dead-letter exchange and a delivery limit, so that nothing is ever silently
dropped by the broker (see ../shared/RELIABILITY.md, "naive designs" 3 and 7).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExchangeSpec:
    """A durable exchange."""

    name: str
    type: str = "topic"


@dataclass(frozen=True)
class QueueSpec:
    """A durable quorum queue. ``dead_letter_exchange`` and ``delivery_limit`` are applied by policy."""

    name: str
    dead_letter_exchange: str | None = None
    delivery_limit: int | None = None


@dataclass(frozen=True)
class BindingSpec:
    """Bind ``queue`` to ``exchange`` with a topic ``pattern``."""

    exchange: str
    queue: str
    pattern: str


@dataclass(frozen=True)
class Topology:
    """Everything a node declares. Names are prefixed by ``prefix`` (default ``simpul``)."""

    prefix: str = "simpul"
    exchanges: tuple[ExchangeSpec, ...] = ()
    queues: tuple[QueueSpec, ...] = ()
    bindings: tuple[BindingSpec, ...] = ()
    policy_name: str = field(default="")

    @property
    def ingest_exchange(self) -> str:
        return f"{self.prefix}.ingest"

    @property
    def quarantine_exchange(self) -> str:
        return f"{self.prefix}.quarantine"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.prefix}.dlx"

    @property
    def central_queue(self) -> str:
        return f"{self.prefix}.central"

    @property
    def quarantine_queue(self) -> str:
        return f"{self.prefix}.quarantine"

    @property
    def dead_queue(self) -> str:
        return f"{self.prefix}.dead"


def sink_queue(prefix: str, sink_name: str) -> str:
    """The queue a configured sink consumes."""
    return f"{prefix}.sink.{sink_name}"


def with_sinks(
    topology: Topology, sinks: list[tuple[str, list[str]]], *, delivery_limit: int = 10
) -> Topology:
    """``topology`` plus one quorum queue per sink, bound to the ingest exchange by the sink's patterns."""
    prefix = topology.prefix
    queues = list(topology.queues)
    bindings = list(topology.bindings)
    for name, patterns in sinks:
        queue = sink_queue(prefix, name)
        queues.append(
            QueueSpec(
                queue, dead_letter_exchange=topology.dead_letter_exchange, delivery_limit=delivery_limit
            )
        )
        bindings.extend(BindingSpec(topology.ingest_exchange, queue, p) for p in patterns)
    return Topology(prefix, topology.exchanges, tuple(queues), tuple(bindings), topology.policy_name)


def default_topology(prefix: str = "simpul", *, delivery_limit: int = 10) -> Topology:
    """The single-node topology: ingest -> central queue, quarantine -> quarantine queue, dlx -> dead.

    The central and quarantine queues dead-letter to ``<prefix>.dlx`` after ``delivery_limit`` deliveries
    (a poison message is parked in ``<prefix>.dead``, never dropped). The dead queue has no limit.
    """
    dlx = f"{prefix}.dlx"
    exchanges = (ExchangeSpec(f"{prefix}.ingest"), ExchangeSpec(f"{prefix}.quarantine"), ExchangeSpec(dlx))
    queues = (
        QueueSpec(f"{prefix}.central", dead_letter_exchange=dlx, delivery_limit=delivery_limit),
        QueueSpec(f"{prefix}.quarantine", dead_letter_exchange=dlx, delivery_limit=delivery_limit),
        QueueSpec(f"{prefix}.dead"),
    )
    bindings = (
        BindingSpec(f"{prefix}.ingest", f"{prefix}.central", "#"),
        BindingSpec(f"{prefix}.quarantine", f"{prefix}.quarantine", "#"),
        BindingSpec(dlx, f"{prefix}.dead", "#"),
    )
    return Topology(prefix, exchanges, queues, bindings, policy_name=f"{prefix}-work-queues")
