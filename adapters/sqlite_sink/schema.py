"""The warehouse's SQLite schema and connection settings.

Durability contract: WAL with ``synchronous=FULL`` means a ``COMMIT`` that returned has been fsynced, so
a consumer may ack the deliveries of a batch as soon as ``SqliteWarehouse.apply`` returns.

Change sequence: every row written (inserted or replaced) takes the next ``change_seq`` from the one-row
``change_counter`` table, inside the write transaction. Writers are serialised by ``BEGIN IMMEDIATE``, so
sequence order is commit order, and a reader paging ``WHERE change_seq > cursor`` never skips a row that
commits later (``hub.feeds``). A database from before the column existed is migrated when it is opened.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.errors import FatalError

DDL = """
CREATE TABLE IF NOT EXISTS records (
    record_key       TEXT PRIMARY KEY,
    schema_name      TEXT NOT NULL,
    schema_version   TEXT NOT NULL,
    source_system    TEXT NOT NULL,
    source_record_id TEXT NOT NULL,
    kode_wilayah     TEXT NOT NULL,
    province         TEXT,
    revision         INTEGER NOT NULL,
    idempotency_key  TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    op               TEXT NOT NULL CHECK (op IN ('upsert', 'withdraw')),
    state            TEXT NOT NULL CHECK (state IN ('active', 'withdrawn')),
    content_hash     TEXT NOT NULL,
    payload          TEXT NOT NULL,
    envelope         TEXT NOT NULL,
    occurred_at      TEXT,
    received_at      TEXT NOT NULL,
    applied_at       TEXT NOT NULL,
    change_seq       INTEGER
);
CREATE INDEX IF NOT EXISTS records_schema_province ON records (schema_name, province);
CREATE INDEX IF NOT EXISTS records_kode_wilayah ON records (kode_wilayah);

-- One row per idempotency key ever delivered. first_applied_at is NULL for a key that was never applied
-- (it arrived stale, after a newer revision); deliveries counts every raw delivery of the key, whatever
-- its outcome, so a ledger can compare raw redeliveries with applied records. message_id and trace
-- (origin and hops of the first delivery, rows.trace_json) answer `simpul lineage` for every revision,
-- not only the one in records; no index on message_id: a lineage lookup scans, writes stay cheap.
CREATE TABLE IF NOT EXISTS applied_log (
    idempotency_key  TEXT PRIMARY KEY,
    record_key       TEXT NOT NULL,
    revision         INTEGER NOT NULL,
    first_applied_at TEXT,
    deliveries       INTEGER NOT NULL,
    conflicts        INTEGER NOT NULL,
    last_status      TEXT NOT NULL,
    message_id       TEXT,
    trace            TEXT
);

CREATE TABLE IF NOT EXISTS change_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
"""

# Run after DDL and after a database from before change_seq got the column (see ``migrate``).
CHANGE_INDEX = "CREATE INDEX IF NOT EXISTS records_schema_change ON records (schema_name, change_seq)"

COLUMNS = (
    "record_key",
    "schema_name",
    "schema_version",
    "source_system",
    "source_record_id",
    "kode_wilayah",
    "province",
    "revision",
    "idempotency_key",
    "message_id",
    "op",
    "state",
    "content_hash",
    "payload",
    "envelope",
    "occurred_at",
    "received_at",
    "applied_at",
    "change_seq",
)

# The caller decided (under the write lock) that this row wins, so the conflict branch replaces it whole.
UPSERT_RECORD = (
    f"INSERT INTO records ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    f"ON CONFLICT (record_key) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "record_key")
)

LOG_DELIVERY = """
INSERT INTO applied_log (idempotency_key, record_key, revision, first_applied_at, deliveries, conflicts,
                         last_status, message_id, trace)
VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)
ON CONFLICT (idempotency_key) DO UPDATE SET
    deliveries = deliveries + 1,
    conflicts = conflicts + excluded.conflicts,
    first_applied_at = COALESCE(first_applied_at, excluded.first_applied_at),
    last_status = excluded.last_status,
    message_id = COALESCE(message_id, excluded.message_id),
    trace = COALESCE(trace, excluded.trace)
"""

SELECT_TRACE = (
    "SELECT idempotency_key, record_key, revision, first_applied_at, deliveries, conflicts, last_status, "
    "trace FROM applied_log WHERE message_id = ?"
)

# json_each keeps the statement text constant whatever the batch size, so the statement cache reuses it.
SELECT_CURRENT = (
    "SELECT record_key, revision, content_hash FROM records "
    "WHERE record_key IN (SELECT value FROM json_each(?))"
)


# Reserves ``n`` sequence numbers; returns the last one (the batch takes last - n + 1 .. last).
NEXT_SEQ = "UPDATE change_counter SET value = value + ? WHERE id = 1 RETURNING value"


def migrate(conn: sqlite3.Connection) -> None:
    """Give a database from before ``change_seq`` the column (existing rows numbered in rowid order),
    its index and the counter, and an applied log from before lineage its ``message_id`` and ``trace``
    columns. Idempotent; one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
        if "change_seq" not in columns:
            conn.execute("ALTER TABLE records ADD COLUMN change_seq INTEGER")
            conn.execute("UPDATE records SET change_seq = rowid")
        conn.execute(CHANGE_INDEX)
        if "message_id" not in {row[1] for row in conn.execute("PRAGMA table_info(applied_log)")}:
            conn.execute("ALTER TABLE applied_log ADD COLUMN message_id TEXT")  # rows before: NULL
            conn.execute("ALTER TABLE applied_log ADD COLUMN trace TEXT")
        conn.execute(
            "INSERT OR IGNORE INTO change_counter (id, value) "
            "SELECT 1, COALESCE(MAX(change_seq), 0) FROM records"
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def open_db(
    path: str | Path, *, busy_timeout_ms: int, cache_mb: int, checkpoint_pages: int
) -> sqlite3.Connection:
    """Open (creating if needed) a warehouse database in WAL mode with fsync on every commit.

    The connection is in autocommit mode (``isolation_level=None``): transactions are explicit
    ``BEGIN IMMEDIATE`` ... ``COMMIT`` so the write lock is held from the first read of a batch.
    ``check_same_thread`` is off because the owner serialises access with its own lock, which lets a
    caller use ``asyncio.to_thread`` (any worker thread) safely.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal" and str(path) != ":memory:":
            raise FatalError(f"warehouse database refused WAL journal mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
        # Record and idempotency keys are hashes, so every batch touches index leaves all over the file:
        # a page cache far above the 2 MB default keeps them in memory between batches.
        conn.execute(f"PRAGMA cache_size = {-1024 * int(cache_mb)}")
        # A batch of 500 writes 1,200-1,600 WAL frames (three indexes with scattered keys), so the default
        # checkpoint every 1,000 frames would run on nearly every commit. Checkpointing less often (WAL up
        # to ~80 MB by default) lets one checkpoint write a hot page once for many batches, and the WAL
        # file is then reused in place: overwriting is cheaper to fsync than growing a file.
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")
        conn.execute(f"PRAGMA journal_size_limit = {int(checkpoint_pages) * 4096 * 2}")
        conn.executescript(DDL)
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn
