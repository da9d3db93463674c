"""The node's quarantine store: quarantined entries kept in SQLite for listing, counting and redrive.

Synchronous and durable (WAL, ``synchronous=FULL``): the quarantine consumer acks an entry only after
``add`` returned. One internal lock serialises calls, so the hub may drive it from ``asyncio.to_thread``.
It never logs; entries hold only a masked preview and the sealed original.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from hub.errors import FatalError
from hub.quarantine.entry import QuarantineEntry, province_of

Status = Literal["open", "redriven", "discarded"]
STATUSES: tuple[str, ...] = ("open", "redriven", "discarded")

BULK_LIMIT = 10_000
"""At most this many entries are listed for one bulk action (redrive or discard by filter)."""

_DDL = """
CREATE TABLE IF NOT EXISTS quarantine (
    entry_id       TEXT PRIMARY KEY,
    stage          TEXT NOT NULL,
    node           TEXT NOT NULL,
    adapter        TEXT NOT NULL,
    source_system  TEXT NOT NULL,
    schema_name    TEXT,
    kode_wilayah   TEXT,
    province       TEXT,
    reason         TEXT NOT NULL,
    quarantined_at TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'redriven', 'discarded')),
    redriven_at    TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    entry          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_status_time ON quarantine (status, quarantined_at);
