"""The ``files_sink``: writes envelopes to NDJSON and/or CSV files per schema, rotated by day and/or size,
fsynced before ``write`` returns, and idempotent on redelivery through a small durable SQLite index.

See ``adapters.files_sink.sink`` (outcomes), ``writer`` (names, rotation, crash repair), ``columns``
(line formats) and ``index`` (what is remembered).
"""

from __future__ import annotations

from typing import Any

from adapters.files_sink.config import FilesSinkConfig
from adapters.files_sink.sink import FilesSink
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> FilesSink:
    return FilesSink(config, context)


PLUGIN = AdapterPlugin(
    name="files_sink",
    role="sink",
    summary="Appends envelopes to NDJSON/CSV files per schema (rotated, fsynced, deduplicated)",
    config_model=FilesSinkConfig,
    factory=_make,
)

__all__ = ["PLUGIN", "FilesSink", "FilesSinkConfig"]
