"""Content-derived revisions (``revision = { from_content = true }``) for sources without a change stamp.

Why: the sink keeps the highest revision of a record and treats an equal revision with other content as a
conflict (quarantined at consume). A SOAP or PHP source without ``updated_at`` therefore cannot give a
constant revision: its record's later status change would arrive under the same revision and be refused.

How: the mapper hashes what it made of the record (payload, op, occurred_at) and keeps, per source record
id, the hash and the revision it got, in the source's state (``hub.adapters.state.StateStore``, through
:class:`StateRevisions`). The same content keeps its revision, so a re-read or a retried batch is a
duplicate at the sink, never a conflict. Changed content gets a higher revision: the time it was first
seen in epoch milliseconds, and always above the previous one, so a node whose state was lost still moves
forward (a re-sent unchanged record then merely gets a new revision with equal content; a counter starting
again at 1 would instead be dropped as stale).

New revisions are kept in memory as records are mapped and written to the state in one transaction per
batch (``flush``, called by the pipeline after mapping a batch; one fsync per batch, not per record: a
first read of 1,000 records cost 2.2 s of blocked event loop with a write per record). Writing before the
publish is confirmed is safe because the revision is a function of the stored state and the content, so
mapping again after a failed publish gives the same revision. Losing unwritten state (a crash) is safe too:
those records are sent once more under a new, higher revision with equal content, an update at the sink,
never a conflict. Keys are hashes of the source record id (an id may be personal).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Protocol

KEY_PREFIX = "content_revision:"
_FLUSH_AT = 5_000


class RevisionStore(Protocol):
    """Where content revisions are kept: ``get(key)`` the stored text or None; ``put_many`` stores
    several at once (one transaction)."""

    def get(self, key: str) -> str | None: ...

    def put_many(self, values: dict[str, str]) -> None: ...


class MemoryRevisions:
    """A revision store in memory (``simpul mapping test``, tests): forgotten when the process ends."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def put_many(self, values: dict[str, str]) -> None:
        self._values.update(values)


class _State(Protocol):
    def get(self, adapter: str, key: str) -> str | None: ...

    def put_many(self, adapter: str, values: dict[str, str]) -> None: ...


class StateRevisions:
    """A revision store in a source's durable state (a ``StateStore``), scoped by the adapter's name."""

    def __init__(self, state: _State, adapter: str) -> None:
        self._state, self._adapter = state, adapter

    def get(self, key: str) -> str | None:
        return self._state.get(self._adapter, key)

    def put_many(self, values: dict[str, str]) -> None:
        self._state.put_many(self._adapter, values)


class ContentRevisions:
    """Revision of a record from its content hash (see the module docstring)."""

    def __init__(self, store: RevisionStore, clock_ms: Callable[[], int] | None = None) -> None:
        self._store = store
        self._clock = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._pending: dict[str, str] = {}  # new revisions not yet written (see flush)

    def flush(self) -> None:
        """Write the revisions given since the last flush to the store, in one transaction."""
        if self._pending:
            pending, self._pending = self._pending, {}
            self._store.put_many(pending)

    def revision(self, source_record_id: str, content: bytes) -> int:
        """The revision of ``content`` for this record: the stored one if unchanged, else a higher one."""
        key = KEY_PREFIX + hashlib.sha256(source_record_id.encode()).hexdigest()[:32]
        digest = hashlib.sha256(content).hexdigest()[:32]
        stored = self._pending.get(key) or self._store.get(key)
        previous = -1
        if stored is not None:
            known_digest, _, known_revision = stored.partition(" ")
            if known_revision.isdigit():
                if known_digest == digest:
                    return int(known_revision)
                previous = int(known_revision)
        revision = max(self._clock(), previous + 1)
        self._pending[key] = f"{digest} {revision}"
        if len(self._pending) >= _FLUSH_AT:  # a caller that never flushes still keeps memory bounded
            self.flush()
        return revision
