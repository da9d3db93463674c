"""The level worker: verify what reached this level, then forward it upward or hold it here.

It consumes the node's ``forward`` queue (every record the ingest exchange routes: the node's own sources
and the shovels of the levels below). Per record: the envelope and its payload are re-validated against the
exact schema version it was sent with (an intermediate level never upcasts, so the record and its signature
reach pusat as the first hub built them), the optional ``verify`` hook checks its signature, and
``LevelRules`` decides. Forwarded records get this level's hop appended and are published, with publisher
confirms, to the ``upward`` exchange; a RabbitMQ shovel carries the ``uplink`` queue to the parent (crossing
machines is the broker's job, so records wait in this broker while the link is down). Held records go to the
``held`` queue, refused ones to quarantine with the reason. Deliveries are acked only after all of that was
confirmed, so a crash anywhere means redelivery, and pusat's idempotent sink absorbs the duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError

from hub import faultpoints
from hub.consume.filing import quarantine_item
from hub.errors import RecordError, ValidationFailed
from hub.ingest.issues import issues_from
from hub.levels.rules import LevelRules
from hub.metrics import Metrics
from hub.model import codec
from hub.model.router import routing_key
from hub.quarantine.filer import Quarantiner
from hub.transport.base import Delivery, Transport
from hub.transport.topology import Topology
from schemas.catalog import get as get_schema
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)

Verify = Callable[[Envelope], None]


class LevelWorker:
    """The ``BatchConsumer`` handler of a node below pusat. ``verify`` raises a ``RecordError`` for a
    record whose signature does not hold (see ``hub.trust``); ``None`` skips that check."""

    name = "level"

    def __init__(
        self,
        transport: Transport,
        topology: Topology,
        rules: LevelRules,
        quarantiner: Quarantiner,
        metrics: Metrics,
        *,
        verify: Verify | None = None,
        max_batch_bytes: int = 512 * 1024,
    ) -> None:
        self._transport = transport
        self._topology = topology
        self._rules = rules
        self._quarantiner = quarantiner
        self._metrics = metrics
        self._verify = verify
        self._max_batch_bytes = max_batch_bytes

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        outgoing: dict[tuple[str, str], list[tuple[str, bytes]]] = {}
        keep: list[Delivery] = []
        now = datetime.now(UTC)
        for delivery in deliveries:
            try:
                items = codec.split_batch(delivery.body)
            except ValueError as exc:
                log.error(
                    "message_dead_lettered",
                    consumer=self.name,
                    message_id=delivery.message_id,
                    reason=str(exc),
                )
                await delivery.reject(requeue=False)
                continue
            keep.append(delivery)
            for item in items:
                envelope = await self._check(item)
                if envelope is None:
                    continue
                try:
                    decision = self._rules.decide(envelope)
                except RecordError as err:
                    self._count(envelope, "refused")
                    await quarantine_item(self._quarantiner, self.name, item, err)
                    continue
                stamped = self._rules.stamp(envelope, decision, now)
                exchange = (
                    self._topology.upward_exchange
                    if decision.verdict == "forward"
                    else self._topology.hold_exchange
                )
                key = routing_key(envelope.schema_name, envelope.schema_major, envelope.kode_wilayah)
                body = codec.dumps(stamped.model_dump(mode="json", exclude_none=False))
                outgoing.setdefault((exchange, key), []).append((envelope.message_id, body))
                self._count(envelope, "forwarded" if decision.verdict == "forward" else "held")
                log.info(
                    "level_decision",
                    node=self._rules.node,
                    message_id=envelope.message_id,
                    schema=envelope.schema_name,
                    verdict=decision.verdict,
                    reason=decision.reason,
                )
        for (exchange, key), records in outgoing.items():
            for chunk in _chunks(records, self._max_batch_bytes):
                await self._publish(exchange, key, chunk)
        faultpoints.reach("level_forwarded_before_ack")
        for delivery in keep:
            await delivery.ack()

    async def _publish(self, exchange: str, key: str, records: list[tuple[str, bytes]]) -> None:
        message_id = codec.group_id([message_id for message_id, _ in records])
        await self._transport.publish(
            exchange,
            key,
            codec.join_batch([body for _, body in records]),
            message_id=message_id,
            headers={codec.FORMAT_HEADER: codec.FORMAT, codec.COUNT_HEADER: len(records)},
        )

    async def _check(self, item: dict[str, Any]) -> Envelope | None:
        try:
            envelope = Envelope.model_validate(item)
            get_schema(envelope.schema_name, envelope.schema_version).model.model_validate(envelope.payload)
            if self._verify is not None:
                self._verify(envelope)
        except ValidationError as exc:
            err: RecordError = ValidationFailed(
                "not a valid envelope or payload at this level", issues=issues_from(exc)
            )
        except RecordError as exc:
            err = exc
        else:
            return envelope
        self._metrics.level_records.labels(
            level=self._rules.level,
            schema=str(item.get("schema_name")),
            province=str(item.get("kode_wilayah", ""))[:2],
            outcome="refused",
        ).inc()
        await quarantine_item(self._quarantiner, self.name, item, err)
        return None

    def _count(self, envelope: Envelope, outcome: str) -> None:
        self._metrics.level_records.labels(
            level=self._rules.level,
            schema=envelope.schema_name,
            province=envelope.kode_wilayah[:2],
            outcome=outcome,
        ).inc()


def _chunks(records: list[tuple[str, bytes]], max_bytes: int) -> list[list[tuple[str, bytes]]]:
    """Split ``records`` into groups whose joined body stays under ``max_bytes`` (one record at least)."""
    chunks: list[list[tuple[str, bytes]]] = [[]]
    size = 2
    for record in records:
        if chunks[-1] and size + len(record[1]) + 1 > max_bytes:
            chunks.append([])
            size = 2
        chunks[-1].append(record)
        size += len(record[1]) + 1
    return chunks
