"""What a source hands to the pipeline, and what a mapping turns it into.

A source adapter reads a raw record and wraps it in a ``SourceRecord`` (the raw data plus who sent it
and what the source already knows about it). A ``Mapper`` turns it into a ``MappedRecord``: a payload in
the target schema's shape plus the record's identity (source record id, revision, op, times).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from schemas.classification import Classification
from schemas.envelope import Note, SourceIdentity

Op = Literal["upsert", "withdraw"]


@dataclass(frozen=True)
class SourceRecord:
    """One raw record as read from a source system. ``raw`` may hold personal data: never log it."""

    schema: str
    raw: Mapping[str, Any]
    source: SourceIdentity
    source_record_id: str | None = None
    revision: int | None = None
    op: Op = "upsert"
    occurred_at: datetime | None = None
    reported_at: datetime | None = None
    classification: Classification | None = None
    correlation_id: str | None = None
    original: bytes | None = field(default=None, repr=False)
    # A version the sender pinned (``1.0.0``; HTTP ``POST /v1/records/NAME@1``), else the current one.
    schema_version: str | None = None


@dataclass(frozen=True)
class MappedRecord:
    """A payload in the shape of the target schema, and the identity of the record it came from."""

    payload: Mapping[str, Any]
    source_record_id: str
    revision: int
    op: Op = "upsert"
    occurred_at: datetime | None = None
    reported_at: datetime | None = None
    classification: Classification | None = None
    mapping_version: str | None = None
    notes: tuple[Note, ...] = ()  # how values were obtained (unparseable raw text, ...): Envelope.notes


class Mapper(Protocol):
    """Turns a raw record into a mapped one, or raises ``MappingError`` saying which field and why."""

    def __call__(self, record: SourceRecord) -> MappedRecord: ...


def passthrough(record: SourceRecord) -> MappedRecord:
    """The mapping for sources that already send the schema's shape (e.g. HTTP ingest).

    Identity comes from the source record; a missing id or revision is a mapping error.
    """
    from hub.errors import FieldIssue, MappingError

    issues = []
    if not record.source_record_id:
        issues.append(FieldIssue("id", "missing", "the source record id is required"))
    if record.revision is None:
        issues.append(FieldIssue("revision", "missing", "the record revision is required"))
    if issues:
        raise MappingError("record identity incomplete", issues=issues)
    assert record.source_record_id is not None and record.revision is not None
    return MappedRecord(
        payload=record.raw,
        source_record_id=record.source_record_id,
        revision=record.revision,
        op=record.op,
        occurred_at=record.occurred_at,
        reported_at=record.reported_at,
        classification=record.classification,
    )
