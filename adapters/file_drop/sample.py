"""``file_drop`` reading a raw sample: the same ``read_file``, ``check_columns`` and ``to_records`` the
source runs on a dropped file, so ``simpul mapping test|propose`` see exactly the rows the node offers.

Differences from a real drop, by necessity: the revision (without ``revision_column``) is the read time in
ms instead of the file's modification time, and ``reported_at`` is the read time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePath

from adapters.file_drop.config import FileDropConfig
from adapters.file_drop.readers import read_file
from adapters.file_drop.rows import check_columns, to_records
from adapters.file_drop.sniff import UnreadableFile
from hub.adapters.model import SampleRead, SkippedRow
from hub.errors import ConfigError
from hub.model.records import SourceRecord


def read_sample(
    config: FileDropConfig | None, data: bytes, *, name: str, make: Callable[..., SourceRecord]
) -> SampleRead:
    """The records of a CSV/XLSX sample as the source would offer them, and every row it passed over."""
    stem = PurePath(name).stem.lower().replace(" ", "_") or "inbox"
    suffix = PurePath(name).suffix.lower() or ".csv"
    cfg = config or FileDropConfig(path=Path(f"/srv/simpul/inbox/{stem}"), patterns=[f"*{suffix}"])
    try:
        parsed = read_file(data, name, cfg)
        check_columns(parsed, cfg)
    except UnreadableFile as exc:  # the message names the rule that failed, never a cell
        raise ConfigError(f"file_drop cannot read the sample: {exc} ({exc.reason})", key=name) from None
    records = to_records(
        parsed,
        filename=name,
        digest=hashlib.sha256(data).hexdigest(),
        revision=time.time_ns() // 1_000_000,
        modified_at=datetime.now(UTC),
        config=cfg,
        make=make,
    )
    skipped = [
        SkippedRow(f"row {row}" if table.sheet is None else f"sheet {table.sheet}, row {row}", why)
        for table in parsed.tables
        for row, why in table.skipped
    ]
    notes = [
        f"{'sheet ' + repr(t.sheet) + ': ' if t.sheet else ''}header row(s) {list(t.header_at)}, "
        f"{len(t.rows)} data row(s), columns {', '.join(t.columns)}"
        for t in parsed.tables
    ]
    if parsed.encoding:
        notes.append(f"CSV read as {parsed.encoding} with delimiter {parsed.delimiter!r}")
    settings = {"path": str(cfg.path), "patterns": cfg.patterns}
    if config is not None:
        settings = config.model_dump(mode="json", exclude_defaults=True)
    return SampleRead(records, skipped, settings, notes)
