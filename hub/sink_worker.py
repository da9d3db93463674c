"""The sink worker: decode, re-validate, write durably, then ack.

Per AMQP message (which may carry many records): a body that is not a batch of envelopes is
dead-lettered (kept in the dead queue); an envelope that fails re-validation, or whose revision conflicts
with what is stored, is quarantined (stage ``consume``); the rest are written in one call to the sink.
Every delivery of the group is acked only after the sink's commit and the quarantine confirms.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError

from hub import codec
from hub.catalog.upcast import upcast_for_sink
from hub.errors import FieldIssue, RecordError, ValidationFailed
from hub.metrics import Metrics
from hub.quarantiner import Quarantiner
from hub.sink import CONFLICT, Sink
from hub.transport.base import Delivery
from hub.validation import issues_from
from schemas.catalog import get as get_schema
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)


class SinkWorker:
    """The ``BatchConsumer`` handler that feeds one sink."""

    def __init__(self, sink: Sink, quarantiner: Quarantiner, metrics: Metrics) -> None:
        self._sink = sink
        self._quarantiner = quarantiner
        self._metrics = metrics

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        envelopes: list[Envelope] = []
        keep: list[Delivery] = []
        for delivery in deliveries:
            try:
                items = codec.split_batch(delivery.body)
            except ValueError as exc:
                log.error(
                    "message_dead_lettered",
                    sink=self._sink.name,
                    message_id=delivery.message_id,
                    reason=str(exc),
                )
                await delivery.reject(requeue=False)
                continue
            keep.append(delivery)
            for item in items:
                envelope = await self._check(item)
                if envelope is not None:
                    envelopes.append(envelope)
        if envelopes:
            results = await self._sink.write(envelopes)
            now = datetime.now(UTC)
            for envelope, result in zip(envelopes, results, strict=True):
                self._metrics.sink_records.labels(
                    adapter=self._sink.name, schema=envelope.schema_name, outcome=result.status
                ).inc()
                if result.status == CONFLICT:
                    await self._quarantine(
                        envelope.model_dump(mode="json"),
                        RecordError(
                            "a different record was already stored under the same revision",
                            issues=[
                                FieldIssue("revision", "revision_conflict", "bump the revision on change")
                            ],
                            reason="revision_conflict",
                        ),
                    )
                else:
                    self._metrics.end_to_end_latency.labels(adapter=self._sink.name).observe(
                        (now - envelope.received_at).total_seconds()
                    )
                log.info(
                    "record_applied",
                    sink=self._sink.name,
                    schema=envelope.schema_name,
                    message_id=envelope.message_id,
                    outcome=result.status,
                )
        for delivery in keep:
            await delivery.ack()

    async def _check(self, item: dict[str, Any]) -> Envelope | None:
        try:
            envelope = Envelope.model_validate(item)
        except ValidationError as exc:
            await self._quarantine(item, ValidationFailed("not a valid envelope", issues=issues_from(exc)))
            return None
        try:
            envelope = upcast_for_sink(envelope, self._metrics)  # sinks see the current version only
            spec = get_schema(envelope.schema_name)
            spec.model.model_validate(envelope.payload)
        except RecordError as err:
            await self._quarantine(item, err)
            return None
        except ValidationError as exc:
            await self._quarantine(
                item,
                ValidationFailed(
                    "payload does not fit its schema at the sink", issues=issues_from(exc, "payload.")
                ),
            )
            return None
        return envelope

    async def _quarantine(self, item: dict[str, Any], err: RecordError) -> None:
        self._metrics.sink_records.labels(
            adapter=self._sink.name, schema=str(item.get("schema_name")), outcome="quarantined"
        ).inc()
        await quarantine_item(self._quarantiner, self._sink.name, item, err)


async def quarantine_item(
    quarantiner: Quarantiner, consumer: str, item: dict[str, Any], err: RecordError
) -> None:
    """File one consumed envelope (``item``, as decoded) in quarantine at stage ``consume``, with
    ``err`` as the reason; returns after the broker confirmed the entry."""
    source = item.get("source") if isinstance(item.get("source"), dict) else {}
    assert isinstance(source, dict)
    payload = item.get("payload")
    await quarantiner.put(
        err,
        stage="consume",
        adapter=consumer,
        source_system=str(source.get("system", "unknown")),
        office=_str_or_none(source.get("office")),
        raw=payload if isinstance(payload, dict) else {},
        original=codec.dumps(item),
        schema_name=_str_or_none(item.get("schema_name")),
        schema_version=_str_or_none(item.get("schema_version")),
        kode_wilayah=_str_or_none(item.get("kode_wilayah")),
        source_record_id=_str_or_none(item.get("source_record_id")),
        revision=item.get("revision") if isinstance(item.get("revision"), int) else None,
        correlation_id=_str_or_none(item.get("correlation_id")),
        pii_keys=frozenset(p.rsplit(".", 1)[-1] for p in item.get("pii", []) if isinstance(p, str)),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
