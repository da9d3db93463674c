"""Durable source state: cursors, high-water marks and processed items, per adapter, in SQLite.

Adapters write here only from their ``SourceBatch.commit`` callbacks, i.e. after the broker confirmed
every record of the batch, so the state never runs ahead of what is safe. Writes are fsynced.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (adapter TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), PRIMARY KEY (adapter, key));
CREATE TABLE IF NOT EXISTS processed (adapter TEXT NOT NULL, item TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), PRIMARY KEY (adapter, item));
"""


class StateStore:
    """Key-value cursors and a processed-items set, both scoped by adapter name. Thread-safe."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def get(self, adapter: str, key: str) -> str | None:
        """The stored value, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM cursors WHERE adapter = ? AND key = ?", (adapter, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def put(self, adapter: str, key: str, value: str) -> None:
        """Store ``value`` durably (committed and fsynced on return)."""
        self.put_many(adapter, {key: value})

    def put_many(self, adapter: str, values: dict[str, str]) -> None:
        """Store several values durably in one transaction (one fsync, not one per value)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT INTO cursors (adapter, key, value) VALUES (?, ?, ?) ON CONFLICT (adapter, key) "
                    "DO UPDATE SET value = excluded.value, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
                    [(adapter, key, value) for key, value in values.items()],
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def mark_processed(self, adapter: str, item: str) -> None:
        """Remember that ``item`` (a file digest, an event id) was fully handled."""
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO processed (adapter, item) VALUES (?, ?)", (adapter, item)
            )

    def is_processed(self, adapter: str, item: str) -> bool:
        """True if ``item`` was marked processed for ``adapter``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM processed WHERE adapter = ? AND item = ?", (adapter, item)
            ).fetchone()
        return row is not None

    def close(self) -> None:
        with self._lock:
            self._conn.close()
