"""Reading fields of a JSON response: dotted paths, timestamps as epoch ms, and the cursor's order.

Legacy APIs send times as ``2024-01-25 16:02:11`` (no offset: the server's local time), ISO 8601 with or
without an offset, or epoch seconds/milliseconds as numbers or strings. All become epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

_MISSING = object()
# Numbers below this are epoch seconds, above it milliseconds (10^11 s is the year 5138).
_SECONDS_LIMIT = 100_000_000_000


def get_path(data: Any, path: str, default: Any = None) -> Any:
    """The value at a dotted path (``data``, ``meta.next``, ``items.0.id``); ``""`` is ``data`` itself."""
    if not path:
        return data
    node = data
    for step in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(step, _MISSING)
        elif isinstance(node, Sequence) and not isinstance(node, str | bytes) and step.isdigit():
            node = node[int(step)] if int(step) < len(node) else _MISSING
        else:
            return default
        if node is _MISSING:
            return default
    return node


def parse_offset(text: str) -> timezone:
    """``+07:00`` -> a fixed-offset timezone (Indonesia has no daylight saving)."""
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def epoch_ms(value: Any, default_tz: timezone) -> int | None:
    """Epoch milliseconds of a timestamp value, or None if it is missing or not a timestamp."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return _parse_text(text, default_tz)
    else:
        return None
    if number < 0:
        return None
    return int(number * 1000) if number < _SECONDS_LIMIT else int(number)


def _parse_text(text: str, default_tz: timezone) -> int | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return int(moment.timestamp() * 1000)


def format_since(ms: int, fmt: str, tz: timezone) -> str:
    """The since-parameter for a cursor at ``ms``: strftime ``fmt`` in ``tz``, or iso/epoch_s/epoch_ms."""
    if fmt == "epoch_ms":
        return str(ms)
    if fmt == "epoch_s":
        return str(ms // 1000)
    moment = datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz)
    if fmt == "iso":
        return moment.isoformat()
    return moment.strftime(fmt)


def id_order(record_id: str) -> tuple[int, int, str]:
    """Sort key of a record id: numeric ids by value (``"9" < "10"``), others as text after them."""
    if record_id.isdigit():
        return (0, int(record_id), "")
    return (1, 0, record_id)
