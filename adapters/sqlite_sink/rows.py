"""Turning an envelope into a warehouse row: canonical payload JSON, content hash, metadata JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import orjson
from pydantic import AwareDatetime, TypeAdapter

from hub.consume.checked import CheckedRecord
from hub.quarantine.entry import province_of
from schemas.envelope import Envelope, Hop, Note, SourceIdentity

_CANON = orjson.OPT_SORT_KEYS
_ENVELOPE = orjson.OPT_UTC_Z  # pydantic writes a timestamp at offset zero with "Z"
_ZERO = timedelta(0)
_ENVELOPE_FIELDS = len(Envelope.model_fields)
_FIXED_TYPES = (timezone, type(TypeAdapter(AwareDatetime).validate_python("2000-01-01T00:00:00Z").tzinfo))
"""Time zone types of one fixed offset: ``datetime.timezone`` and pydantic's ``TzInfo``."""
_FIXED_ZONES: dict[object, timedelta | None] = {}
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
    """One envelope ready to write to a warehouse (this one or ``adapters.postgres_sink``): its identity,
    content hash and lineage record, and ``values`` in that warehouse's column order (here:
    ``schema.COLUMNS`` minus ``applied_at`` and ``change_seq``, which the store sets)."""

    record_key: str
    idempotency_key: str
    revision: int
    content_hash: str
    values: tuple[object, ...]
    message_id: str = ""
    trace: str = ""


@dataclass(slots=True)  # not frozen: built per record on the write path, and frozen init is slower
class Serialised:
    """What every warehouse stores of an envelope, computed once by ``serialise``: the canonical payload
    JSON and its content hash (so both warehouses agree on what "the same content" is), the envelope's
    JSON without the payload, the row state and the lineage record (``trace_json``)."""

    payload_json: str
    envelope_json: str
    content_hash: str
    state: str
    trace: str


def serialise(envelope: Envelope) -> Serialised:
    """The shared part of preparing a warehouse row. Raises (pydantic errors) only if the payload is not
    JSON-able at all, so a bad record fails before any I/O."""
    payload_json = canonical_payload(envelope)
    return Serialised(
        payload_json.decode(),
        envelope_json(envelope),
        content_hash(envelope.op, payload_json),
        "withdrawn" if envelope.op == "withdraw" else "active",
        trace_json(envelope),
    )


def envelope_json(envelope: Envelope) -> str:
    """The envelope's JSON without the payload: exactly ``envelope.model_dump_json(exclude={"payload"})``
    (the same bytes, so stored rows do not change) at a fraction of the cost: the field values straight
    from the model's ``__dict__`` (in field order, however the model was built), nested models as dicts,
    one orjson call. orjson writes strings, numbers, enums and timestamps (``OPT_UTC_Z``) as pydantic
    does. Anything not of the declared types (an envelope built with ``model_construct`` from other
    values, a subclass) takes pydantic's own serialiser, and so does anything orjson refuses."""
    fields = envelope.__dict__
    src = fields["source"]
    lineage = fields["lineage"]
    notes = fields["notes"]
    occurred = fields["occurred_at"]
    if (
        type(envelope) is not Envelope
        or len(fields) != _ENVELOPE_FIELDS
        or type(src) is not SourceIdentity
        or not _minute_offset(fields["received_at"])
        or not _minute_offset(fields["reported_at"])
        or (occurred is not None and not _minute_offset(occurred))
        or (lineage and any(type(h) is not Hop or not _minute_offset(h.at) for h in lineage))
        or (notes and any(type(n) is not Note for n in notes))
    ):
        return envelope.model_dump_json(exclude={"payload"})
    out = dict(fields)
    del out["payload"]
    out["source"] = src.__dict__
    if notes:
        out["notes"] = [n.__dict__ for n in notes]
    else:  # ``exclude_if``: no key at all when there are none
        del out["notes"]
    out["lineage"] = [h.__dict__ for h in lineage]
    try:
        return orjson.dumps(out, option=_ENVELOPE).decode()
    except TypeError:
        return envelope.model_dump_json(exclude={"payload"})


def _offset(value: datetime) -> timedelta | None:
    """``value.utcoffset()``, remembered per fixed offset time zone (the stdlib's and pydantic's own):
    asking the zone costs more than everything else done with a timestamp here."""
    tz = value.tzinfo
    if type(tz) not in _FIXED_TYPES:
        return value.utcoffset()
    offset = _FIXED_ZONES.get(tz)
    if offset is None:
        offset = value.utcoffset()
        if len(_FIXED_ZONES) < 1000:
            _FIXED_ZONES[tz] = offset
    return offset


