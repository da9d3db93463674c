"""From one upstream message body to source records.

A body is JSON: one record (an object) or several (an array), optionally under ``records_path``. Each
record's identity comes from configured dotted paths, so a redelivered message yields the same ids and
revisions, and the hub's deterministic envelope identity makes the re-publish a harmless duplicate.

A body or record that cannot be read is **not dropped**: it becomes a record without identity whose
``raw`` says what is wrong (``{"_unreadable": "..."}``) and whose ``original`` is the message body, so
the mapping fails and the pipeline quarantines it (sealed original, redrivable); then the message is
acked like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from adapters.amqp_source.config import AmqpSourceConfig
from hub.model.records import SourceRecord, revision_of


def lookup(data: Any, path: str | None) -> Any:
    """The value at dotted ``path`` in nested dicts (None when absent); the data itself for no path."""
    if path is None:
        return data
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _unreadable(
    make: Callable[..., SourceRecord], body: bytes, why: str, message_id: str | None
) -> SourceRecord:
    return make({"_unreadable": why}, original=body, correlation_id=message_id)


def records_from(
    body: bytes, config: AmqpSourceConfig, make: Callable[..., SourceRecord], message_id: str | None = None
) -> list[SourceRecord]:
    """The source records of one message body (never empty: an unreadable body is one bad record);
    ``make`` is ``AdapterContext.record``."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return [_unreadable(make, body, f"body is not JSON ({exc.msg} at byte {exc.pos})", message_id)]
    found = lookup(data, config.records_path)
    items = found if isinstance(found, list) else [found]
    if not items:
        return [_unreadable(make, body, "the message holds an empty list of records", message_id)]
    records = []
    for position, item in enumerate(items):
        payload = lookup(item, config.payload_path) if isinstance(item, dict) else None
        if not isinstance(payload, dict):
            what = "a record" if isinstance(item, dict) else f"item {position}"
            records.append(_unreadable(make, body, f"{what} is not a JSON object where expected", message_id))
            continue
        rid = lookup(item, config.id_path)
        op = lookup(item, config.op_path) if config.op_path else None
        records.append(
            make(
                payload,
                source_record_id=str(rid) if isinstance(rid, str | int) and str(rid) else None,
                revision=revision_of(lookup(item, config.revision_path)) if config.revision_path else None,
                op="withdraw" if op is not None and str(op) in config.withdraw_values else "upsert",
                correlation_id=message_id,
            )
        )
    return records
