"""Quarantine entries: a record that did not fit, with the reason, a masked preview and the sealed original.

An entry never holds personal data in the clear: ``preview`` is masked (NIKs, phone numbers, names of
PII fields), and the untouched original is kept only as ``sealed_original`` (AES-GCM with the
deployment's quarantine key) so that an operator can fix and redrive it without seeing it in logs.
``entry_id`` is deterministic, so quarantining the same bad record twice yields one entry.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class QuarantineEntry(BaseModel):
    """One quarantined record. ``stage`` is where it was stopped: ``ingest`` (at the source side of a
    node) or ``consume`` (at a sink, e.g. a revision conflict or a payload that failed re-validation)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_id: str
    stage: Literal["ingest", "consume"]
    node: str
    adapter: str
    source_system: str
    office: str | None = Field(None, description="Kode wilayah of the sending office, or 'pusat'")
    schema_name: str | None = None
    schema_version: str | None = None
    kode_wilayah: str | None = None
    province: str | None = None
    source_record_id: str | None = None
    revision: int | None = None
    reason: str
    message: str
    issues: list[dict[str, str]] = Field(default_factory=list)
    preview: dict[str, Any] = Field(default_factory=dict)
    sealed_original: str
    quarantined_at: AwareDatetime
    correlation_id: str | None = None
    original_truncated: bool = Field(
        False,
        description="The original was too large for one broker message: only its head is sealed. Such an "
        "entry is redriven only with a corrected original (the sender must resend).",
    )
    original_bytes: int | None = Field(None, description="Size of the whole original (when truncated)")
    original_sha256: str | None = Field(None, description="SHA-256 of the whole original (when truncated)")
    message_id: str | None = Field(
        None,
        description="The record's message id: the envelope's, or for a record stopped before it had one, "
        "the id it would have had (schema, source system, source id and revision are known). Lineage finds "
        "quarantined records by it.",
    )


def make_entry_id(stage: str, source_system: str, original: bytes, reason: str) -> str:
    """Same stage, source, original bytes and reason -> same id (quarantine is idempotent)."""
    h = hashlib.sha256()
    for part in (stage.encode(), source_system.encode(), reason.encode(), original):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()[:32]


def province_of(kode_wilayah: str | None) -> str | None:
    """The two-digit province code of a dotted kode wilayah, or None."""
    if not kode_wilayah:
        return None
    return kode_wilayah.split(".", 1)[0]


def now_utc() -> datetime:
    """Aware UTC now (a seam for tests)."""
    from datetime import UTC

    return datetime.now(UTC)
