"""The Envelope: what travels on the bus around every payload.

Identity rules (never random, so a re-sent record dedupes):

* ``record_key``      = H(schema name, source system, source record id): the record across revisions;
* ``idempotency_key`` = H(record_key, revision): one revision of one record;
* ``message_id``      = UUIDv5 of the idempotency key.

The sink keeps one row per ``record_key``: a higher ``revision`` wins, an equal one is a duplicate, a
``withdraw`` op with a higher revision marks the record withdrawn.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.classification import Classification

ENVELOPE_SPEC = "simpul.envelope/1"
_NAMESPACE = uuid.UUID("5a1e0d1c-6b8f-4d0e-9c57-53494d50554c")
_NAMESPACE_BYTES = _NAMESPACE.bytes


def _h(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def make_record_key(schema_name: str, source_system: str, source_record_id: str) -> str:
    """The stable key of one source record across its revisions."""
    return _h(schema_name, source_system, source_record_id)


def make_idempotency_key(record_key: str, revision: int) -> str:
    """The key of one revision of one record: equal for a re-sent record, so the sink can dedupe."""
    return _h(record_key, str(revision))


def make_message_id(idempotency_key: str) -> str:
    """A deterministic message id (UUIDv5) for one revision of one record.

    ``str(uuid.uuid5(_NAMESPACE, idempotency_key))`` computed directly (RFC 4122: SHA-1 of namespace and
    name, version and variant bits set): the ``uuid`` module's object costs ~5 us a record on the ingest
    path; tests/unit/test_envelope_fast.py checks the two agree."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + idempotency_key.encode(), usedforsecurity=False).digest()
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class SourceIdentity(BaseModel):
    """Who sent the record: the source system, the office (its kode wilayah) and the adapter instance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str = Field(min_length=1, max_length=100, description="Source system id, e.g. sitimdu-bogor")
    office: str = Field(description="Kode wilayah of the sending office (its Kesbangpol)")
    adapter: str = Field(min_length=1, max_length=100, description="Adapter instance that read the record")


class Hop(BaseModel):
    """One level a record passed on its way up (lineage)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str
    level: str
    at: AwareDatetime
    status: str = "diteruskan"


class Note(BaseModel):
    """How one value of the record was obtained when it is not simply the source's value: a value left
    unknown because it did not parse (``value_unparseable``, with the raw text masked as PII rules say),
    a region accepted as a successor of the office's area (``region_successor``). Never a guessed value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    loc: str = Field(max_length=200, description="Payload path the note is about (kode_wilayah, waktu)")
    rule: str = Field(max_length=64, description="What happened: value_unparseable, region_successor")
    detail: str = Field(max_length=500, description="The reason, and the masked raw text if any")


class Envelope(BaseModel):
    """The envelope around a normalized payload. Immutable; build it with ``hub.envelope.wrap``."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    spec: Literal["simpul.envelope/1"] = "simpul.envelope/1"
    message_id: str
    schema_name: str
    schema_version: str
    op: Literal["upsert", "withdraw"] = "upsert"
    source_record_id: str = Field(min_length=1, max_length=200)
    revision: int = Field(ge=0)
    record_key: str
    idempotency_key: str
    source: SourceIdentity
    kode_wilayah: str
    region_ref: str = Field(description="Reference-data version of the kode wilayah")
    occurred_at: AwareDatetime | None = None
    reported_at: AwareDatetime
    received_at: AwareDatetime
    classification: Classification = Classification.TERBATAS
    pii: tuple[str, ...] = Field(default=(), description="Payload paths that hold personal data")
    correlation_id: str | None = None
    mapping_version: str | None = None
    # Left out of the JSON form when empty, so envelopes without notes keep their bytes (and signatures).
    notes: tuple[Note, ...] = Field(
        default=(), exclude_if=lambda notes: not notes, description="How values were obtained (see Note)"
    )
    lineage: tuple[Hop, ...] = ()
    signature: str | None = None
    payload: dict[str, Any]

    @property
    def schema_major(self) -> int:
        return int(self.schema_version.split(".", 1)[0])


def utc_now() -> datetime:
    """Now, timezone-aware (UTC)."""
    from datetime import UTC

    return datetime.now(UTC)
