"""The broker topology the hub declares, as plain data (no broker library here).

The hub, not its consumers, owns the topology: exchanges, quorum queues, bindings, and the policies that
give every work queue a dead-letter exchange and a delivery limit, so that nothing is ever silently
dropped by the broker (see ../shared/RELIABILITY.md, "naive designs" 3 and 7).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal


@dataclass(frozen=True)
class ExchangeSpec:
    """A durable exchange."""

    name: str
    type: str = "topic"


@dataclass(frozen=True)
class QueueSpec:
    """A durable queue: ``quorum`` (work queues; ``dead_letter_exchange`` and ``delivery_limit`` are
    applied by policy) or ``stream`` (the replayable feed; ``max_age`` such as ``"90D"`` bounds retention)."""

    name: str
    dead_letter_exchange: str | None = None
    delivery_limit: int | None = None
    kind: Literal["quorum", "stream"] = "quorum"
    max_age: str | None = None
    replicas: int = 0
    """Nodes holding the queue when it is created (0: the broker's default, every cluster node)."""

    def arguments(self) -> dict[str, str | int]:
        """The ``x-`` arguments the queue is declared with.

        ``replicas`` becomes ``x-quorum-initial-group-size`` (quorum) or ``x-initial-cluster-size``
        (stream). RabbitMQ checks both for equivalence on every re-declaration, so a queue must always be
        declared with the value it was created with.
        """
        args: dict[str, str | int] = {"x-queue-type": self.kind}
        if self.kind == "stream" and self.max_age:
            args["x-max-age"] = self.max_age
        if self.replicas > 0:
            key = "x-quorum-initial-group-size" if self.kind == "quorum" else "x-initial-cluster-size"
            args[key] = self.replicas
        return args


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

    # Levels: a node below pusat verifies what arrives in ``forward``, publishes what passes to ``upward``,
    # whose ``uplink`` queue a RabbitMQ shovel drains into the parent's ingest exchange; records held back
    # (by classification) wait in ``held`` at this level.
    @property
    def forward_queue(self) -> str:
        return f"{self.prefix}.forward"

    @property
    def upward_exchange(self) -> str:
        return f"{self.prefix}.upward"

    @property
    def uplink_queue(self) -> str:
        return f"{self.prefix}.uplink"

    @property
    def hold_exchange(self) -> str:
        return f"{self.prefix}.hold"

    @property
    def held_queue(self) -> str:
        return f"{self.prefix}.held"

    @property
    def feed_stream(self) -> str:
        return f"{self.prefix}.feed"

    def has_queue(self, name: str) -> bool:
        return any(q.name == name for q in self.queues)


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


def _extend(
    topology: Topology,
    exchanges: list[ExchangeSpec],
    queues: list[QueueSpec],
    bindings: list[BindingSpec],
) -> Topology:
    return Topology(
        topology.prefix,
        topology.exchanges + tuple(exchanges),
        topology.queues + tuple(queues),
        topology.bindings + tuple(bindings),
        topology.policy_name,
    )


def without_central(topology: Topology) -> Topology:
    """``topology`` without the central queue: for a node below pusat that keeps no warehouse of its own,
    where a central queue nobody consumes would only grow."""
    name = topology.central_queue
    return Topology(
        topology.prefix,
        topology.exchanges,
        tuple(q for q in topology.queues if q.name != name),
        tuple(b for b in topology.bindings if b.queue != name),
        topology.policy_name,
    )


def with_uplink(topology: Topology, *, delivery_limit: int = 10) -> Topology:
    """``topology`` plus the parts of a node below pusat: ingest -> ``forward`` (verified by the level
    worker) -> ``upward`` -> ``uplink`` (drained by the shovel to the parent), and ``hold`` -> ``held``.

    ``uplink`` has no delivery limit: a shovel redelivering across a weak link must never dead-letter.
    """
    t, dlx = topology, topology.dead_letter_exchange
    return _extend(
        t,
        [ExchangeSpec(t.upward_exchange), ExchangeSpec(t.hold_exchange)],
        [
            QueueSpec(t.forward_queue, dead_letter_exchange=dlx, delivery_limit=delivery_limit),
            QueueSpec(t.uplink_queue),
            QueueSpec(t.held_queue),
        ],
        [
            BindingSpec(t.ingest_exchange, t.forward_queue, "#"),
            BindingSpec(t.upward_exchange, t.uplink_queue, "#"),
            BindingSpec(t.hold_exchange, t.held_queue, "#"),
        ],
    )


def with_feed(topology: Topology, *, max_age: str = "365D") -> Topology:
    """``topology`` plus the replayable feed: a stream queue holding every record the ingest exchange
    routes, which ministry applications read from the start, an offset or a timestamp."""
    t = topology
    return _extend(
        t,
        [],
        [QueueSpec(t.feed_stream, kind="stream", max_age=max_age)],
        [BindingSpec(t.ingest_exchange, t.feed_stream, "#")],
    )


def with_replicas(topology: Topology, replicas: int) -> Topology:
    """``topology`` with every queue and stream created on ``replicas`` nodes (0: the broker's default).

    For a cluster of N nodes, N (3 or 5) lets the queue survive the loss of a minority; a Raft majority of
    the replicas must confirm every publish, so more replicas cost latency, not safety.
    """
    if replicas < 0:
        raise ValueError("replicas must be 0 or more")
    queues = tuple(replace(q, replicas=replicas) for q in topology.queues)
    return Topology(topology.prefix, topology.exchanges, queues, topology.bindings, topology.policy_name)
