"""``file_drop``: a source that watches a folder for CSV and XLSX files (polling, no inotify).

Regional offices export their registers and recaps as files; this adapter reads them with the habits of
real exports in mind (encodings, delimiters, title rows, two-row headers with merged cells, one sheet per
month, totals and signature blocks; see ``adapters.file_drop.table``). Every data row becomes a raw
record; a file moves to ``done/`` only once all its rows are confirmed or quarantined, and an unreadable
file moves to ``failed/`` with a report saying why.
"""

from __future__ import annotations

from typing import Any

from adapters.file_drop.config import FileDropConfig
from adapters.file_drop.sample import read_sample
from adapters.file_drop.source import FileDropSource
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> FileDropSource:
    return FileDropSource(config, context)


PLUGIN = AdapterPlugin(
    name="file_drop",
    role="source",
    summary="Watches a folder for CSV/XLSX files; rows become records, files move to done/ or failed/",
    config_model=FileDropConfig,
    factory=_make,
    read_sample=read_sample,
)

__all__ = ["PLUGIN", "FileDropConfig", "FileDropSource"]
