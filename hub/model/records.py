"""What a source hands to the pipeline, and what a mapping turns it into.

A source adapter reads a raw record and wraps it in a ``SourceRecord`` (the raw data plus who sent it
and what the source already knows about it). A ``Mapper`` turns it into a ``MappedRecord``: a payload in
the target schema's shape plus the record's identity (source record id, revision, op, times).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any, Literal, Protocol

from hub.errors import FieldIssue, MappingError
from schemas.classification import Classification
from schemas.envelope import Note, SourceIdentity

Op = Literal["upsert", "withdraw"]
_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T](\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?")


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

    @classmethod
    def from_source(cls, record: SourceRecord, payload: Mapping[str, Any], **decided: Any) -> MappedRecord:
        """``payload`` with the identity ``record`` carries (source record id, revision, op, times,
        classification), any of them replaced by ``decided`` (what a mapping's rules made of them), plus
        ``mapping_version``. The one place a source record's identity is copied onto a mapped one.

        ``MappingError`` naming ``id`` and/or ``revision`` when the result has none.
        """
        if not decided and record.source_record_id and record.revision is not None:
            # The common case (HTTP ingest's passthrough): the source's identity as it is, without the
            # merge below (~3 us a record).
            return cls(
                payload,
                record.source_record_id,
                record.revision,
                record.op,
                record.occurred_at,
                record.reported_at,
                record.classification,
            )
        ident = {
            "source_record_id": record.source_record_id,
            "revision": record.revision,
            "op": record.op,
            "occurred_at": record.occurred_at,
            "reported_at": record.reported_at,
            "classification": record.classification,
        } | decided
        issues = []
        if not ident["source_record_id"]:
            issues.append(FieldIssue("id", "missing", "the source record id is required"))
        if ident["revision"] is None:
            issues.append(FieldIssue("revision", "missing", "the record revision is required"))
        if issues:
            raise MappingError("record identity incomplete", issues=issues)
        return cls(payload=payload, **ident)


class Mapper(Protocol):
    """Turns a raw record into a mapped one, or raises ``MappingError`` saying which field and why."""

    def __call__(self, record: SourceRecord) -> MappedRecord: ...


def passthrough(record: SourceRecord) -> MappedRecord:
    """The mapping for sources that already send the schema's shape (e.g. HTTP ingest): the raw record is
    the payload, its identity the source record's (``MappedRecord.from_source``)."""
    return MappedRecord.from_source(record, record.raw)


def revision_of(value: object, zone: tzinfo = UTC) -> int | None:
    """The one rule by which a source turns a field into a record revision (an integer that grows with
    each change of the record):

    * a non-negative integer (``int``, an integral ``Decimal``, or digits) is the revision as it is;
    * a date or date-time (ISO 8601, or day-month-year with ``/``, ``-`` or ``.`` and an optional
      ``hh:mm[:ss]``, as spreadsheets write it) is its instant in **epoch milliseconds**; a value without
      an offset is taken in ``zone`` (UTC unless the source configures one), a date alone at midnight;
    * anything else (None, a bool, a negative number, text that is neither) is None: the record has no
      usable revision, which its mapping or the pipeline reports.

    Epoch milliseconds are what a file's own revision is too (its modification time), so a source that
    moves between a revision field and file times compares like with like.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value >= 0 else None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            match = _DMY.fullmatch(text)
            if match is None:
                return None
            d, m, y, hh, mm, ss = (int(g) if g else 0 for g in match.groups())
            try:
                moment = datetime(y, m, d, hh, mm, ss)
            except ValueError:
                return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    millis = int(moment.timestamp() * 1000)
    return millis if millis >= 0 else None