CREATE INDEX IF NOT EXISTS quarantine_reason ON quarantine (reason, status);
CREATE INDEX IF NOT EXISTS quarantine_schema ON quarantine (schema_name, status);
CREATE INDEX IF NOT EXISTS quarantine_region ON quarantine (kode_wilayah);
"""
# Added later (lineage): a file from before gets the column when opened; old rows keep NULL.
_MESSAGE_ID_COLUMN = "ALTER TABLE quarantine ADD COLUMN message_id TEXT"
_MESSAGE_ID_INDEX = "CREATE INDEX IF NOT EXISTS quarantine_message_id ON quarantine (message_id)"

# A re-add of a known entry_id inserts nothing, except that an entry already redriven comes back to
# 'open': the same original failed again for the same reason, so it needs an operator once more.
# A 'discarded' entry stays discarded (the operator decided to drop exactly these bytes).
_INSERT = """
INSERT INTO quarantine (entry_id, stage, node, adapter, source_system, schema_name, kode_wilayah, province,
                        reason, quarantined_at, entry, message_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (entry_id) DO UPDATE SET status = 'open' WHERE status = 'redriven'
"""
_KNOWN = "SELECT entry_id FROM quarantine WHERE entry_id IN (SELECT value FROM json_each(?))"


def _ts(value: datetime) -> str:
    """Fixed-width UTC text, so that SQL text comparison orders timestamps correctly."""
    if value.tzinfo is None:
        raise ValueError("quarantine timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class QuarantineStore:
    """Quarantine entries in the SQLite database at ``path`` (created with its schema if missing)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        # Autocommit mode with explicit BEGIN/COMMIT; the lock below makes any-thread use safe.
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal" and str(path) != ":memory:":
                raise FatalError(f"quarantine database refused WAL journal mode (got {mode!r})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.executescript(_DDL)
            if "message_id" not in {row[1] for row in conn.execute("PRAGMA table_info(quarantine)")}:
                conn.execute(_MESSAGE_ID_COLUMN)
            conn.execute(_MESSAGE_ID_INDEX)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._lock = threading.Lock()

    def add(self, entries: Sequence[QuarantineEntry]) -> int:
        """File entries in one durable transaction; returns how many entry ids were new.

        Idempotent by ``entry_id``: a known id is not duplicated (see the module notes on reopening).
        """
        rows = {e.entry_id: e for e in entries}  # also dedupes repeats within the call
        if not rows:
            return 0
        params = [
            (
                e.entry_id,
                e.stage,
                e.node,
                e.adapter,
                e.source_system,
                e.schema_name,
                e.kode_wilayah,
                e.province or province_of(e.kode_wilayah),
                e.reason,
                _ts(e.quarantined_at),
                e.model_dump_json(),
                e.message_id,
            )
            for e in rows.values()
        ]
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                known = conn.execute(_KNOWN, (json.dumps(builtins.list(rows)),)).fetchall()
                conn.executemany(_INSERT, params)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return len(rows) - len(known)

    def list(
        self,
        *,
        schema: str | None = None,
        region_prefix: str | None = None,
        adapter: str | None = None,
        reason: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        status: Status | None = "open",
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[QuarantineEntry]:
        """Entries matching every given filter, oldest first; ``status=None`` means any status.

        ``region_prefix`` matches whole dotted segments: ``"32"`` matches ``32`` and ``32.01.05`` but not
        ``320``. ``since`` is inclusive and ``until`` exclusive (both on ``quarantined_at``).
        """
        where, args = self._where(schema, region_prefix, adapter, reason, since, until, status)
        sql = f"SELECT entry FROM quarantine{where} ORDER BY quarantined_at, entry_id LIMIT ? OFFSET ?"
        with self._lock:
            rows = self._conn.execute(sql, [*args, max(0, int(limit)), max(0, int(offset))]).fetchall()
        return [QuarantineEntry.model_validate_json(text) for (text,) in rows]

    def count(
        self,
        *,
        schema: str | None = None,
        region_prefix: str | None = None,
        adapter: str | None = None,
        reason: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        status: Status | None = "open",
    ) -> int:
        """How many entries match the filters of ``list`` (same meaning, no paging)."""
        where, args = self._where(schema, region_prefix, adapter, reason, since, until, status)
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM quarantine{where}", args).fetchone()[0])

    def get(self, entry_id: str) -> QuarantineEntry | None:
        """One entry by id, whatever its status, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT entry FROM quarantine WHERE entry_id = ?", (entry_id,)
            ).fetchone()
        return None if row is None else QuarantineEntry.model_validate_json(row[0])

    def by_message_id(self, message_id: str) -> builtins.list[tuple[QuarantineEntry, Status]]:
        """Every entry of one record (by its message id), oldest first, with its status."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT entry, status FROM quarantine WHERE message_id = ? ORDER BY quarantined_at, entry_id",
                (message_id,),
            ).fetchall()
        return [(QuarantineEntry.model_validate_json(text), status) for text, status in rows]

    def status_of(self, entry_id: str) -> tuple[Status, int, datetime | None] | None:
        """``(status, redrive attempts, last redriven_at)`` of one entry, or None if unknown."""
        with self._lock:
            row = self._conn.execute(
                "SELECT status, attempts, redriven_at FROM quarantine WHERE entry_id = ?", (entry_id,)
            ).fetchone()
        if row is None:
            return None
        return row[0], int(row[1]), None if row[2] is None else datetime.fromisoformat(row[2])

    def counts_by_reason(self, status: Status | None = "open") -> dict[str, int]:
        """Number of entries per reason code (of one status, or of all with ``status=None``)."""
        where, args = self._where(None, None, None, None, None, None, status)
        sql = f"SELECT reason, COUNT(*) FROM quarantine{where} GROUP BY reason ORDER BY reason"
        with self._lock:
            return {reason: int(n) for reason, n in self._conn.execute(sql, args)}

    def mark(self, entry_id: str, status: Status, *, at: datetime | None = None) -> bool:
        """Set an entry's status; returns False if the id is unknown.

        Marking ``redriven`` stamps ``redriven_at`` (``at``, default now) and counts one more attempt.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown quarantine status {status!r}")
        stamp = _ts(at or datetime.now(UTC))
        if status == "redriven":
            sql = (
                "UPDATE quarantine SET status = ?, redriven_at = ?, attempts = attempts + 1 "
                "WHERE entry_id = ?"
            )
            args: tuple[str, ...] = (status, stamp, entry_id)
        else:
            sql, args = "UPDATE quarantine SET status = ? WHERE entry_id = ?", (status, entry_id)
        with self._lock:
            # A single statement in autocommit mode is its own durable transaction.
            return self._conn.execute(sql, args).rowcount == 1

    def close(self) -> None:
        """Close the database. Everything ``add`` returned for is already durable."""
        with self._lock:
            self._conn.close()

    @staticmethod
    def _where(
        schema: str | None,
        region_prefix: str | None,
        adapter: str | None,
        reason: str | None,
        since: datetime | None,
        until: datetime | None,
        status: str | None,
    ) -> tuple[str, builtins.list[str]]:
        clauses: builtins.list[str] = []
        args: builtins.list[str] = []
        for column, value in (("schema_name", schema), ("adapter", adapter), ("reason", reason)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        if region_prefix:
            prefix = region_prefix.rstrip(".")
            clauses.append("(kode_wilayah = ? OR kode_wilayah LIKE ? ESCAPE '\\')")
            args += [prefix, _like_escape(prefix) + ".%"]
        if since is not None:
            clauses.append("quarantined_at >= ?")
            args.append(_ts(since))
        if until is not None:
            clauses.append("quarantined_at < ?")
            args.append(_ts(until))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args
