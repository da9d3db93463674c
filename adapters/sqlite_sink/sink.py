"""The async face of the SQLite warehouse: the ``hub.sink.Sink`` the central consumer writes to."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from adapters.sqlite_sink.store import ApplyResult, SqliteWarehouse
from schemas.envelope import Envelope


class SqliteSink:
    """Writes envelopes to a ``SqliteWarehouse`` off the event loop; ``write`` returns after the commit."""

    name = "sqlite_warehouse"

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.store = SqliteWarehouse(path)

    async def write(self, envelopes: Sequence[Envelope]) -> Sequence[ApplyResult]:
        return await asyncio.to_thread(self.store.apply, envelopes)

    async def close(self) -> None:
        await asyncio.to_thread(self.store.close)
