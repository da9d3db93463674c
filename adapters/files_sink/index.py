"""The files sink's durable index (SQLite in the adapter's state folder): what was written, where.

* ``records``: the newest revision and content hash per ``record_key``, deciding applied / duplicate /
  stale / conflict exactly as the warehouse does;
* ``written``: every idempotency key written, with the files it went to (the audit of who got what);
* ``files``: every file with its **committed** size. Lines are appended and fsynced *before* the index
  commits, so after a crash a file may hold a tail the index does not know; that tail is cut off before
  the file is appended to again, which makes a batch all-or-nothing in the files too.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (record_key TEXT PRIMARY KEY, revision INTEGER NOT NULL,
    content_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS written (idempotency_key TEXT PRIMARY KEY, record_key TEXT NOT NULL,
    revision INTEGER NOT NULL, op TEXT NOT NULL, files TEXT NOT NULL, written_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, schema_name TEXT NOT NULL, fmt TEXT NOT NULL,
    day TEXT NOT NULL, seq INTEGER NOT NULL, bytes INTEGER NOT NULL, lines INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS files_current ON files (schema_name, fmt, day, seq);
"""


@dataclass
class FileState:
    """One output file as committed: relative ``path``, its day and sequence, committed size and lines."""

    path: str
    schema_name: str
    fmt: str
    day: str
    seq: int
    bytes: int
    lines: int


class FilesIndex:
    """Synchronous; the sink calls it from one worker thread at a time (under its lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.executescript(_SCHEMA)

    def current(self, keys: list[str]) -> dict[str, tuple[int, str]]:
        """``record_key -> (revision, content_hash)`` for the given keys that are known."""
        found: dict[str, tuple[int, str]] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT record_key, revision, content_hash FROM records WHERE record_key IN ({marks})"
            found.update({k: (r, h) for k, r, h in self._conn.execute(sql, chunk)})
        return found

    def latest_file(self, schema_name: str, fmt: str) -> FileState | None:
        """The newest file of a schema and format (the one appended to unless it must rotate)."""
        row = self._conn.execute(
            "SELECT * FROM files WHERE schema_name = ? AND fmt = ? ORDER BY day DESC, seq DESC LIMIT 1",
            (schema_name, fmt),
        ).fetchone()
        return None if row is None else FileState(*row)

    def all_files(self) -> list[FileState]:
        """Every file the index knows."""
        return [FileState(*row) for row in self._conn.execute("SELECT * FROM files")]

    def commit(
        self,
        records: dict[str, tuple[int, str]],
        written: list[tuple[str, str, int, str, str, str]],
        files: list[FileState],
    ) -> None:
        """Record one batch in one transaction (fsynced on return)."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO records VALUES (?, ?, ?) ON CONFLICT (record_key) DO UPDATE SET "
                "revision = excluded.revision, content_hash = excluded.content_hash",
                [(k, rev, h) for k, (rev, h) in records.items()],
            )
            conn.executemany("INSERT OR REPLACE INTO written VALUES (?, ?, ?, ?, ?, ?)", written)
            conn.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(f.path, f.schema_name, f.fmt, f.day, f.seq, f.bytes, f.lines) for f in files],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def written_count(self) -> int:
        """How many idempotency keys were written."""
        return int(self._conn.execute("SELECT COUNT(*) FROM written").fetchone()[0])

    def close(self) -> None:
        self._conn.close()
