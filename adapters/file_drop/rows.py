"""Turning parsed tables into ``SourceRecord`` s: record ids, revisions and the raw dicts.

Identity (documented choice):

* **id**: the configured ``id_columns`` (values joined by ``/``, prefixed by the sheet name with
  ``id_per_sheet``). Without them, ``<first 16 hex of the file's sha256>/<sheet>/<row>``: stable when the
  same file is read again (after a crash), but every new export makes new records, so registers that
  are re-exported should configure an id column (e.g. ``no_skt_sk_ahu``).
* **revision**: the configured ``revision_column`` (``hub.model.records.revision_of``: an integer, or a
  date/time as epoch milliseconds, naive ones in UTC). Without it, the file's modification time in
  milliseconds, taken when the file is first read and kept per digest in the source state: a later
  export of the same register gets a higher revision and wins, while re-reading the same file (crash,
  restart) yields the same revision, so the warehouse sees a duplicate, never a new version. A row whose
  id or revision is missing gets ``None``, which the mapping turns into a quarantined record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from adapters.file_drop.config import FileDropConfig
from adapters.file_drop.readers import ParsedFile
from adapters.file_drop.sniff import UnreadableFile
from adapters.file_drop.table import Cell
from hub.model.records import SourceRecord, revision_of


def check_columns(parsed: ParsedFile, config: FileDropConfig) -> None:
    """``UnreadableFile`` (``missing_columns``) if a configured id or revision column is absent."""
    wanted = [*config.id_columns, *([config.revision_column] if config.revision_column else [])]
    for table in parsed.tables:
        missing = [c for c in wanted if c not in table.columns]
        if missing:
            where = "" if table.sheet is None else f" in sheet {table.sheet!r}"
            raise UnreadableFile(f"configured columns not in the header{where}: {', '.join(missing)}",
                                 reason="missing_columns")  # fmt: skip


def _record_id(
    values: Mapping[str, Cell], sheet: str | None, row: int, digest: str, config: FileDropConfig
) -> str | None:
    if not config.id_columns:
        return "/".join(p for p in (digest[:16], sheet, str(row)) if p is not None)
    parts = [values.get(c) for c in config.id_columns]
    if any(p is None or str(p).strip() == "" for p in parts):
        return None
    rid = "/".join(str(p).strip() for p in parts)
    return f"{sheet}/{rid}" if config.id_per_sheet and sheet is not None else rid


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError


def to_records(
    parsed: ParsedFile,
    *,
    filename: str,
    digest: str,
    revision: int,
    modified_at: datetime,
    config: FileDropConfig,
    make: Callable[..., SourceRecord],
) -> list[SourceRecord]:
    """One record per data row, in file order (sheet by sheet); ``make`` is ``AdapterContext.record``."""
    records: list[SourceRecord] = []
    reported_at = modified_at.astimezone(UTC)
    for table in parsed.tables:
        for row, values in table.rows:
            raw: dict[str, Any] = dict(values)
            if config.meta_keys:
                raw.update({"_file": filename, "_sheet": table.sheet, "_row": row})
            rev = revision_of(values.get(config.revision_column)) if config.revision_column else revision
            records.append(
                make(
                    raw,
                    source_record_id=_record_id(values, table.sheet, row, digest, config),
                    revision=rev,
                    reported_at=reported_at,
                    # The quarantine keeps this (sealed) for redrive; Decimals as exact strings.
                    original=orjson.dumps(raw, default=_json_default),
                )
            )
    return records
