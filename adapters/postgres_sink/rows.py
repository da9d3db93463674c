"""An envelope as a warehouse row: the part every warehouse shares (``adapters.sqlite_sink.rows.serialise``:
canonical payload, content hash; the lineage record apart, ``trace_of``), plus the typed columns consumers
query.

Typed columns derived from the payload, whatever its schema:

* ``province`` / ``kab_kota``: the first one / two words of the kode wilayah (``32.01.05`` -> ``32``,
  ``32.01``; a province-level record has no kab_kota);
* ``period`` with ``period_start`` / ``period_end``, and ``status``: the domain rules of
  ``schemas.periods`` (``period_of``, ``status_of``); NULL when the payload names none.
"""

from __future__ import annotations

import re

from adapters.sqlite_sink.rows import (
    PreparedRow,
    canonical_payload,
    canonical_payload_json,
    content_hash,
    envelope_json,
    envelope_json_checked,
    trace_json,
    trace_json_checked,
)
from hub.consume.checked import CheckedRecord
from schemas.envelope import Envelope
from schemas.periods import period_of, status_of

COLUMNS = (
    ("record_key", "text"), ("schema_name", "text"), ("schema_version", "text"), ("source_system", "text"),
    ("source_record_id", "text"), ("kode_wilayah", "text"), ("province", "text"), ("kab_kota", "text"),
    ("period", "text"), ("period_start", "date"), ("period_end", "date"), ("status", "text"),
    ("revision", "bigint"), ("idempotency_key", "text"), ("message_id", "text"), ("op", "text"),
    ("state", "text"), ("content_hash", "text"), ("payload", "jsonb"), ("envelope", "jsonb"),
    ("occurred_at", "timestamptz"), ("received_at", "timestamptz"),
)  # fmt: skip
"""Columns written per row (``applied_at`` is the transaction's ``now()``), with their SQL types."""
_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def jsonb_text(json_text: str) -> str:
    """JSON text PostgreSQL's jsonb accepts: a ``\\u0000`` escape (jsonb refuses it) becomes U+FFFD.

    Only the stored copy changes; the content hash is taken over the canonical bytes before this.
    """
    # The regex scan cost ~40 us per 1 KB record (a third of the sink's CPU); the escape is rare.
    if "\\u0000" not in json_text:
        return json_text
    return _NUL.sub(r"\1\\ufffd", json_text)


def kab_kota_of(kode_wilayah: str) -> str | None:
    """``32.01`` for any code at or below a kab/kota; None for a province."""
    parts = kode_wilayah.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def prepare(envelope: Envelope) -> PreparedRow:
    """The PostgreSQL row of one envelope: what ``serialise`` (shared with the SQLite warehouse) computes,
    from the same functions, plus the typed columns, but the lineage record (``trace_of``, made only
    when it is stored). Raises (pydantic errors) only if its payload is not
    JSON-able at all. Written out rather than calling ``serialise``: it runs once per record on the
    sink's hot path, and every attribute read and intermediate object shows."""
    e = envelope
    payload_json = canonical_payload(e)
    content = content_hash(e.op, payload_json)
    payload = e.payload
    kode = e.kode_wilayah
    parts = kode.split(".", 2)
    period, start, end = period_of(payload)
    values = (
        e.record_key,
        e.schema_name,
        e.schema_version,
        e.source.system,
        e.source_record_id,
        kode,
        parts[0] if kode else None,  # province_of
        f"{parts[0]}.{parts[1]}" if len(parts) > 1 else None,  # kab_kota_of
        period,
        start,
        end,
        status_of(payload),
        e.revision,
        e.idempotency_key,
        e.message_id,
        e.op,
        "withdrawn" if e.op == "withdraw" else "active",
        content,
        jsonb_text(payload_json.decode()),
        jsonb_text(envelope_json(e)),
        e.occurred_at,
        e.received_at,
    )
    return PreparedRow(e.record_key, e.idempotency_key, e.revision, content, values, e.message_id)


def prepare_checked(record: CheckedRecord) -> PreparedRow:
    """``prepare`` for an envelope in its JSON form (``hub.consume.checked``, the sink worker's path for
    verified records): the same row, read from the dict; tests/unit/test_checked_record.py compares the
    two over the catalogue's examples. The dict's shape was checked, so every read below finds its type.
    The values tuple mirrors ``prepare``'s on purpose: one row from two sources, where a shared helper
    would cost a 22-argument call per record on the sink's hot path; the parity tests hold them together."""
    d = record.data
    payload = d["payload"]
    op = d["op"]
    payload_json = record.payload_json or canonical_payload_json(payload)
    content = content_hash(op, payload_json)
    kode = d["kode_wilayah"]
    parts = kode.split(".", 2)
    period, start, end = period_of(payload)
    record_key, idempotency_key, revision, message_id = (
        d["record_key"], d["idempotency_key"], d["revision"], d["message_id"]
    )  # fmt: skip
    values = (
        record_key,
        d["schema_name"],
        d["schema_version"],
        d["source"]["system"],
        d["source_record_id"],
        kode,
        parts[0] if kode else None,  # province_of
        f"{parts[0]}.{parts[1]}" if len(parts) > 1 else None,  # kab_kota_of
        period,
        start,
        end,
        status_of(payload),
        revision,
        idempotency_key,
        message_id,
        op,
        "withdrawn" if op == "withdraw" else "active",
        content,
        jsonb_text(payload_json.decode()),
        jsonb_text(envelope_json_checked(record)),
        record.occurred_at,
        record.received_at,
    )
    return PreparedRow(record_key, idempotency_key, revision, content, values, message_id)


def trace_of(envelope: Envelope) -> str:
    """The lineage record of one delivery as the applied_log stores it. Made only for the deliveries
    that get an applied_log row (``batch.log_rows``), not for every row: the ledger by exception."""
    return jsonb_text(trace_json(envelope))


def trace_of_checked(record: CheckedRecord) -> str:
    """``trace_of`` for an envelope in its JSON form (tests/unit/test_checked_record.py compares them)."""
    return jsonb_text(trace_json_checked(record))
