"""Turning an envelope into a warehouse row: canonical payload JSON, content hash, metadata JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from hub.quarantine.entry import province_of
from schemas.envelope import Envelope

_CANON = orjson.OPT_SORT_KEYS
# The fast path serialises the payload as it is, but refuses (TypeError) anything whose JSON form
# pydantic defines differently from orjson (dates, dataclasses, str/int subclasses...), so both paths
# give the same bytes, and so the same hash, for the same content.
_FAST = (
    _CANON
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """One envelope ready to write. ``values``: ``schema.COLUMNS`` order minus the last two columns
    (``applied_at`` and ``change_seq``, set by the store)."""

    record_key: str
    idempotency_key: str
    revision: int
    content_hash: str
    values: tuple[object, ...]
    message_id: str = ""
    trace: str = ""


def trace_json(envelope: Envelope) -> str:
    """What the applied log keeps of a delivery for lineage: origin (source, schema version, mapping
    version, receipt) and the hops of ``envelope.lineage``. Small (no payload), built by hand: cheap."""
    return orjson.dumps(
        {
            "schema": f"{envelope.schema_name}@{envelope.schema_version}",
            "system": envelope.source.system,
            "office": envelope.source.office,
            "adapter": envelope.source.adapter,
            "mapping_version": envelope.mapping_version,
            "source_record_id": envelope.source_record_id,
            "kode_wilayah": envelope.kode_wilayah,
            "received_at": _utc_iso(envelope.received_at),
            "hops": [[h.node, h.level, _utc_iso(h.at), h.status] for h in envelope.lineage],
        }
    ).decode()


def content_hash(op: str, payload_json: bytes) -> str:
    """sha256 over the op and the canonical payload JSON.

    The op is part of the hash so that a withdrawal claiming the same revision as an upsert is seen as
    a conflict rather than a duplicate.
    """
    return hashlib.sha256(op.encode() + b"\x00" + payload_json).hexdigest()


def _utc_iso(value: datetime | None) -> str | None:
    # Normalised to UTC so that text comparisons of the timestamp columns order correctly.
    return None if value is None else value.astimezone(UTC).isoformat()


def canonical_payload(envelope: Envelope) -> bytes:
    """The payload as canonical JSON: keys sorted, no whitespace, in pydantic's JSON mode.

    A payload parsed from JSON (the consumer's case) takes the fast path. Other payloads go through
    ``model_dump(mode="json")``; integers beyond 64 bits, which orjson refuses, fall back to the standard
    library so that such a record is stored rather than failing its whole batch forever.
    """
    try:
        return orjson.dumps(envelope.payload, option=_FAST)
    except TypeError:
        pass
    payload = envelope.model_dump(mode="json", include={"payload"})["payload"]
    try:
        return orjson.dumps(payload, option=_CANON)
    except TypeError:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def prepare(envelope: Envelope) -> PreparedRow:
    """Serialise one envelope. Raises (pydantic errors) only if the payload is not JSON-able at all."""
    payload_json = canonical_payload(envelope)
    digest = content_hash(envelope.op, payload_json)
    state = "withdrawn" if envelope.op == "withdraw" else "active"
    values = (
        envelope.record_key,
        envelope.schema_name,
        envelope.schema_version,
        envelope.source.system,
        envelope.source_record_id,
        envelope.kode_wilayah,
        province_of(envelope.kode_wilayah),
        envelope.revision,
        envelope.idempotency_key,
        envelope.message_id,
        envelope.op,
        state,
        digest,
        payload_json.decode(),
        envelope.model_dump_json(exclude={"payload"}),
        _utc_iso(envelope.occurred_at),
        _utc_iso(envelope.received_at),
    )
    return PreparedRow(
        envelope.record_key,
        envelope.idempotency_key,
        envelope.revision,
        digest,
        values,
        envelope.message_id,
        trace_json(envelope),
    )
