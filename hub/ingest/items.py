"""Parsing an ingest request body into ingest items: one JSON object, a JSON array, or NDJSON lines.

Each item wraps one record: ``{"id", "revision", "op"?, "occurred_at"?, "reported_at"?,
"classification"?, "correlation_id"?, "data": {...payload...}}``.

Two ways to check items. ``validate_batch`` validates a whole request in one pydantic call, each item
with its payload as the schema's model (``IngestItem`` with ``data`` typed): the common case, where every
item is valid, costs one pass and no per-item model of its own. ``validate_body`` does the same on the
body's bytes (pydantic-core parses and validates in one pass, no dict per item: ~5 us a record less than
orjson's parse and ``validate_batch``); then the items are parsed as dicts only if something asks for
them (``BodyItems``: a record refused later, a quarantine entry). If any item is invalid either answers
None and the caller takes the per-item way (``to_source_record``, then the pipeline's payload check),
which names every issue of every item exactly as it always did: the fast ways never decide an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from hub.errors import RecordError, SimpulError, ValidationFailed
from hub.ingest.issues import issues_from
from hub.model import codec
from hub.model.records import SourceRecord
from schemas.classification import Classification
from schemas.envelope import SourceIdentity
from schemas.registry import SchemaSpec

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
    # The whole item, id and revision included: what a redrive re-offers, and what makes two
    # quarantined records with equal payloads two entries.
    return record_of(item, item.data, schema_name, source, schema_version, original=codec.dumps(raw)), None


def record_of(
    item: IngestItem,
    data: Mapping[str, Any],
    schema_name: str,
    source: SourceIdentity,
    schema_version: str | None = None,
    original: bytes | None = None,
) -> SourceRecord:
    """The ``SourceRecord`` of a valid ingest item whose payload is ``data`` (as sent)."""
    return SourceRecord(
        schema=schema_name,
        schema_version=schema_version,
        raw=data,
        source=source,
        source_record_id=item.id,
        revision=item.revision,
        op=item.op,
        occurred_at=item.occurred_at,
        reported_at=item.reported_at,
        classification=item.classification,
        correlation_id=item.correlation_id,
        original=original,
    )


def _id_of(raw: Any) -> str | None:
    """The item's id if it has a usable one (so a quarantined malformed item can still be found by id)."""
    rid = raw.get("id") if isinstance(raw, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= 200 else None


class _Typed:
    """A schema version's one-call validator of a batch of items, and how deep a valid item can nest."""

    def __init__(self, spec: SchemaSpec) -> None:
        item = create_model(
            f"IngestItem_{spec.name}_{spec.version.replace('.', '_')}",
            __base__=IngestItem,
            data=(spec.model, Field(description="The payload in the schema's shape")),
        )
        self.batch: TypeAdapter[list[IngestItem]] = TypeAdapter(list[item])  # type: ignore[arg-type]
        payload = _schema_depth(spec.model.model_json_schema(), {}, frozenset())
        self.depth = None if payload is None else 1 + payload  # the item object around the payload


_TYPED: dict[str, _Typed] = {}


def _typed_within(spec: SchemaSpec, max_depth: int) -> _Typed | None:
    """The schema version's batch validator, or None if a valid item of it may nest deeper than
    ``max_depth`` (the caller's depth check must see the items first)."""
    typed = _TYPED.get(spec.ref)
    if typed is None:
        typed = _TYPED[spec.ref] = _Typed(spec)
    return None if typed.depth is None or typed.depth > max_depth else typed


def validate_batch(
    items: list[Any], spec: SchemaSpec, context: Mapping[str, object], max_depth: int
) -> list[IngestItem] | None:
    """Every item validated in one call, ``data`` as ``spec.model`` (validated with ``context``, as the
    pipeline would); None if any item is invalid, or if the schema lets a valid item nest deeper than
    ``max_depth`` (then the caller's depth check must see the items first). The caller then checks item
    by item, as before, for the answer naming every issue."""
    typed = _typed_within(spec, max_depth)
    if typed is None:
        return None
    try:
        return typed.batch.validate_python(items, context=dict(context))
    except ValidationError:
        return None


def validate_body(
    body: bytes,
    content_type: str,
    spec: SchemaSpec,
    context: Mapping[str, object],
    max_depth: int,
    max_records: int,
) -> list[IngestItem] | None:
    """``validate_batch`` of a JSON array body, from its bytes; None where ``parse_body`` would refuse the
    body or hold other items (not a JSON array, empty, more than ``max_records``), and wherever
    ``validate_batch`` answers None: the caller then parses the body and goes that way, which says why.
    The types' JSON-number rules are those of ``model_validate_json`` by design (``schemas.types``), so
    both ways give the same payloads (tests/unit/test_http_one_pass.py compares the bytes published)."""
    if content_type not in JSON_TYPES or not body.lstrip().startswith(b"["):
        return None
    # pydantic-core's parser reads NaN and Infinity, which JSON (and orjson, so ``parse_body``) refuses:
    # such a body, or one merely holding those letters in a string, goes the parsed way, which answers
    # it as before. A scan at memchr speed, ~0.1 us a record.
    if b"NaN" in body or b"Infinity" in body:
        return None
    typed = _typed_within(spec, max_depth)
    if typed is None:
        return None
    try:
        items = typed.batch.validate_json(body, context=dict(context))
    except ValidationError:
        return None
    return items if 0 < len(items) <= max_records else None


class BodyItems:
    """A request's items as ``parse_body`` gives them, parsed from the body only when first asked for
    (``validate_body`` validated them without). ``of`` wraps items already parsed."""

    def __init__(self, body: bytes, content_type: str, max_records: int) -> None:
        self._body = body
        self._content_type = content_type
        self._max_records = max_records
        self._items: list[Any] | None = None

    @classmethod
    def of(cls, items: list[Any]) -> BodyItems:
        parsed = cls(b"", "", 0)
        parsed._items = items
        return parsed

    def __getitem__(self, index: int) -> Any:
        if self._items is None:  # the body validated already, so it parses (a BodyError would be a bug)
            self._items = parse_body(self._body, self._content_type, self._max_records)
        return self._items[index]


class ItemPayload(Mapping[str, Any]):
    """The ``data`` of item ``index`` of a request as sent: a ``SourceRecord.raw`` that parses the body
    only if read. The accepted path of a request validated from bytes never reads it (its payload models
    go to the pipeline), a record refused later does (quarantine, evidence)."""

    __slots__ = ("_index", "_items")

    def __init__(self, items: BodyItems, index: int) -> None:
        self._items = items
        self._index = index

    def _data(self) -> Mapping[str, Any]:
        data: Mapping[str, Any] = self._items[self._index]["data"]
        return data

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


def _schema_depth(schema: Any, defs: dict[str, Any], seen: frozenset[str]) -> int | None:
    """How many object/array levels a value valid under JSON Schema ``schema`` can nest (a scalar: 0);
    None if unbounded (a recursive reference, an open object or array, a value of any type)."""
    if not isinstance(schema, dict):
        return None
    defs = {**defs, **schema.get("$defs", {})}
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen or name not in defs:
            return None
        return _schema_depth(defs[name], defs, seen | {name})
    branches = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if branches:
        depths = [_schema_depth(b, defs, seen) for b in branches]
        return None if any(d is None for d in depths) else max(d for d in depths if d is not None)
    kind = schema.get("type")
    if kind in ("string", "integer", "number", "boolean", "null") or "enum" in schema or "const" in schema:
        return 0
    if kind == "array":
        inner = _schema_depth(schema.get("items"), defs, seen)
        return None if inner is None else 1 + inner
    if kind == "object":
        extra = schema.get("additionalProperties", True)
        if extra is not False:
            return None
        depths = [_schema_depth(p, defs, seen) for p in schema.get("properties", {}).values()]
        if any(d is None for d in depths):
            return None
        return 1 + max((d for d in depths if d is not None), default=0)
    return None
