"""Releasing held records: an operator at a level decides that records its rules held may go up.

``release_held`` reads the node's ``held`` queue once through: every record matching the selection gets a
new hop (this node, status ``diteruskan``) and is published to ``upward``; every other record is published
back to ``hold`` unchanged. The original message is acked only after both publishes were confirmed, so a
crash mid-way leaves each record held or forwarded, never lost (a record may then be forwarded twice, and
pusat's idempotent sink applies it once). Drafts are never released: a draft is re-sent as ``diajukan``
by its office, not pushed up by the level above.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from hub.levels.rules import Decision, LevelRules
from hub.model import codec
from hub.model.router import routing_key
from hub.transport.base import Transport
from hub.transport.topology import Topology
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)

Match = Callable[[Envelope], bool]


@dataclass
class ReleaseResult:
    """What one pass over the held queue did."""

    released: list[str] = field(default_factory=list)  # message ids
    kept: int = 0
    drafts_kept: int = 0


def selection(
    *, message_ids: set[str] | None = None, schema: str | None = None, region: str | None = None
) -> Match:
    """A match on message ids, schema and region (a kode wilayah and what lies below it); all given must
    hold."""

    def match(envelope: Envelope) -> bool:
        if message_ids is not None and envelope.message_id not in message_ids:
            return False
        if schema is not None and envelope.schema_name != schema:
            return False
        return (
            region is None
            or envelope.kode_wilayah == region
            or envelope.kode_wilayah.startswith(region + ".")
        )

    return match


async def release_held(
    transport: Transport, topology: Topology, rules: LevelRules, match: Match, *, idle_s: float = 1.0
) -> ReleaseResult:
    """One pass over ``topology.held_queue``; ends when a record comes round again or nothing arrives for
    ``idle_s``. Returns the released message ids and how many stayed held."""
    result = ReleaseResult()
    seen: set[str] = set()
    deliveries = transport.consume(topology.held_queue, prefetch=32)
    try:
        while True:
            try:
                delivery = await asyncio.wait_for(anext(deliveries), idle_s)
            except (TimeoutError, StopAsyncIteration):
                break
            envelopes = [Envelope.model_validate(item) for item in codec.split_batch(delivery.body)]
            if envelopes and all(e.message_id in seen for e in envelopes):
                await delivery.reject(requeue=True)  # went round once: the pass is over
                break
            go = [e for e in envelopes if match(e) and e.payload.get("status") != "draft"]
            stay = [e for e in envelopes if e not in go]
            result.drafts_kept += sum(1 for e in envelopes if match(e) and e.payload.get("status") == "draft")
            now = datetime.now(UTC)
            decision = Decision("forward", "diteruskan", "released")
            await _publish(transport, topology.upward_exchange, [rules.stamp(e, decision, now) for e in go])
            await _publish(transport, topology.hold_exchange, stay)
            await delivery.ack()
            seen.update(e.message_id for e in stay)
            result.released.extend(e.message_id for e in go)
            result.kept += len(stay)
    finally:
        with contextlib.suppress(Exception):
            await deliveries.aclose()  # type: ignore[attr-defined]
    log.info("held_released", node=rules.node, released=len(result.released), kept=result.kept)
    return result


async def _publish(transport: Transport, exchange: str, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        key = routing_key(envelope.schema_name, envelope.schema_major, envelope.kode_wilayah)
        await transport.publish(
            exchange,
            key,
            codec.join_batch([codec.dumps(envelope.model_dump(mode="json"))]),
            message_id=envelope.message_id,
            headers={codec.FORMAT_HEADER: codec.FORMAT, codec.COUNT_HEADER: 1},
        )
