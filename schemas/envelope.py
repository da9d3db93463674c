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


# ``trusted_envelope``: the JSON form as ``hub.ingest.validation`` writes it (``notes`` only if any).
_FIELD_ORDER = tuple(Envelope.model_fields)
_WIRE_KEYS = frozenset(_FIELD_ORDER) - {"notes"}
_WIRE_KEYS_WITH_NOTES = frozenset(_FIELD_ORDER)
_PLAIN_TEXT = ("message_id", "schema_name", "schema_version", "record_key", "idempotency_key", "kode_wilayah",
               "region_ref")  # fmt: skip
_SOURCE_KEYS = frozenset(SourceIdentity.model_fields)
_set = object.__setattr__


def _aware(value: object) -> datetime:
    """An aware timestamp from its JSON text; raises ``ValueError`` or ``TypeError`` otherwise."""
    at = datetime.fromisoformat(value)  # type: ignore[arg-type]  # not a str: TypeError, as wanted
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("not aware")
    return at


def _built(model: type[BaseModel], values: dict[str, Any], fields_set: set[str]) -> Any:
    """An instance of ``model`` holding ``values`` (in field order), as ``model_construct`` makes one."""
    instance = model.__new__(model)
    _set(instance, "__dict__", values)
    _set(instance, "__pydantic_fields_set__", fields_set)
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def trusted_envelope(data: dict[str, Any]) -> Envelope | None:
    """The ``Envelope`` of a JSON form that a hub validated and signed, built without validating it again;
    None if the form is not exactly of the shape and plain types the validator writes (the caller then
    validates it, which names what is wrong).

    Only for a form whose signature verified: the node that signed it built it from a validated model
    (``hub.ingest.validation``), so validating it again proves nothing (validated once). What is still
    checked here is cheap and keeps a form from another envelope version, or a bug, from passing as this
    model: the exact key set and ``spec``, the type of every scalar, the ranges the model declares, aware
    timestamps. Notes and lineage hops, rare and small, are validated by their models.

    ``Envelope.model_validate`` costs ~8-15 us a record and ``model_construct`` ~11 (a Python loop over
    the fields); this ~3-5. The instance is what ``model_construct`` would make (the same ``__dict__`` in
    field order, fields set, no extra, no private state): tests/unit/test_sink_worker_validate_once.py
    holds it equal to the validated model, in JSON and field order, for every catalogue example."""
    keys = data.keys()
    if keys != _WIRE_KEYS and keys != _WIRE_KEYS_WITH_NOTES:
        return None
    if data["spec"] != ENVELOPE_SPEC:
        return None
    try:
        for name in _PLAIN_TEXT:
            if type(data[name]) is not str:
                return None
        op, srid, revision, source = data["op"], data["source_record_id"], data["revision"], data["source"]
        if not (
            (op == "upsert" or op == "withdraw")
            and type(srid) is str
            and 0 < len(srid) <= 200
            and type(revision) is int
            and revision >= 0
            and type(source) is dict
            and source.keys() == _SOURCE_KEYS
            and all(type(v) is str for v in source.values())
            and 0 < len(source["system"]) <= 100
            and 0 < len(source["adapter"]) <= 100
            and all(data[k] is None or type(data[k]) is str for k in ("correlation_id", "mapping_version"))
            and (data["signature"] is None or type(data["signature"]) is str)
            and type(data["pii"]) is list
            and all(type(p) is str for p in data["pii"])
            and type(data["payload"]) is dict
            and type(data["lineage"]) is list
        ):
            return None
        occurred = data["occurred_at"]
        notes = data.get("notes")
        values: dict[str, Any] = {
            "spec": ENVELOPE_SPEC,
            "message_id": data["message_id"],
            "schema_name": data["schema_name"],
            "schema_version": data["schema_version"],
            "op": op,
            "source_record_id": srid,
            "revision": revision,
            "record_key": data["record_key"],
            "idempotency_key": data["idempotency_key"],
            "source": _built(SourceIdentity, dict(source), set(_SOURCE_KEYS)),
            "kode_wilayah": data["kode_wilayah"],
            "region_ref": data["region_ref"],
            "occurred_at": None if occurred is None else _aware(occurred),
            "reported_at": _aware(data["reported_at"]),
            "received_at": _aware(data["received_at"]),
            "classification": Classification(data["classification"]),
            "pii": tuple(data["pii"]),
            "correlation_id": data["correlation_id"],
            "mapping_version": data["mapping_version"],
            "notes": tuple(Note.model_validate(n) for n in notes) if notes else (),
            "lineage": tuple(Hop.model_validate(h) for h in data["lineage"]),
            "signature": data["signature"],
            "payload": data["payload"],
        }
    except (ValueError, TypeError):  # a timestamp, classification, note or hop that is not one
        return None
    return _built(Envelope, values, set(keys))  # type: ignore[no-any-return]
