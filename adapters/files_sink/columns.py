"""What a line looks like: NDJSON (the whole envelope) and CSV (metadata plus the payload's top-level
scalar fields, taken from the schema's model so every file of a schema has the same header)."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Sequence
from typing import Any

from hub.model import codec
from schemas.catalog import get as get_schema
from schemas.envelope import Envelope

META_COLUMNS = (
    "op",
    "revision",
    "source_record_id",
    "record_key",
    "idempotency_key",
    "message_id",
    "schema_version",
    "kode_wilayah",
    "source_system",
    "received_at",
)
_SCALARS = {"string", "integer", "number", "boolean", "null"}


def _is_scalar(prop: dict[str, Any], defs: dict[str, Any]) -> bool:
    if "$ref" in prop:
        prop = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
    for key in ("anyOf", "oneOf", "allOf"):
        if key in prop:
            return all(_is_scalar(p, defs) for p in prop[key])
    if "enum" in prop or "const" in prop:
        return True
    kind = prop.get("type")
    return kind in _SCALARS if isinstance(kind, str) else False


@functools.cache
def payload_columns(schema_name: str) -> tuple[str, ...]:
    """The top-level scalar fields of the schema's payload, in declaration order."""
    js = get_schema(schema_name).model.model_json_schema()
    defs = js.get("$defs", {})
    return tuple(name for name, prop in js.get("properties", {}).items() if _is_scalar(prop, defs))


def header(schema_name: str, delimiter: str) -> bytes:
    """The CSV header line of a schema's files."""
    return _row([*META_COLUMNS, *payload_columns(schema_name)], delimiter)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return codec.dumps(value).decode()
    return str(value)


def _row(values: Sequence[Any], delimiter: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow([_cell(v) for v in values])
    return out.getvalue().encode("utf-8")


def csv_line(envelope: Envelope, delimiter: str) -> bytes:
    """One CSV line: metadata, then the payload's scalar columns (empty when absent)."""
    meta = [
        envelope.op,
        envelope.revision,
        envelope.source_record_id,
        envelope.record_key,
        envelope.idempotency_key,
        envelope.message_id,
        envelope.schema_version,
        envelope.kode_wilayah,
        envelope.source.system,
        envelope.received_at.isoformat(),
    ]
    payload = envelope.payload
    return _row([*meta, *(payload.get(c) for c in payload_columns(envelope.schema_name))], delimiter)


def ndjson_line(envelope: Envelope) -> bytes:
    """One NDJSON line: the whole envelope (``op`` and ``revision`` included)."""
    return codec.dumps(envelope.model_dump(mode="json")) + b"\n"
