"""The admin audit log: who did what to which thing, when, and how it ended. Append-only SQLite.

Entries name targets (adapter names, quarantine entry ids, filters) and outcomes, never record contents.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

_DDL = """
CREATE TABLE IF NOT EXISTS admin_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, result TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}'
);
"""


class AdminAudit:
    """Records admin actions durably; ``recent`` reads them back newest first."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.executescript(_DDL)
        self._lock = threading.Lock()

    def record(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        target: str,
        result: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one action (committed on return)."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO admin_audit (at, actor, role, action, target, result, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    datetime.now(UTC).isoformat(),
                    actor,
                    role,
                    action,
                    target,
                    result,
                    orjson.dumps(detail or {}).decode(),
                ),
            )

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest actions, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, at, actor, role, action, target, result, detail FROM admin_audit "
                "ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        keys = ("seq", "at", "actor", "role", "action", "target", "result", "detail")
        return [dict(zip(keys, (*row[:7], orjson.loads(row[7])), strict=True)) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
