"""Puts bad records into quarantine: a durable, confirmed message on the quarantine exchange.

The entry carries the reason, field issues (never values), a masked preview and the sealed original. It
is published with a confirm before the source is acknowledged, so a quarantined record is never lost.
A node's quarantine consumer then files it in the ``QuarantineStore`` for listing and redrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import structlog

from hub import codec
from hub.errors import RecordError
from hub.metrics import Metrics
from hub.quarantine import QuarantineEntry, make_entry_id, now_utc, province_of
from hub.router import quarantine_key
from hub.sealing import Sealer
from hub.transport.base import Transport
from schemas.envelope import make_idempotency_key, make_message_id, make_record_key
from schemas.pii import mask_mapping

log = structlog.get_logger(__name__)


class Quarantiner:
    """Builds quarantine entries and publishes them with a confirm."""

    def __init__(self, transport: Transport, exchange: str, sealer: Sealer, node: str, metrics: Metrics):
        self._transport = transport
        self._exchange = exchange
        self._sealer = sealer
        self._node = node
        self._metrics = metrics

    async def put(
        self,
        error: RecordError,
        *,
        stage: Literal["ingest", "consume"],
        adapter: str,
        source_system: str,
        raw: Mapping[str, Any],
        original: bytes,
        office: str | None = None,
        schema_name: str | None = None,
        schema_version: str | None = None,
        kode_wilayah: str | None = None,
        source_record_id: str | None = None,
        revision: int | None = None,
        correlation_id: str | None = None,
        pii_keys: frozenset[str] = frozenset(),
        message_id: str | None = None,
    ) -> QuarantineEntry:
        """File one bad record; returns after the broker confirmed the entry. ``message_id`` defaults to
        the one the record's identity gives (see ``QuarantineEntry.message_id``)."""
        if message_id is None and schema_name and source_record_id and revision is not None:
            record_key = make_record_key(schema_name.split("@", 1)[0], source_system, source_record_id)
            message_id = make_message_id(make_idempotency_key(record_key, revision))
        entry = QuarantineEntry(
            entry_id=make_entry_id(stage, source_system, original, error.reason),
            stage=stage,
            node=self._node,
            adapter=adapter,
            source_system=source_system,
            office=office,
            schema_name=schema_name,
            schema_version=schema_version,
            kode_wilayah=kode_wilayah,
            province=province_of(kode_wilayah),
            source_record_id=source_record_id,
            revision=revision,
            reason=error.reason,
            message=str(error),
            issues=[issue.as_dict() for issue in error.issues],
            preview=mask_mapping(raw, set(pii_keys)),
            sealed_original=self._sealer.seal(original),
            quarantined_at=now_utc(),
            correlation_id=correlation_id,
            message_id=message_id,
        )
        await self._transport.publish(
            self._exchange,
            quarantine_key(schema_name, entry.province),
            codec.dumps(entry.model_dump(mode="json")),
            message_id=entry.entry_id,
            headers={"x-simpul-reason": error.reason},
        )
        log.info(
            "record_quarantined",
            stage=stage,
            adapter=adapter,
            schema=schema_name,
            province=entry.province,
            reason=error.reason,
            entry_id=entry.entry_id,
            issues=[f"{i.loc}:{i.rule}" for i in error.issues][:10],
        )
        return entry
