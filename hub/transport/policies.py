"""The topology rules every transport enforces before declaring, and the policies they give the broker.

:func:`check_topology` refuses topologies a broker would lose messages with, and :func:`queue_policies`
turns a topology into the RabbitMQ policies that give its work queues a dead-letter exchange and a
delivery limit (the AMQP transport PUTs them through the management API; the memory transport records
them so tests can look at them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import TopologyError
from hub.transport.topology import Topology

__all__ = ["POLICY_PRIORITY", "QueuePolicy", "check_topology", "queue_policies"]

POLICY_PRIORITY = 10
"""Priority of Simpul's work-queue policies. RabbitMQ applies only the highest-priority matching policy to a
queue; if an operator's policy outranks this one, the AMQP transport's start-up check fails loudly instead
of running without dead-lettering."""


@dataclass(frozen=True)
class QueuePolicy:
    """One RabbitMQ policy: ``pattern`` matches exactly ``queues`` (anchored, escaped names)."""

    name: str
    pattern: str
    definition: Mapping[str, Any]
    queues: tuple[str, ...]
    apply_to: str = "queues"
    priority: int = POLICY_PRIORITY

    def as_api_body(self) -> dict[str, Any]:
        """The JSON body of ``PUT /api/policies/{vhost}/{name}``."""
        return {
            "pattern": self.pattern,
            "definition": dict(self.definition),
            "apply-to": self.apply_to,
            "priority": self.priority,
        }


def check_topology(topology: Topology) -> None:
    """Raise :class:`~hub.errors.TopologyError` if ``topology`` is unsafe or inconsistent.

    Refused: a delivery limit without a dead-letter exchange (a quorum queue then *drops* the message
    after the limit), a dead-letter exchange or binding that names an undeclared entity, duplicate names.
    """
    exchanges = [e.name for e in topology.exchanges]
    queues = [q.name for q in topology.queues]
    for kind, names in (("exchange", exchanges), ("queue", queues)):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise TopologyError(f"duplicate {kind} names: {', '.join(duplicates)}")
    for spec in topology.queues:
        if spec.delivery_limit is not None and spec.dead_letter_exchange is None:
            raise TopologyError(
                f"queue {spec.name!r} has a delivery limit but no dead-letter exchange: "
                "the broker would drop poison messages"
            )
        if spec.delivery_limit is not None and spec.delivery_limit < 1:
            raise TopologyError(f"queue {spec.name!r}: delivery_limit must be at least 1")
        if spec.dead_letter_exchange is not None and spec.dead_letter_exchange not in exchanges:
            raise TopologyError(
                f"queue {spec.name!r}: dead-letter exchange {spec.dead_letter_exchange!r} is not declared"
            )
    for binding in topology.bindings:
        if binding.exchange not in exchanges or binding.queue not in queues:
            raise TopologyError(f"binding {binding.exchange} -> {binding.queue} names an undeclared entity")


def queue_policies(topology: Topology) -> list[QueuePolicy]:
    """The policies for every queue with a dead-letter exchange, one per (DLX, delivery limit) pair.

    Each definition carries ``dead-letter-exchange``, ``delivery-limit`` (when set),
    ``dead-letter-strategy: at-least-once`` (the message leaves the source queue only once the dead-letter
    queue has it) and ``overflow: reject-publish`` (which at-least-once dead-lettering requires). The
    first policy is named ``topology.policy_name`` (or ``<prefix>-work-queues``), further ones get a
    ``-2``, ``-3``... suffix.
    """
    groups: dict[tuple[str, int | None], list[str]] = {}
    for spec in topology.queues:
        if spec.dead_letter_exchange is not None:
            groups.setdefault((spec.dead_letter_exchange, spec.delivery_limit), []).append(spec.name)
    base = topology.policy_name or f"{topology.prefix}-work-queues"
    policies: list[QueuePolicy] = []
    for index, ((dlx, limit), names) in enumerate(groups.items(), start=1):
        definition: dict[str, Any] = {
            "dead-letter-exchange": dlx,
            "dead-letter-strategy": "at-least-once",
            "overflow": "reject-publish",
        }
        if limit is not None:
            definition["delivery-limit"] = limit
        pattern = "^(" + "|".join(re.escape(n) for n in names) + ")$"
        name = base if index == 1 else f"{base}-{index}"
        policies.append(QueuePolicy(name=name, pattern=pattern, definition=definition, queues=tuple(names)))
    return policies
