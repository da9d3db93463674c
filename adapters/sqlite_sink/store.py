"""The central warehouse: applies envelopes idempotently, the newest revision of each record winning.

``SqliteWarehouse`` is synchronous and owns one SQLite connection; an internal lock serialises calls, so
it may be driven from ``asyncio.to_thread``. It never logs, and its errors never carry payload values.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from adapters.sqlite_sink import schema
from adapters.sqlite_sink.rows import PreparedRow, prepare
from hub.consume.sink import ApplyStatus, judge
from schemas.envelope import Envelope


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The outcome of one envelope in a batch.

    ``applied``: it is now the stored row. ``duplicate``: the same revision with the same content was
    already stored. ``conflict``: the same revision was stored with different content; nothing changed and
    the caller should quarantine it. ``stale``: a higher revision is stored; nothing changed.
    """

    idempotency_key: str
    record_key: str
    status: ApplyStatus


class SqliteWarehouse:
    """The warehouse database at ``path`` (created with its schema if missing).

    Rules per record (``record_key``): a higher revision replaces the row; a ``withdraw`` op stores the
    row as ``withdrawn`` at its revision, so an older upsert arriving later is ``stale`` and cannot
    resurrect it (a newer upsert does re-activate it: the newest revision always wins). The stored row is
    always the winning envelope, a withdrawal's own payload included.

    ``cache_mb`` is SQLite's page cache and ``checkpoint_pages`` the WAL size (in 4 KiB pages) that
    triggers a checkpoint; both are tuned for throughput (see ``schema.open_db``).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        cache_mb: int = 64,
        checkpoint_pages: int = 20_000,
    ) -> None:
        self._conn = schema.open_db(
            path, busy_timeout_ms=busy_timeout_ms, cache_mb=cache_mb, checkpoint_pages=checkpoint_pages
        )
        self._lock = threading.Lock()

    def apply(self, envelopes: Sequence[Envelope]) -> list[ApplyResult]:
        """Apply a batch in order, in one transaction; returns one result per envelope, in order.

        When this returns, the batch is committed and fsynced: the caller may ack its deliveries. On any
        exception nothing of the batch is stored (rolled back) and the exception propagates: do not ack.
        """
        if not envelopes:
            return []
        # Serialise outside the transaction: it is the slow pure-Python part, and a bad payload fails
        # here before anything is written.
        rows = [prepare(e) for e in envelopes]
        applied_at = datetime.now(UTC).isoformat()
        with self._lock:
            conn = self._conn
            # IMMEDIATE takes the write lock before reading current revisions, so no other writer can
            # change a row between the decision below and the write.
            conn.execute("BEGIN IMMEDIATE")
            try:
                results, winners, log = _decide(conn, rows, applied_at)
                if winners:
                    # Sequence numbers are taken under the write lock, so their order is commit order.
                    last = conn.execute(schema.NEXT_SEQ, (len(winners),)).fetchone()[0]
                    first = last - len(winners) + 1
                    conn.executemany(
                        schema.UPSERT_RECORD,
                        [(*r.values, applied_at, first + i) for i, r in enumerate(winners.values())],
                    )
                conn.executemany(schema.LOG_DELIVERY, log)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return results

    def count(self, schema_name: str | None = None, state: str | None = None) -> int:
        """How many records are stored, optionally of one schema and/or one state."""
        sql, args = "SELECT COUNT(*) FROM records WHERE 1 = 1", list[str]()
        if schema_name is not None:
            sql, args = sql + " AND schema_name = ?", [*args, schema_name]
        if state is not None:
            sql, args = sql + " AND state = ?", [*args, state]
        with self._lock:
            return int(self._conn.execute(sql, args).fetchone()[0])

    def get(self, record_key: str) -> dict[str, Any] | None:
        """The stored row of one record, with ``payload`` and ``envelope`` decoded, or None."""
        with self._lock:
            cur = self._conn.execute("SELECT * FROM records WHERE record_key = ?", (record_key,))
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        if row is None:
            return None
        out = dict(zip(names, row, strict=True))
        out["payload"] = orjson.loads(out["payload"])
        out["envelope"] = orjson.loads(out["envelope"])
        return out

    def trace(self, message_id: str) -> dict[str, Any] | None:
        """What this warehouse knows of one delivered record (``simpul lineage``); see ``read_trace``."""
        with self._lock:
            return read_trace(self._conn, message_id)

    def applied_keys(self) -> set[str]:
        """Every idempotency key that was applied at least once (for end-to-end ledger checks)."""
        with self._lock:
            sql = "SELECT idempotency_key FROM applied_log WHERE first_applied_at IS NOT NULL"
            cur = self._conn.execute(sql)
            return {k for (k,) in cur}

    def delivery_counts(self) -> dict[str, int]:
        """Raw deliveries per idempotency key, whatever their outcome (applied, duplicate, stale...)."""
        with self._lock:
            return dict(self._conn.execute("SELECT idempotency_key, deliveries FROM applied_log"))

    def close(self) -> None:
        """Close the connection. Committed batches are already durable."""
        with self._lock:
            self._conn.close()


LogRow = tuple[str, str, int, str | None, int, str, str, str]


def _decide(
    conn: sqlite3.Connection, rows: list[PreparedRow], applied_at: str
) -> tuple[list[ApplyResult], dict[str, PreparedRow], list[LogRow]]:
    """Classify each row against the stored state, updated as the batch goes (a record may repeat).

    Returns the results, the winning row per record key to write, and the delivery-log rows.
    """
    keys = orjson.dumps(list({r.record_key for r in rows})).decode()
    current: dict[str, tuple[int, str]] = {
        k: (rev, h) for k, rev, h in conn.execute(schema.SELECT_CURRENT, (keys,))
    }
    results: list[ApplyResult] = []
    winners: dict[str, PreparedRow] = {}
    log: list[LogRow] = []
    for r in rows:
        status = judge(current.get(r.record_key), r.revision, r.content_hash)
        if status == "applied":
            current[r.record_key] = (r.revision, r.content_hash)
            winners[r.record_key] = r
        results.append(ApplyResult(r.idempotency_key, r.record_key, status))
        first_applied = applied_at if status == "applied" else None
        conflicts = int(status == "conflict")
        log.append(
            (
                r.idempotency_key,
                r.record_key,
                r.revision,
                first_applied,
                conflicts,
                status,
                r.message_id,
                r.trace,
            )
        )
    return results, winners, log


def read_trace(conn: sqlite3.Connection, message_id: str) -> dict[str, Any] | None:
    """What a warehouse knows of one delivered record, or None if it never arrived: its outcome (last
    status, first applied, deliveries), the origin and hops kept in the applied log, and whether it is
    still the stored revision. Scans the applied log. Works on a read-only connection too."""
    row = conn.execute(schema.SELECT_TRACE, (message_id,)).fetchone()
    if row is None:
        return None
    current = conn.execute("SELECT revision, state FROM records WHERE record_key = ?", (row[1],)).fetchone()
    key, record_key, revision, first_applied, deliveries, conflicts, status, trace = row
    return {
        "idempotency_key": key,
        "record_key": record_key,
        "revision": revision,
        "status": status,
        "first_applied_at": first_applied,
        "deliveries": deliveries,
        "conflicts": conflicts,
        "stored_revision": None if current is None else current[0],
        "stored_state": None if current is None else current[1],
        "trace": orjson.loads(trace) if trace else None,
    }
