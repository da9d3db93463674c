"""Redrive: give a quarantined record another go, as it was or as an operator corrected it.

An ``ingest`` entry is re-offered through the pipeline with its original identity (source system, office,
adapter) and, for adapters with a mapping, that adapter's mapper. A ``consume`` entry (an envelope the sink
refused) is re-validated and republished. The entry is marked ``redriven`` when the record was published,
or when it failed again under a *different* entry (the correction changed it); if the very same bytes fail
again for the same reason, the entry stays open.

Signatures: a ``consume`` entry redriven as it was keeps its original signature (so a record refused as
tampered or from a revoked key is refused again). One redriven with an operator's correction is re-signed
by this node (``signer``) and stamped as received now, after its payload was validated against its schema
(a bad correction is refused with the fields at fault): this node vouches for the correction, and the
admin audit log names the operator who made it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
import structlog
from pydantic import ValidationError

from hub.errors import Conflict, NotFound, Outcome, RecordError, RequestError
from hub.ingest.issues import issues_from
from hub.ingest.items import to_source_record
from hub.ingest.pipeline import Pipeline
from hub.ingest.publisher import BatchingPublisher
from hub.model import codec
from hub.model.records import Mapper, SourceRecord, passthrough
from hub.model.router import routing_key
from hub.quarantine.entry import QuarantineEntry, as_stored, now_utc
from hub.quarantine.sealing import Sealer
from hub.quarantine.store import QuarantineStore
from hub.trust.pii import catalogue_pii_keys
from hub.trust.signing import Signer
from schemas.catalog import get as get_schema
from schemas.envelope import Envelope, SourceIdentity

log = structlog.get_logger(__name__)
HTTP_INGEST = "http_ingest"


class Redriver:
    """Redrives quarantine entries of one node."""

    def __init__(
        self,
        store: QuarantineStore,
        sealer: Sealer,
        pipeline: Pipeline,
        publisher: BatchingPublisher,
        mappers: Mapping[str, Mapper],
        signer: Signer | None = None,
    ) -> None:
        self._signer = signer
        self._store = store
        self._sealer = sealer
        self._pipeline = pipeline
        self._publisher = publisher
        self._mappers = mappers

    async def entry(self, entry_id: str) -> QuarantineEntry:
        """The entry, or ``NotFound``."""
        entry = await asyncio.to_thread(self._store.get, entry_id)
        if entry is None:
            raise NotFound(f"no quarantine entry {entry_id}")
        return entry

    async def original(self, entry_id: str) -> Any:
        """The unsealed original of an entry (personal data in the clear: callers must be authorised).
        Of a truncated entry: its size, SHA-256 and the kept head as text."""
        entry = await self.entry(entry_id)
        raw = self._sealer.unseal(entry.sealed_original)
        if entry.original_truncated:
            return {
                "original_truncated": True,
                "original_bytes": entry.original_bytes,
                "original_sha256": entry.original_sha256,
                "head": raw.decode("utf-8", errors="replace"),
            }
        return orjson.loads(raw)

    async def as_stored(self, entry_id: str) -> dict[str, Any]:
        """The entry's original the way the sink would store it (``hub.quarantine.entry.as_stored``); a
        truncated or non-object original has no such view (``Conflict``)."""
        entry = await self.entry(entry_id)
        if entry.original_truncated:
            raise Conflict(f"entry {entry_id} keeps only the head of its original: no stored view")
        raw = orjson.loads(self._sealer.unseal(entry.sealed_original))
        if not isinstance(raw, dict):
            raise Conflict(f"entry {entry_id}'s original is not a record object: no stored view")
        return as_stored(raw, catalogue_pii_keys())

    async def redrive(self, entry_id: str, replacement: Any = None) -> Outcome:
        """Re-offer one open entry (``replacement`` is the corrected original, same shape)."""
        entry = await self.entry(entry_id)
        status = await asyncio.to_thread(self._store.status_of, entry_id)
        if status is None or status[0] != "open":
            raise Conflict(f"entry {entry_id} is {status[0] if status else 'unknown'}, not open")
        if entry.original_truncated and replacement is None:
            raise Conflict(
                f"entry {entry_id} kept only the head of a {entry.original_bytes}-byte original; redrive it "
                "with a corrected original, or have the sender resend the record"
            )
        original = replacement if replacement is not None else await self.original(entry_id)
        if entry.stage == "ingest":
            outcome = await self._reoffer(entry, original)
        else:
            outcome = await self._republish(original, corrected=replacement is not None)
        # A row the mapping now skips (a skip rule added since) is done too: nothing left to redrive.
        if outcome.status in ("published", "skipped") or (outcome.entry_id and outcome.entry_id != entry_id):
            await asyncio.to_thread(self._store.mark, entry_id, "redriven")
        log.info(
            "quarantine_redriven",
            entry_id=entry_id,
            outcome=outcome.status,
            corrected=replacement is not None,
            new_entry=outcome.entry_id,
        )
        return outcome

    async def discard(self, entry_id: str) -> None:
        """Mark an open entry as discarded (an operator's decision; the entry itself is kept)."""
        await self.entry(entry_id)
        await asyncio.to_thread(self._store.mark, entry_id, "discarded")

    async def _reoffer(self, entry: QuarantineEntry, original: Any) -> Outcome:
        if entry.schema_name is None:
            raise RequestError("the entry names no schema; it cannot be re-offered")
        identity = SourceIdentity(
            system=entry.source_system, office=entry.office or "pusat", adapter=entry.adapter
        )
        if entry.adapter == HTTP_INGEST:
            record, error = to_source_record(original, entry.schema_name, identity, entry.schema_version)
            if error is not None:
                return await self._pipeline.quarantine(record, error)
            return await self._pipeline.offer(record)
        if not isinstance(original, dict):
            raise RequestError("the original of a source record must be a JSON object")
        record = SourceRecord(
            schema=entry.schema_name,
            schema_version=entry.schema_version,
            raw=original,
            source=identity,
            source_record_id=entry.source_record_id,
            revision=entry.revision,
            original=codec.dumps(original),
        )
        return await self._pipeline.offer(record, self._mappers.get(entry.adapter, passthrough))

    async def _republish(self, original: Any, *, corrected: bool = False) -> Outcome:
        try:
            envelope = Envelope.model_validate(original)
        except ValidationError as exc:
            issues = "; ".join(f"{i.loc}: {i.rule}" for i in issues_from(exc))
            raise RequestError(f"the corrected envelope is invalid ({issues})") from None
        if corrected and self._signer is not None:
            # Signing vouches that the record was validated (the sink does not validate a verified
            # payload again), so the operator's payload is checked here, as ingest would.
            try:
                get_schema(envelope.schema_name, envelope.schema_version).model.model_validate(
                    envelope.payload
                )
            except RecordError as err:
                raise RequestError(f"the corrected envelope is invalid ({err})") from None
            except ValidationError as exc:
                issues = "; ".join(f"{i.loc}: {i.rule}" for i in issues_from(exc, "payload."))
                raise RequestError(f"the corrected payload does not fit its schema ({issues})") from None
            # Through the model, so the signed time is in pydantic's JSON form (what a re-dump gives).
            envelope = envelope.model_copy(update={"received_at": now_utc()})
        data = envelope.model_dump(mode="json")
        if corrected and self._signer is not None:
            data["signature"] = self._signer.sign(data)
        body = codec.dumps(data)
        key = routing_key(envelope.schema_name, envelope.schema_major, envelope.kode_wilayah)
        await self._publisher.submit(key, body, envelope.message_id)
        return Outcome("published", message_id=envelope.message_id)
