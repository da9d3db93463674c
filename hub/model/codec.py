"""The wire format: an AMQP message body is a JSON array of envelopes sharing one routing key.

One record per message is simply an array of one. Records are serialised once, when they are wrapped,
and a batch body is those bytes joined: batching costs no re-serialisation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson

CONTENT_TYPE = "application/vnd.simpul.batch+json"
FORMAT_HEADER = "x-simpul-format"
FORMAT = "envelopes/1"
COUNT_HEADER = "x-simpul-count"


def join_batch(items: Sequence[bytes]) -> bytes:
    """A JSON array from already-serialised JSON objects."""
    return b"[" + b",".join(items) + b"]"


def group_id(message_ids: Sequence[str]) -> str:
    """The message id of a batch: its only record's id, or a hash of its records' ids (deterministic,
    so a republished identical batch carries the same id)."""
    if len(message_ids) == 1:
        return message_ids[0]
    return hashlib.sha256("|".join(message_ids).encode()).hexdigest()[:32]


def split_batch(body: bytes) -> list[dict[str, Any]]:
    """Parse a batch body into envelope dicts. Raises ValueError if it is not a JSON array of objects."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON ({exc.msg} at byte {exc.pos})") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError("body is not a JSON array of envelope objects")
    return data


def dumps(obj: Any) -> bytes:
    """Serialise to compact JSON bytes (datetimes keep their offset)."""
    return orjson.dumps(obj)
