"""An envelope as a warehouse row: the part every warehouse shares (``adapters.sqlite_sink.rows.serialise``:
canonical payload, content hash, lineage record), plus the typed columns consumers query.

Typed columns derived from the payload, whatever its schema:

* ``province`` / ``kab_kota``: the first one / two words of the kode wilayah (``32.01.05`` -> ``32``,
  ``32.01``; a province-level record has no kab_kota);
* ``period`` with ``period_start`` / ``period_end``, and ``status``: the domain rules of
  ``schemas.periods`` (``period_of``, ``status_of``); NULL when the payload names none.
"""

from __future__ import annotations

import re

from adapters.sqlite_sink.rows import PreparedRow, serialise
from hub.quarantine.entry import province_of
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
    """The PostgreSQL row of one envelope: the shared ``serialise`` plus the typed columns. Raises
    (pydantic errors) only if its payload is not JSON-able at all."""
    s = serialise(envelope)
    period, start, end = period_of(envelope.payload)
    values = (
        envelope.record_key,
        envelope.schema_name,
        envelope.schema_version,
        envelope.source.system,
        envelope.source_record_id,
        envelope.kode_wilayah,
        province_of(envelope.kode_wilayah),
        kab_kota_of(envelope.kode_wilayah),
        period,
        start,
        end,
        status_of(envelope.payload),
        envelope.revision,
        envelope.idempotency_key,
        envelope.message_id,
        envelope.op,
        s.state,
        s.content_hash,
        jsonb_text(s.payload_json),
        jsonb_text(s.envelope_json),
        envelope.occurred_at,
        envelope.received_at,
    )
    return PreparedRow(
        envelope.record_key,
        envelope.idempotency_key,
        envelope.revision,
        s.content_hash,
        values,
        envelope.message_id,
        jsonb_text(s.trace),
    )
