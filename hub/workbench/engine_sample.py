"""Reading a sample for the workbench: the adapter's own ``read_sample`` on the bytes in memory, the rows,
their dotted column paths and the header rows the reader found (see ``hub.workbench.engine``).

Imports ``hub.adapters``, ``hub.model``, ``hub.errors``, ``schemas.envelope`` and
``hub.workbench.engine_helpers`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hub.adapters.model import SampleRead
from hub.adapters.registry import get as get_adapter
from hub.errors import ConfigError
from hub.model.records import SourceRecord
from hub.workbench.engine_helpers import _problems
from schemas.envelope import SourceIdentity

KINDS = ("file_drop", "soap", "rest_poll", "webhook", "amqp_source", "sql_poll")
"""Source kinds the workbench can read a sample for."""


@dataclass
class _Read:
    rows: list[dict[str, Any]]
    columns: list[str]
    header_rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


def _read_rows(kind: str, options: dict[str, Any], sample: bytes, filename: str) -> _Read:
    """The adapter's own ``read_sample`` (settings guessed from the sample; ``options`` override them)."""
    read = _sample_read(kind, options, sample, filename, schema="", office="pusat")
    rows = [dict(r.raw) if isinstance(r.raw, dict) else {"value": r.raw} for r in read.records]
    got = _Read(rows, _columns(rows), settings=read.settings)
    got.skipped = [{"where": s.where, "why": s.why} for s in read.skipped]
    for note in read.notes:  # file_drop: "sheet 'Mei': header row(s) [4, 5], 12 data row(s), columns a, b"
        found = _HEADER_NOTE.match(note)
        if found:
            sheet, numbers, columns = found.groups()
            got.header_rows.append(
                {
                    "sheet": sheet,
                    "rows": [int(n) for n in numbers.split(",") if n.strip()],
                    "columns": columns.split(", "),
                }
            )
    return got


_HEADER_NOTE = re.compile(
    r"^(?:sheet '(.*)': )?header row\(s\) \[([\d, ]*)\], \d+ data row\(s\), columns (.*)$"
)


def _sample_read(
    kind: str,
    options: dict[str, Any] | None,
    sample: bytes,
    filename: str,
    *,
    schema: str,
    office: str,
    config: Any = None,
) -> SampleRead:
    """``plugin.read_sample`` on the bytes in memory (never a file). ``options`` are adapter config keys
    laid over the settings the adapter guesses from the sample."""
    if kind not in KINDS:
        raise ConfigError(f"unknown source kind; choose one of {', '.join(KINDS)}", key="kind")
    if not sample:
        raise ConfigError("the sample is empty", key="sample")
    plugin = get_adapter(kind)
    if plugin.read_sample is None:
        raise ConfigError("this adapter cannot read raw samples", key="kind")
    identity = SourceIdentity(system="sample", office=office, adapter="sample")

    def make(raw: Any, **meta: Any) -> SourceRecord:
        return SourceRecord(schema, raw, identity, **meta)

    try:
        if config is None and options:
            guessed = plugin.read_sample(None, sample, name=filename, make=make)
            try:
                config = plugin.config_model.model_validate({**guessed.settings, **options})
            except ValidationError as exc:
                raise ConfigError(_problems(exc, "config"), key="config") from None
        return plugin.read_sample(config, sample, name=filename, make=make)
    except ConfigError as exc:
        if exc.key != filename:
            raise
        # The readers name the file; the page shows the problem next to the sample field, and an error
        # body never repeats a caller-chosen name.
        raise ConfigError(str(exc)[len(filename) + 2 :], key="sample") from None


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    """Dotted paths of the leaves of nested records, in first-seen order (lists count as leaves)."""
    seen: dict[str, None] = {}

    def walk(value: dict[str, Any], prefix: str) -> None:
        for key, inner in value.items():
            if isinstance(inner, dict) and inner:
                walk(inner, f"{prefix}{key}.")
            else:
                seen.setdefault(f"{prefix}{key}", None)

    for row in rows:
        walk(row, "")
    return list(seen)
