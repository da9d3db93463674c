"""The ``updated_since`` cursor: (updated_at in epoch ms, record id), kept in the node's ``StateStore``.

Records are ordered by (updated_at, id); the cursor is the greatest key of all confirmed records. It is
written only from a batch's commit (after the broker confirmed the page) and never moves backwards, even
when a duplicate or out-of-order page commits after a newer one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson

from adapters.rest_poll.fields import id_order
from hub.adapters.state import StateStore

STATE_KEY = "cursor"


@dataclass(frozen=True)
class CursorKey:
    """One record's place in the (updated_at, id) order."""

    updated_ms: int
    record_id: str

    def order(self) -> tuple[int, tuple[int, int, str]]:
        return (self.updated_ms, id_order(self.record_id))

    def after(self, other: CursorKey | None) -> bool:
        """True if this key comes strictly after ``other`` (everything comes after None)."""
        return other is None or self.order() > other.order()


class CursorStore:
    """Loads and advances one adapter's cursor."""

    def __init__(self, state: StateStore, adapter: str) -> None:
        self._state = state
        self._adapter = adapter

    def load(self) -> CursorKey | None:
        """The committed cursor, or None before the first commit."""
        raw = self._state.get(self._adapter, STATE_KEY)
        if raw is None:
            return None
        data = orjson.loads(raw)
        return CursorKey(int(data["updated_ms"]), str(data["id"]))

    async def advance(self, candidate: CursorKey) -> CursorKey:
        """Store ``candidate`` if it is after the stored cursor; returns the cursor now stored."""
        return await asyncio.to_thread(self._advance, candidate)

    def _advance(self, candidate: CursorKey) -> CursorKey:
        current = self.load()
        if current is not None and not candidate.after(current):
            return current  # a duplicate or older page: the cursor never goes backwards
        value = orjson.dumps({"updated_ms": candidate.updated_ms, "id": candidate.record_id})
        self._state.put(self._adapter, STATE_KEY, value.decode())
        return candidate
