"""``sql_poll`` reading rows from a CSV export of the table (phpMyAdmin, DBeaver, ``mysql -e`` output), or
live from the configured database (the poll's own first-page query with ``LIMIT``): each row goes through
the source's own ``row_record``, so a sample maps as the node would.

A CSV has no column types, so values are given the shape the database driver gives them where the text
says it unambiguously: ``NULL`` / ``\\N`` / an empty cell -> None; ``YYYY-MM-DD HH:MM:SS`` -> a naive
datetime (made aware in ``source_timezone`` as the source does); ``YYYY-MM-DD`` -> a date; MySQL's zero
dates (``0000-00-00``) stay text, as the MySQL driver returns them (a mapping lists them in none_values);
everything else stays text (an INT column arrives as digits; the mapping's parsers read both). The change
time is the later of updated_at and deleted_at, as the poll query computes it; a row without one would
sort first (the query's epoch fallback) and is read as such. Text is UTF-8 (BOM or not), else
Windows-1252; the delimiter is whichever of ``;``, ``,``, tab splits the header line most. A JSON export
(an array of row objects) is read too.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from adapters.sql_poll import clients, query
from adapters.sql_poll.config import SqlPollConfig
from adapters.sql_poll.source import row_record
from adapters.sql_poll.values import aware
from hub.adapters.model import SampleRead, SkippedRow
from hub.errors import ConfigError, FatalError, SourceUnavailable
from hub.model.records import SourceRecord

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH = datetime(1970, 1, 1)  # the query's fallback for a missing change time (naive, in the source zone)
_UPDATED = re.compile(r"updated|modified|diubah|diperbarui|tgl_update|last_update|changed", re.I)
_DELETED = re.compile(r"deleted|dihapus|tgl_hapus", re.I)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def typed(text: str) -> Any:
    """A CSV cell as the driver would return the column value (see the module docstring)."""
    value = text.strip()
    if value in ("", "NULL", "\\N"):
        return None
    if value.startswith("0000-00-00"):
        return value
    if _DATETIME.fullmatch(value):
        return datetime.fromisoformat(value.replace(" ", "T"))
    if _DATE.fullmatch(value):
        return date.fromisoformat(value)
    return value


def table_rows(data: bytes) -> list[dict[str, Any]]:
    """The rows of a CSV table export, typed (header: the column names); a JSON export (an array of
    row objects, as phpMyAdmin or ``psql --json`` write it) is read as well, its text cells typed."""
    text = _decode(data)
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"the JSON table export is not valid JSON (line {exc.lineno})") from None
        if not rows or not all(isinstance(r, dict) for r in rows):
            raise ConfigError("a JSON table export is a non-empty array of row objects")
        return [{k: typed(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((";", ",", "\t"), key=first.count)
    rows = [
        r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if any(c.strip() for c in r)
    ]
    if len(rows) < 2:
        raise ConfigError("the table export needs a header row and at least one row")
    header = [c.strip() for c in rows[0]]
    return [{name: typed(cell) for name, cell in zip(header, row, strict=False)} for row in rows[1:]]


def _changed(row: dict[str, Any], config: SqlPollConfig) -> datetime:
    stamps = [row.get(config.updated_at_column)]
    if config.deleted_at_column:
        stamps.append(row.get(config.deleted_at_column))
    moments = [s if isinstance(s, datetime) else datetime.combine(s, datetime.min.time())
               for s in stamps if isinstance(s, date)]  # fmt: skip
    return max((aware(m, config.tz) for m in moments), default=aware(_EPOCH, config.tz))


async def _first_page(config: SqlPollConfig, limit: int) -> list[dict[str, Any]]:
    client = await clients.connect(config)
    try:
        sql, params = query.build(config).params(None, limit)
        return await client.fetch(sql, params)
    finally:
        await client.close()


def read_live(config: SqlPollConfig, limit: int, make: Callable[..., SourceRecord]) -> SampleRead:
    """The poll's own first page (``LIMIT limit``) from the configured database, read-only, through the
    source's ``row_record``. Runs its own event loop in a worker thread (callable from sync code and from
    inside a running loop alike)."""
    with ThreadPoolExecutor(1) as pool:
        try:
            rows = pool.submit(asyncio.run, _first_page(config, limit)).result()
        except (FatalError, SourceUnavailable) as exc:  # messages name the config, never row values
            raise ConfigError(f"sql_poll cannot read the database: {exc}") from None
    records = [row_record(row, config, make) for row in rows]
    settings = config.model_dump(mode="json", exclude_defaults=True, exclude={"password"})
    return SampleRead(
        records, [], settings, [f"{len(records)} row(s) of the poll's first page (LIMIT {limit})"]
    )


def read_sample(
    config: SqlPollConfig | None, data: bytes, *, name: str, make: Callable[..., SourceRecord]
) -> SampleRead:
    """The records of a table export as the poll would offer them, in the poll's order; with the name
    ``live:N`` (and a config), the poll's first N rows from the database itself (:func:`read_live`)."""
    if name.startswith("live:"):
        if config is None or not name[5:].isdigit():
            raise ConfigError("a live read needs the source's config and a row count (live:N)")
        return read_live(config, int(name[5:]), make)
    rows = table_rows(data)
    columns = list(rows[0])
    settings: dict[str, Any]
    if config is None:
        key = next((c for c in columns if c.lower() == "id"), None)
        key = key or next(
            (c for c in columns if c.lower().endswith("_id") or c.lower().startswith("id_")), columns[0]
        )
        settings = {
            "engine": "mysql",
            "user": "simpul_reader",
            "database": "TODO",
            "table": re.sub(r"[^A-Za-z0-9_]", "_", name.rsplit(".", 1)[0]) or "TODO",
            "key_column": key,
            "updated_at_column": next((c for c in columns if _UPDATED.search(c)), "TODO_updated_at"),
        }
        deleted = next((c for c in columns if _DELETED.search(c)), None)
        if deleted:
            settings["deleted_at_column"] = deleted
        config = SqlPollConfig.model_validate(settings)
    else:
        settings = config.model_dump(mode="json", exclude_defaults=True, exclude={"password"})
    skipped: list[SkippedRow] = []
    records: list[tuple[datetime, str, SourceRecord]] = []
    for number, row in enumerate(rows, start=2):
        if row.get(config.key_column) is None:
            skipped.append(SkippedRow(f"row {number}", "no_key (the key column is empty)"))
            continue
        changed = _changed(row, config)
        record = row_record({**row, query.CHANGED: changed}, config, make)
        records.append((changed, str(row[config.key_column]), record))
    records.sort(key=lambda t: (t[0], t[1]))  # the poll's ORDER BY change time, key
    zero = sum(1 for _, _, r in records if r.reported_at is None)
    notes = [f"{len(records)} row(s) of {len(columns)} column(s)"]
    if zero:
        notes.append(f"{zero} row(s) without a change time: the poll reads them first, with revision 0")
    return SampleRead([r for _, _, r in records], skipped, settings, notes)
