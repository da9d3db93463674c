"""The evidence log: a hash chain of every record the central consumer accepted or rejected. SQLite.

Each entry holds office, key id, schema, decision, reason and time, and the record(s) it speaks for: one
message id (a quarantine, a dead-letter, a refusal at ingest: one entry each), or, for records accepted
together, ``covers``: the JSON list of their message ids, in order, with ``roots``: the JSON list of the
Merkle roots (hex) whose verified signatures covered them (for a record signed alone, its leaf hash). The
consumer writes one such batch entry per group and (office, key, schema, outcome). Never a payload, never
a NIK.

``hash = sha256(prev_hash || canonical(entry))`` where the entry includes its own sequence number, so
``verify_chain`` names the first entry that was modified (its hash no longer matches: this includes any
covered id changed, removed, added or moved within ``covers``), deleted (a gap in the sequence, and the
next entry's ``prev_hash`` no longer matches) or reordered (sequence or ``prev_hash`` out of place).
Cutting entries off the end leaves a valid shorter chain: compare the head (``simpul audit verify``
prints it) with a copy kept elsewhere, via ``--expect-head SEQ:HASH``.

Hash versions (column ``version``): an entry about one record has none (NULL), exactly as every entry
was written before batch entries existed, and hashes ``[seq, at, message_id, office, key_id, schema_name,
decision, reason]``; a batch entry is version 2 and hashes ``["evidence/2", seq, ..., reason, covers,
roots]`` (the tag keeps the two forms apart). A log from before is migrated in place by adding the
columns; its entries keep verifying as they were written. Changing an entry's version, or giving a
version-1 entry ``covers``, changes how it hashes, so that is caught like any modification.

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
VERSION = 2
_V2_TAG = "evidence/2"
_DDL = """
CREATE TABLE IF NOT EXISTS evidence (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, message_id TEXT, office TEXT, key_id TEXT, schema_name TEXT,
    decision TEXT NOT NULL, reason TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
    version INTEGER, covers TEXT, roots TEXT
);
"""
_ADDED = (("version", "INTEGER"), ("covers", "TEXT"), ("roots", "TEXT"))  # since hash version 2
_FIELDS = ("seq", "at", "message_id", "office", "key_id", "schema_name", "decision", "reason")
_ROW = "seq, at, message_id, office, key_id, schema_name, decision, reason, prev_hash, hash"
_INSERT = f"INSERT INTO evidence ({_ROW}, version, covers, roots) VALUES ({', '.join('?' * 13)})"


@dataclass(frozen=True)
class Evidence:
    """One decision (``decision``: accepted, quarantined, dead_lettered) about one record
    (``message_id``) or, with ``covers``, about the records whose message ids it lists, in order
    (``roots``: the Merkle roots, hex, of the signatures that covered them)."""

    message_id: str | None
    office: str | None
    key_id: str | None
    schema_name: str | None
    decision: str
    reason: str | None = None
    covers: tuple[str, ...] | None = None
    roots: tuple[str, ...] | None = None


def entry_hash(prev_hash: str, fields: Sequence[object]) -> str:
    """The chain hash of a version-1 entry (no ``version``): sha256 over the previous hash and the
    entry's canonical JSON."""
    return hashlib.sha256(prev_hash.encode() + orjson.dumps(list(fields))).hexdigest()


def entry_hash_v2(prev_hash: str, fields: Sequence[object], covers: str | None, roots: str | None) -> str:
    """The chain hash of a version-2 entry: as ``entry_hash`` over the tag, the eight fields and the
    ``covers`` and ``roots`` JSON texts exactly as stored."""
    return hashlib.sha256(prev_hash.encode() + orjson.dumps([_V2_TAG, *fields, covers, roots])).hexdigest()


