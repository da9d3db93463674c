"""Turning an envelope into a warehouse row: canonical payload JSON, content hash, metadata JSON."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from hub.quarantine import province_of
from schemas.envelope import Envelope

_CANON = orjson.OPT_SORT_KEYS


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """One envelope ready to write. ``values`` is in ``schema.COLUMNS`` order minus ``applied_at``."""

    record_key: str
    idempotency_key: str
    revision: int
    content_hash: str
    values: tuple[object, ...]


def content_hash(op: str, payload_json: bytes) -> str:
    """sha256 over the op and the canonical payload JSON.

    The op is part of the hash so that a withdrawal claiming the same revision as an upsert is seen as
    a conflict rather than a duplicate.
    """
    return hashlib.sha256(op.encode() + b"\x00" + payload_json).hexdigest()


def _utc_iso(value: datetime | None) -> str | None:
    # Normalised to UTC so that text comparisons of the timestamp columns order correctly.
    return None if value is None else value.astimezone(UTC).isoformat()


def prepare(envelope: Envelope) -> PreparedRow:
    """Serialise one envelope. Raises (pydantic/orjson errors) if the payload is not JSON-able."""
    meta = envelope.model_dump(mode="json")
    payload_json = orjson.dumps(meta.pop("payload"), option=_CANON)
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
        orjson.dumps(meta, option=_CANON).decode(),
        _utc_iso(envelope.occurred_at),
        _utc_iso(envelope.received_at),
    )
    return PreparedRow(envelope.record_key, envelope.idempotency_key, envelope.revision, digest, values)
