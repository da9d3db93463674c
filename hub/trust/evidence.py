"""The evidence log: a hash chain of every record the central consumer accepted or rejected. SQLite.

Each entry holds message id, office, key id, schema, decision, reason and time; never a payload, never a
NIK. ``hash = sha256(prev_hash || canonical(entry))`` where the entry includes its own sequence number,
so ``verify_chain`` names the first entry that was modified (its hash no longer matches), deleted (a gap
in the sequence, and the next entry's ``prev_hash`` no longer matches) or reordered (sequence or
``prev_hash`` out of place). Cutting entries off the end leaves a valid shorter chain: compare the head
(``simpul audit verify`` prints it) with a copy kept elsewhere, via ``--expect-head SEQ:HASH``.

Entries are appended in one transaction per consumer group, before the group is acked, so a record the
broker may forget has its evidence on disk.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import structlog

log = structlog.get_logger(__name__)
GENESIS = "0" * 64
_DDL = """
CREATE TABLE IF NOT EXISTS evidence (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, message_id TEXT, office TEXT, key_id TEXT, schema_name TEXT,
    decision TEXT NOT NULL, reason TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
"""
_FIELDS = ("seq", "at", "message_id", "office", "key_id", "schema_name", "decision", "reason")


@dataclass(frozen=True)
class Evidence:
    """One decision about one record (``decision``: accepted, quarantined, dead_lettered)."""

    message_id: str | None
    office: str | None
    key_id: str | None
    schema_name: str | None
    decision: str
    reason: str | None = None


def entry_hash(prev_hash: str, fields: Sequence[object]) -> str:
    """The chain hash of one entry: sha256 over the previous hash and the entry's canonical JSON."""
    return hashlib.sha256(prev_hash.encode() + orjson.dumps(list(fields))).hexdigest()


class EvidenceLog:
    """Appends hash-chained entries; safe to call from worker threads (one lock)."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(path)
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.executescript(_DDL)
        self._lock = threading.Lock()

    def append(self, entries: Iterable[Evidence], at: datetime | None = None) -> tuple[int, str]:
        """Append entries in one transaction (committed on return); returns and logs the new head."""
        stamp = (at or datetime.now(UTC)).isoformat()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT seq, hash FROM evidence ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (row[0], row[1]) if row else (0, GENESIS)
                rows = []
                for e in entries:
                    seq += 1
                    fields = (
                        seq,
                        stamp,
                        e.message_id,
                        e.office,
                        e.key_id,
                        e.schema_name,
                        e.decision,
                        e.reason,
                    )
                    digest = entry_hash(prev, fields)
                    rows.append((*fields, prev, digest))
                    prev = digest
                self._conn.executemany("INSERT INTO evidence VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        log.info("evidence_appended", entries=len(rows), head=f"{seq}:{prev}")
        return seq, prev

    def decisions(self) -> list[tuple[str, str | None]]:
        """(decision, reason) of every entry in order (for tests and quick looks)."""
        with self._lock:
            rows = self._conn.execute("SELECT decision, reason FROM evidence ORDER BY seq").fetchall()
        return [(str(d), r) for d, r in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM evidence").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chain`` found: entries checked, the head, and problems naming entries."""

    entries: int
    head_seq: int
    head_hash: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(path: str | Path, expect_head: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain in ``seq`` order and report every entry that breaks it."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT seq, at, message_id, office, key_id, schema_name, decision, reason, prev_hash, hash "
            "FROM evidence ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    problems: list[str] = []
    prev, expected_seq = GENESIS, 1
    for row in rows:
        seq, stored_prev, stored_hash = row[0], row[8], row[9]
        if seq != expected_seq:
            problems.append(f"entry {seq}: entries {expected_seq}..{seq - 1} are missing (deleted)")
        if stored_prev != prev:
            problems.append(f"entry {seq}: does not follow the entry before it (deleted or reordered)")
        if entry_hash(stored_prev, row[:8]) != stored_hash:
            problems.append(f"entry {seq}: content does not match its hash (modified)")
        prev, expected_seq = stored_hash, seq + 1
    head = (rows[-1][0], rows[-1][9]) if rows else (0, GENESIS)
    if expect_head is not None:
        seq, digest = expect_head
        hashes = {row[0]: row[9] for row in rows}
        if seq > head[0]:
            problems.append(f"entries after {head[0]} up to {seq} are missing (the log was cut short)")
        elif hashes.get(seq) != digest:
            problems.append(f"entry {seq}: does not carry the expected head hash (rewritten)")
    return ChainReport(len(rows), head[0], head[1], problems)


def fields_of(row: Sequence[object]) -> dict[str, object]:
    """A row as a dict of the hashed fields (for listings)."""
    return dict(zip(_FIELDS, row, strict=False))
