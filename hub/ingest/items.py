"""Parsing an ingest request body into ingest items: one JSON object, a JSON array, or NDJSON lines.

Each item wraps one record: ``{"id", "revision", "op"?, "occurred_at"?, "reported_at"?,
"classification"?, "correlation_id"?, "data": {...payload...}}``.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hub.errors import RecordError, SimpulError, ValidationFailed
from hub.ingest.validation import issues_from
from hub.model import codec
from hub.model.records import SourceRecord
from schemas.classification import Classification
from schemas.envelope import SourceIdentity

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})
JSON_TYPES = frozenset({"application/json"})


class BodyError(SimpulError):
    """The body as a whole cannot be read (HTTP 400/415); the message says where, never what."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class IngestItem(BaseModel):
    """One record as sent to ``POST /v1/records/{schema}``."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)

    id: str = Field(min_length=1, max_length=200, description="The record's id in the source system")
    revision: int = Field(ge=0, le=2**62, description="Grows with every change of the record")
    op: Literal["upsert", "withdraw"] = "upsert"
    occurred_at: AwareDatetime | None = None
    reported_at: AwareDatetime | None = None
    classification: Classification | None = None
    correlation_id: str | None = Field(None, max_length=100)
    data: dict[str, Any] = Field(description="The payload in the schema's shape")


def parse_body(body: bytes, content_type: str, max_records: int) -> list[Any]:
    """Split a body into raw items (not yet validated). Raises ``BodyError``."""
    if not body.strip():
        raise BodyError("the body is empty")
    if content_type in NDJSON_TYPES:
        items = []
        for number, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise BodyError(f"line {number} is not valid JSON ({exc.msg})") from None
    elif content_type in JSON_TYPES:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BodyError(f"the body is not valid JSON ({exc.msg} at byte {exc.pos})") from None
        items = parsed if isinstance(parsed, list) else [parsed]
    else:
        raise BodyError("send application/json or application/x-ndjson", status=415)
    if not items:
        raise BodyError("the body holds no records")
    if len(items) > max_records:
        raise BodyError(
            f"{len(items)} records in one request; at most {max_records} are accepted", status=413
        )
    return items


def to_source_record(
    raw: Any, schema_name: str, source: SourceIdentity, schema_version: str | None = None
) -> tuple[SourceRecord, RecordError | None]:
    """Wrap a raw item as a ``SourceRecord``; an item that is not a valid ingest item still becomes a record
    (with the error), so that it can be quarantined and found by its id. ``schema_version`` is the version
    the sender pinned (None: the current one)."""
    try:
        item = IngestItem.model_validate(raw)
    except ValidationError as exc:
        payload = raw if isinstance(raw, dict) else {"item": raw}
        return (
            SourceRecord(
                schema=schema_name,
                schema_version=schema_version,
                raw=payload,
                source=source,
                original=codec.dumps(raw),
                source_record_id=_id_of(raw),
            ),
            ValidationFailed("the item is not a valid ingest record", issues=issues_from(exc)),
        )
    record = SourceRecord(
        schema=schema_name,
        schema_version=schema_version,
        raw=item.data,
        source=source,
        source_record_id=item.id,
        revision=item.revision,
        op=item.op,
        occurred_at=item.occurred_at,
        reported_at=item.reported_at,
        classification=item.classification,
        correlation_id=item.correlation_id,
        # The whole item, id and revision included: what a redrive re-offers, and what makes two
        # quarantined records with equal payloads two entries.
        original=codec.dumps(raw),
    )
    return record, None


def _id_of(raw: Any) -> str | None:
    """The item's id if it has a usable one (so a quarantined malformed item can still be found by id)."""
    rid = raw.get("id") if isinstance(raw, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= 200 else None
