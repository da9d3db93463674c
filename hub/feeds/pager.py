"""One page of a feed: scan the warehouse in change order, keep the rows that match, stop at ``limit``.

Most filters run in the database (``ScanFilter``); the period filter needs the record's anchor
(``hub.completeness.periods``) and runs here, so a page may scan more rows than it returns. A scan stops
after ``max_scan`` rows even if the page is not full; ``next`` is then the last row scanned, so the next
page continues exactly there and nothing is skipped or repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.adapters.warehouse import FeedRow, Position, ScanFilter, WarehouseReader, parse_instant
from hub.completeness.periods import Period, anchor_of


@dataclass(frozen=True)
class Page:
    """Items in change order; ``next`` is where the following page starts (the last row scanned, or
    the position asked for when nothing was scanned); ``more`` says the scan stopped before the end."""

    items: list[dict[str, Any]]
    next: Position
    more: bool


def in_period(row: FeedRow, period: Period) -> bool:
    """The record is about ``period`` (its payload's period, else its local date: see periods)."""
    anchor = anchor_of(
        row.payload,
        row.kode_wilayah,
        parse_instant(row.envelope.get("occurred_at")),
        parse_instant(row.envelope.get("reported_at")),
    )
    return anchor is not None and anchor.within(period)


async def read_page(
    reader: WarehouseReader,
    where: ScanFilter,
    after: Position,
    limit: int,
    view: Callable[[FeedRow], dict[str, Any]],
    *,
    period: Period | None = None,
    max_scan: int = 10_000,
) -> Page:
    """The page after ``after``: at most ``limit`` items (see the module docstring)."""
    items: list[dict[str, Any]] = []
    position = after
    scanned = 0
    batch = max(limit, 100) if period is not None else limit + 1  # one extra row tells "more"
    while True:
        want = min(batch, max_scan - scanned)
        rows = await reader.scan(where, position, want)
        for index, row in enumerate(rows, start=1):
            position = row.position
            scanned += 1
            if period is not None and not in_period(row, period):
                continue
            items.append(view(row))
            if len(items) >= limit:
                # More may follow unless this was the last row of a batch that came back short.
                return Page(items, position, index < len(rows) or len(rows) == want)
        if len(rows) < want or scanned >= max_scan:
            return Page(items, position, scanned >= max_scan)
