"""The async face of the SQLite warehouse: the ``hub.consume.sink.Sink`` the central consumer writes to."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.sqlite_sink.reader import ReadOnlyTrace, SqliteReader
from adapters.sqlite_sink.store import ApplyResult, SqliteWarehouse
from hub.adapters.model import AdapterContext, AdapterPlugin
from schemas.envelope import Envelope


class SqliteSink:
    """Writes envelopes to a ``SqliteWarehouse`` off the event loop; ``write`` returns after the commit."""

    name = "sqlite_warehouse"

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.store = SqliteWarehouse(path)

    async def start(self) -> None:
        return None

    async def write(self, envelopes: Sequence[Envelope]) -> Sequence[ApplyResult]:
        return await asyncio.to_thread(self.store.apply, envelopes)

    async def trace(self, message_id: str) -> dict[str, Any] | None:
        """``SqliteWarehouse.trace`` off the event loop (lineage)."""
        return await asyncio.to_thread(self.store.trace, message_id)

    async def close(self) -> None:
        await asyncio.to_thread(self.store.close)


class SqliteSinkConfig(BaseModel):
    """Config of the ``sqlite`` sink adapter."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="The warehouse database file (created with its schema if missing)")


def _path(config: SqliteSinkConfig, state_dir: Path) -> Path:
    return config.path if config.path.is_absolute() else state_dir / config.path


def _make(config: SqliteSinkConfig, context: AdapterContext) -> SqliteSink:
    return SqliteSink(_path(config, context.state_dir))


def _feed_reader(config: SqliteSinkConfig, state_dir: Path) -> SqliteReader:
    return SqliteReader(_path(config, state_dir))


def _trace(config: SqliteSinkConfig, state_dir: Path, name: str) -> ReadOnlyTrace | None:
    path = _path(config, state_dir)
    return ReadOnlyTrace(name, path) if path.exists() else None


PLUGIN = AdapterPlugin(
    name="sqlite",
    role="sink",
    summary="A warehouse in one SQLite file: idempotent, newest revision wins, ack after fsync",
    config_model=SqliteSinkConfig,
    factory=_make,
    open_feed_reader=_feed_reader,
    open_trace=_trace,
)
