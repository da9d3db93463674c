"""What a warehouse sink may offer so the hub can read it back, and the rows it reads.

A sink plugin (``hub.adapters.model.AdapterPlugin``) that keeps a warehouse may offer two hooks:
``open_feed_reader`` gives a ``WarehouseReader`` (the ministry's feeds and reporting completeness read
through it), ``open_trace`` a ``TraceReader`` (``simpul lineage`` offline). The hub finds them through the
registry by the sink's name, so it never imports a sink package.

Paging is keyset paging on a row's *change position* ``(seq, record_key)``, which every applied write
moves past all earlier ones: SQLite's ``change_seq`` (taken under the single write lock, so in commit
order) or PostgreSQL's ``change_txid`` (the writing transaction's id, read only below the reader's
snapshot ``xmin``, so no transaction that could still commit is behind a position already returned).
Hence, under concurrent writes, a reader that follows ``next`` positions sees every row exactly once per
change: nothing skipped, nothing repeated. A row rewritten by a newer revision moves to the end and is
seen again, as the change it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from hub.errors import RequestError

_CURSOR = re.compile(r"^(\d{1,20})-([0-9a-f]{1,64})$")


@dataclass(frozen=True, order=True)
class Position:
    """Where a row stands in the change order; ``str()`` is the opaque cursor clients hold."""

    seq: int
    record_key: str

    def __str__(self) -> str:
        return f"{self.seq}-{self.record_key}"


START = Position(0, "")
"""Before every row."""


def parse_cursor(text: str) -> Position:
    """A position from a cursor string; ``RequestError`` (400) if it is not one this API gave out."""
    match = _CURSOR.match(text.strip())
    if match is None:
        raise RequestError("cursor is not one this API gave out")
    return Position(int(match.group(1)), match.group(2))


@dataclass(frozen=True)
class ScanFilter:
    """What a page scan selects in the database; everything else is filtered by the caller.

    ``regions``: kode wilayah prefixes (a row matches one by equality or as a descendant), empty = all.
    ``classifications``: the envelope classifications allowed, empty = none (nothing matches).
    ``changed_since``: rows applied at or after this instant.
    """

    schema: str
    classifications: tuple[str, ...]
    regions: tuple[str, ...] = ()
    changed_since: datetime | None = None


@dataclass(frozen=True)
class FeedRow:
    """One warehouse row as the feeds read it; ``payload`` and ``envelope`` (without payload) decoded."""

    position: Position
    schema_name: str
    schema_version: str
    kode_wilayah: str
    revision: int
    op: str
    state: str
    payload: dict[str, Any]
    envelope: dict[str, Any]
    applied_at: datetime


@dataclass(frozen=True)
class ReportRow:
    """What completeness needs of one active record: region, payload (for its period), times.

    ``first_applied_at`` is when the warehouse first applied any revision of the record.
    """

    record_key: str
    kode_wilayah: str
    payload: dict[str, Any]
    occurred_at: datetime | None
    reported_at: datetime | None
    first_applied_at: datetime | None = field(default=None)


class WarehouseReader(Protocol):
    """Reads the warehouse. Connects lazily on first use; errors reaching the database raise
    ``hub.errors.SinkUnavailable``."""

    async def scan(self, where: ScanFilter, after: Position, limit: int) -> list[FeedRow]:
        """Up to ``limit`` rows after ``after`` in change order, each committed and final (see above)."""
        ...

    async def tail(self, schema: str) -> Position:
        """The position of the newest row of ``schema`` (``START`` if none): where /live begins."""
        ...

    async def report_rows(self, schema: str) -> list[ReportRow]:
        """Every active (not withdrawn) record of ``schema``, for completeness."""
        ...

    async def close(self) -> None: ...


class TraceReader(Protocol):
    """What a warehouse knows of one delivered record, for ``simpul lineage`` (``hub.admin.lineage``):
    ``trace(message_id)`` returns the applied-log entry (status, revision, first applied, deliveries,
    stored revision and state, and the lineage ``trace``) or None. Read-only; ``close`` releases it."""

    name: str

    async def trace(self, message_id: str) -> dict[str, Any] | None: ...

    async def close(self) -> None: ...


def parse_instant(value: object) -> datetime | None:
    """An aware datetime from a warehouse value (ISO text or datetime); naive values are taken as UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        instant = value
    elif isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
