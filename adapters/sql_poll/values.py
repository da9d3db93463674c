"""Database values -> raw record values: exact numbers, aware instants, JSON-able leftovers.

* ``Decimal`` stays ``Decimal`` (``numeric(16,2)`` -> ``Decimal('1851852000.00')``); a ``float`` column
  (already inexact in the database) becomes the ``Decimal`` of its shortest repr, so no binary float
  reaches a mapping;
* a naive ``datetime`` is read in the source's zone (WIB by default) and made aware; an aware one is
  converted to that zone; ``date`` stays a ``date``;
* MySQL ``TIME`` (a ``timedelta``) becomes ``HH:MM:SS``; bytes become hex; anything else unknown, ``str``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def aware(value: datetime, zone: tzinfo) -> datetime:
    """``value`` with the source zone attached (naive) or converted to it (aware)."""
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def micros(value: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact integer arithmetic)."""
    return (value - _EPOCH) // timedelta(microseconds=1)


def convert(value: Any, zone: tzinfo) -> Any:
    """One column value as it goes into the raw record."""
    if value is None or isinstance(value, bool | int | str | Decimal | date | dict | list):
        if isinstance(value, datetime):
            return aware(value, zone)
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, timedelta) and value >= timedelta(0):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def json_default(value: Any) -> Any:
    """orjson ``default`` for raw records: ``Decimal`` as its exact string."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError
