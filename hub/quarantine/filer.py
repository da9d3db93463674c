"""Puts bad records into quarantine: a durable, confirmed message on the quarantine exchange.

The entry carries the reason, field issues (never values), a masked preview and the sealed original. It
is published with a confirm before the source is acknowledged, so a quarantined record is never lost.
A node's quarantine consumer then files it in the ``QuarantineStore`` for listing and redrive.

Size: an entry is one broker message, and the broker refuses messages above ``max_message_size`` (1 MiB in
ops/rabbitmq/rabbitmq.conf), which would fail the quarantining and so the source. A record that is itself
too large (HTTP ingest takes items up to ``http.max_body_bytes``) would exceed it once sealed (base64 adds a
third). So an entry above ``max_entry_bytes`` first loses its preview (and all but the first issues); if
that is not enough it keeps only the head of the original (``original_truncated``, with the whole
original's size and SHA-256).
The reason, identity and message id stay, so the entry is listed and found by lineage; it can be redriven
only with a corrected original. Each such entry counts in ``simpul_quarantine_truncated_records_total``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Literal

import structlog

from hub.errors import RecordError
from hub.metrics import Metrics
from hub.model import codec
from hub.model.router import quarantine_key
from hub.quarantine.entry import QuarantineEntry, make_entry_id, now_utc, preview, province_of
from hub.quarantine.sealing import Sealer
from hub.transport.base import Transport
from schemas.envelope import make_idempotency_key, make_message_id, make_record_key

log = structlog.get_logger(__name__)
# Below the broker's 1 MiB max_message_size, leaving room for AMQP properties and headers.
MAX_ENTRY_BYTES = 960 * 1024
_ISSUES_KEPT = 50


class Quarantiner:
    """Builds quarantine entries and publishes them with a confirm."""

    def __init__(
        self,
        transport: Transport,
        exchange: str,
        sealer: Sealer,
        node: str,
        metrics: Metrics,
        *,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
    ):
        self._transport = transport
        self._exchange = exchange
        self._sealer = sealer
        self._node = node
        self._metrics = metrics
        self._max_entry_bytes = max_entry_bytes

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
            preview=preview(raw, pii_keys),
            sealed_original=self._sealer.seal(original),
            quarantined_at=now_utc(),
            correlation_id=correlation_id,
            message_id=message_id,
        )
        body = codec.dumps(entry.model_dump(mode="json"))
        if len(body) > self._max_entry_bytes:
            entry, body = self._shrink(entry, original, len(body))
        await self._transport.publish(
            self._exchange,
            quarantine_key(schema_name, entry.province),
            body,
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

    def _shrink(self, entry: QuarantineEntry, original: bytes, size: int) -> tuple[QuarantineEntry, bytes]:
        """``entry`` cut down to ``max_entry_bytes``: first without the preview (and with the first issues
        only), keeping the whole original if that is enough; else with the original's head sealed."""
        limit = self._max_entry_bytes
        entry = entry.model_copy(
            update={"preview": {"_omitted": "preview too large"}, "issues": entry.issues[:_ISSUES_KEPT]}
        )
        body = codec.dumps(entry.model_dump(mode="json"))
        if len(body) <= limit:
            log.warning("quarantine_preview_dropped", entry_id=entry.entry_id, entry_bytes=size)
            return entry, body
        entry = entry.model_copy(
            update={
                "sealed_original": "",
                "original_truncated": True,
                "original_bytes": len(original),
                "original_sha256": hashlib.sha256(original).hexdigest(),
            }
        )
        overhead = len(codec.dumps(entry.model_dump(mode="json")))
        keep = max(0, (limit - overhead) * 3 // 4 - 256)  # base64 grows 4/3; key id, nonce and tag
        while True:
            shrunk = entry.model_copy(update={"sealed_original": self._sealer.seal(original[:keep])})
            body = codec.dumps(shrunk.model_dump(mode="json"))
            if len(body) <= limit or keep == 0:
                break
            keep = keep * 9 // 10
        self._metrics.quarantine_truncated.labels(
            adapter=entry.adapter, schema=entry.schema_name or "unknown"
        ).inc()
        log.warning(
            "quarantine_original_truncated",
            entry_id=entry.entry_id,
            adapter=entry.adapter,
            schema=entry.schema_name,
            entry_bytes=size,
            original_bytes=len(original),
            kept_bytes=keep,
        )
        return shrunk, body
