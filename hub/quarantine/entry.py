"""Quarantine entries: a record that did not fit, with the reason, a masked preview and the sealed original.

An entry never holds personal data in the clear: ``preview`` is masked (NIKs, phone numbers, names of PII
fields, free text such as ``uraian``), and the untouched original is kept only as ``sealed_original`` (AES-GCM
with the deployment's quarantine key) so that an operator can fix and redrive it without seeing it in logs.
``entry_id`` is deterministic, so quarantining the same bad record twice yields one entry.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.pii import mask_mapping


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


@functools.cache
def free_text_keys() -> frozenset[str]:
    """Leaf names of every free-text field (``FreeText``, marked ``x-redacted``) of every schema version."""
    from schemas.catalog import all_versions

    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                options = [prop, *prop.get("anyOf", [])] if isinstance(prop, dict) else []
                if any(isinstance(o, dict) and o.get("x-redacted") for o in options):
                    found.add(name.lower())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for spec in all_versions():
        walk(spec.model.model_json_schema())
    return frozenset(found)


def preview(raw: Mapping[str, Any], pii_keys: Iterable[str]) -> dict[str, Any]:
    """The masked preview kept with a quarantined record: personal fields and free text ``***``, NIKs and
    phone numbers in every other string redacted. Free text stays masked here because the preview is
    stored and listed to every reader, and a redacted description may still name people (the redaction
    finds NIKs and phone numbers, not names); ``as_stored`` shows it to an operator on request."""
    return mask_mapping(raw, pii_keys)


def as_stored(raw: Mapping[str, Any], pii_keys: Iterable[str]) -> dict[str, Any]:
    """A quarantined record the way the sink would store it: personal fields ``***``, and free text (any
    schema's ``FreeText`` field by its key name) shown redacted, so an operator fixing an entry sees what a
    description says without a NIK or phone number in it. Computed from the sealed original on request
    (``GET /v1/admin/quarantine/{id}/as-stored``, act role, audited), never stored."""
    return mask_mapping(raw, pii_keys, free_text_keys())