class EvidenceLog:
    """Appends hash-chained entries; safe to call from worker threads (one lock)."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(path)
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.executescript(_DDL)
        present = {row[1] for row in self._conn.execute("PRAGMA table_info(evidence)")}
        for column, kind in _ADDED:  # a log written before hash version 2
            if column not in present:
                self._conn.execute(f"ALTER TABLE evidence ADD COLUMN {column} {kind}")
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
                rows: list[tuple[object, ...]] = []
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
                    if e.covers is None and e.roots is None:  # one record: as written before version 2
                        digest = entry_hash(prev, fields)
                        rows.append((*fields, prev, digest, None, None, None))
                    else:
                        covers = orjson.dumps(list(e.covers or ())).decode()
                        roots = orjson.dumps(list(e.roots or ())).decode()
                        digest = entry_hash_v2(prev, fields, covers, roots)
                        rows.append((*fields, prev, digest, VERSION, covers, roots))
                    prev = digest
                self._conn.executemany(_INSERT, rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        log.info("evidence_appended", entries=len(rows), head=f"{seq}:{prev}")
        return seq, prev

    def decisions(self) -> list[tuple[str, str | None]]:
        """(decision, reason) per record, in order: a batch entry counts once for every id it covers
        (for tests and quick looks)."""
        with self._lock:
            rows = self._conn.execute("SELECT decision, reason, covers FROM evidence ORDER BY seq").fetchall()
        out: list[tuple[str, str | None]] = []
        for decision, reason, covers in rows:
            out.extend([(str(decision), reason)] * (1 if covers is None else len(orjson.loads(covers))))
        return out

    def count(self) -> int:
        """Records the log speaks for (a batch entry counts each id it covers)."""
        return len(self.decisions())

    def entries(self) -> int:
        """Entries in the chain."""
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
    records: int = 0  # the records the entries speak for (a batch entry: each id it covers)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(path: str | Path, expect_head: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain in ``seq`` order and report every entry that breaks it."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        present = {row[1] for row in conn.execute("PRAGMA table_info(evidence)")}
        # A log nobody has opened since hash version 2 has no such columns: all its entries are version 1.
        added = ", ".join(column if column in present else "NULL" for column, _ in _ADDED)
        rows = conn.execute(f"SELECT {_ROW}, {added} FROM evidence ORDER BY seq").fetchall()
    finally:
        conn.close()
    problems: list[str] = []
    prev, expected_seq, records = GENESIS, 1, 0
    for row in rows:
        seq, stored_prev, stored_hash, version = row[0], row[8], row[9], row[10]
        if seq != expected_seq:
            problems.append(f"entry {seq}: entries {expected_seq}..{seq - 1} are missing (deleted)")
        if stored_prev != prev:
            problems.append(f"entry {seq}: does not follow the entry before it (deleted or reordered)")
        if version is None and row[11] is None and row[12] is None:
            digest: str | None = entry_hash(stored_prev, row[:8])
        elif version == VERSION:
            digest = entry_hash_v2(stored_prev, row[:8], row[11], row[12])
        else:
            digest = None  # an unknown version, or covers on a version-1 entry: not written by us
        if digest != stored_hash:
            problems.append(f"entry {seq}: content does not match its hash (modified)")
        records += 1 if row[11] is None else _count(row[11])
        prev, expected_seq = stored_hash, seq + 1
    head = (rows[-1][0], rows[-1][9]) if rows else (0, GENESIS)
    if expect_head is not None:
        seq, digest_ = expect_head
        hashes = {row[0]: row[9] for row in rows}
        if seq > head[0]:
            problems.append(f"entries after {head[0]} up to {seq} are missing (the log was cut short)")
        elif hashes.get(seq) != digest_:
            problems.append(f"entry {seq}: does not carry the expected head hash (rewritten)")
    return ChainReport(len(rows), head[0], head[1], problems, records)


def _count(covers: str) -> int:
    try:
        ids = orjson.loads(covers)
    except orjson.JSONDecodeError:
        return 0  # a mangled entry: already reported as modified
    return len(ids) if isinstance(ids, list) else 0


def covered(path: str | Path, message_id: str) -> list[int]:
    """The sequence numbers of the entries that speak for ``message_id`` (its own entries and the batch
    entries whose ``covers`` lists it), for an auditor's look-up."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        present = {row[1] for row in conn.execute("PRAGMA table_info(evidence)")}
        if "covers" not in present:
            rows = conn.execute("SELECT seq, message_id, NULL FROM evidence ORDER BY seq").fetchall()
        else:
            rows = conn.execute("SELECT seq, message_id, covers FROM evidence ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [
        seq
        for seq, own, covers in rows
        if own == message_id or (covers is not None and message_id in orjson.loads(covers))
    ]


def fields_of(row: Sequence[object]) -> dict[str, object]:
    """A row as a dict of the hashed fields (for listings)."""
    return dict(zip(_FIELDS, row, strict=False))
