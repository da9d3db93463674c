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

The state is written when the record is mapped, before the publish is confirmed: that is safe because
the revision is a function of the stored state and the content, so mapping again after a failed publish
gives the same revision. Keys are hashes of the source record id (an id may be personal).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Protocol

KEY_PREFIX = "content_revision:"


class RevisionStore(Protocol):
    """Where content revisions are kept: ``get(key)`` the stored text or None, ``put(key, value)``."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...


class MemoryRevisions:
    """A revision store in memory (``simpul mapping test``, tests): forgotten when the process ends."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def put(self, key: str, value: str) -> None:
        self._values[key] = value


class _State(Protocol):
    def get(self, adapter: str, key: str) -> str | None: ...

    def put(self, adapter: str, key: str, value: str) -> None: ...


class StateRevisions:
    """A revision store in a source's durable state (a ``StateStore``), scoped by the adapter's name."""

    def __init__(self, state: _State, adapter: str) -> None:
        self._state, self._adapter = state, adapter

    def get(self, key: str) -> str | None:
        return self._state.get(self._adapter, key)

    def put(self, key: str, value: str) -> None:
        self._state.put(self._adapter, key, value)


class ContentRevisions:
    """Revision of a record from its content hash (see the module docstring)."""

    def __init__(self, store: RevisionStore, clock_ms: Callable[[], int] | None = None) -> None:
        self._store = store
        self._clock = clock_ms or (lambda: time.time_ns() // 1_000_000)

    def revision(self, source_record_id: str, content: bytes) -> int:
        """The revision of ``content`` for this record: the stored one if unchanged, else a higher one."""
        key = KEY_PREFIX + hashlib.sha256(source_record_id.encode()).hexdigest()[:32]
        digest = hashlib.sha256(content).hexdigest()[:32]
        stored = self._store.get(key)
        previous = -1
        if stored is not None:
            known_digest, _, known_revision = stored.partition(" ")
            if known_revision.isdigit():
                if known_digest == digest:
                    return int(known_revision)
                previous = int(known_revision)
        revision = max(self._clock(), previous + 1)
        self._store.put(key, f"{digest} {revision}")
        return revision