def _minute_offset(value: datetime) -> bool:
    """Whether orjson writes this timestamp as pydantic does: aware, at an offset of whole minutes
    (pydantic drops the seconds of an offset like +07:07:12, orjson rounds them)."""
    offset = _offset(value)
    return offset is not None and not (offset.seconds % 60 or offset.microseconds)


def trace_json(envelope: Envelope) -> str:
    """What the applied log keeps of a delivery for lineage: origin (source, schema version, mapping
    version, receipt), the hops of ``envelope.lineage`` and, when it has any, ``envelope.notes`` (why a
    field is unknown, why a moved region was accepted) exactly as the envelope carries them, i.e. masked
    by the validator as stored. Small (no payload), built by hand: cheap."""
    src = envelope.source
    trace: dict[str, object] = {
        "schema": f"{envelope.schema_name}@{envelope.schema_version}",
        "system": src.system,
        "office": src.office,
        "adapter": src.adapter,
        "mapping_version": envelope.mapping_version,
        "source_record_id": envelope.source_record_id,
        "kode_wilayah": envelope.kode_wilayah,
        "received_at": _utc(envelope.received_at),
        "hops": [[h.node, h.level, _utc(h.at), h.status] for h in envelope.lineage],
    }
    if envelope.notes:
        trace["notes"] = [{"loc": n.loc, "rule": n.rule, "detail": n.detail} for n in envelope.notes]
    try:
        return orjson.dumps(trace).decode()
    except TypeError:  # a timestamp orjson would not write as isoformat() does (see _utc)
        trace["received_at"] = _utc_iso(envelope.received_at)
        trace["hops"] = [[h.node, h.level, _utc_iso(h.at), h.status] for h in envelope.lineage]
        return orjson.dumps(trace).decode()


def trace_json_checked(record: CheckedRecord) -> str:
    """``trace_json`` of an envelope in its JSON form (``hub.consume.checked``): the same lineage record
    (tests/unit/test_checked_record.py compares them)."""
    data = record.data
    src = data["source"]
    trace: dict[str, object] = {
        "schema": f"{data['schema_name']}@{data['schema_version']}",
        "system": src["system"],
        "office": src["office"],
        "adapter": src["adapter"],
        "mapping_version": data["mapping_version"],
        "source_record_id": data["source_record_id"],
        "kode_wilayah": data["kode_wilayah"],
        "received_at": _utc(record.received_at),
        "hops": [
            [h["node"], h["level"], _utc_iso(datetime.fromisoformat(h["at"])), h["status"]]
            for h in data["lineage"]
        ],
    }
    notes = data.get("notes")
    if notes:
        trace["notes"] = [{"loc": n["loc"], "rule": n["rule"], "detail": n["detail"]} for n in notes]
    try:
        return orjson.dumps(trace).decode()
    except TypeError:  # a timestamp orjson would not write as isoformat() does (see _utc)
        trace["received_at"] = _utc_iso(record.received_at)
        return orjson.dumps(trace).decode()


def content_hash(op: str, payload_json: bytes) -> str:
    """sha256 over the op and the canonical payload JSON.

    The op is part of the hash so that a withdrawal claiming the same revision as an upsert is seen as
    a conflict rather than a duplicate.
    """
    return hashlib.sha256(op.encode() + b"\x00" + payload_json).hexdigest()


def _utc(value: datetime | None) -> datetime | str | None:
    """``_utc_iso(value)`` as orjson will write it: a datetime already at offset zero goes as it is (orjson
    writes it as ``isoformat()`` does, ``+00:00`` included), saving the conversion and the string."""
    if type(value) is datetime and _offset(value) == _ZERO:
        return value
    return _utc_iso(value)


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


def canonical_payload_json(payload: dict[str, object]) -> bytes:
    """``canonical_payload`` of a payload decoded from JSON (``hub.consume.checked``): the same bytes;
    integers beyond 64 bits, which orjson refuses, go through the standard library as there."""
    try:
        return orjson.dumps(payload, option=_CANON)
    except TypeError:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def envelope_json_checked(record: CheckedRecord) -> str:
    """``envelope_json`` of an envelope in its JSON form: its fields but the payload, as they arrived
    (the warehouse stores them as jsonb, where key order and spacing do not exist)."""
    out = dict(record.data)
    del out["payload"]
    return orjson.dumps(out).decode()


def prepare(envelope: Envelope) -> PreparedRow:
    """The SQLite row of one envelope (``serialise`` plus this warehouse's columns)."""
    s = serialise(envelope)
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
        s.state,
        s.content_hash,
        s.payload_json,
        s.envelope_json,
        _utc_iso(envelope.occurred_at),
        _utc_iso(envelope.received_at),
    )
    return PreparedRow(
        envelope.record_key,
        envelope.idempotency_key,
        envelope.revision,
        s.content_hash,
        values,
        envelope.message_id,
        s.trace,
    )
