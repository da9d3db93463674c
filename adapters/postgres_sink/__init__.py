"""``postgres``: the central warehouse sink on PostgreSQL (asyncpg).

One ``records`` row per record with typed columns for consumers (schema, region, period, status, times)
and the JSONB payload, plus a ``ledger`` view with delivery counts per idempotency key (the records rows,
and an ``applied_log`` of what they cannot say: ``migrations``). The revision
rules are those of the SQLite warehouse (``adapters.sqlite_sink``), whose row serialisation (canonical
payload, content hash, lineage record) it shares. See ``adapters.postgres_sink.sink`` for the write
contract (``batch`` decides a write's results, ``statements`` holds its SQL, ``rows`` makes its rows) and
``reader`` for how the feeds, completeness and ``simpul lineage`` read it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.postgres_sink.config import PostgresSinkConfig
from adapters.postgres_sink.reader import PostgresReader
from adapters.postgres_sink.sink import PostgresSink
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> PostgresSink:
    return PostgresSink(config, name=context.name)


def _feed_reader(config: PostgresSinkConfig, state_dir: Path) -> PostgresReader:
    return PostgresReader(config)


def _trace(config: PostgresSinkConfig, state_dir: Path, name: str) -> PostgresReader:
    return PostgresReader(config, name=name)


PLUGIN = AdapterPlugin(
    name="postgres",
    role="sink",
    summary="PostgreSQL warehouse: idempotent revision-aware upserts, JSONB payload, typed columns",
    config_model=PostgresSinkConfig,
    factory=_make,
    open_feed_reader=_feed_reader,
    open_trace=_trace,
)

__all__ = ["PLUGIN", "PostgresSink", "PostgresSinkConfig"]
